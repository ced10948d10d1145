"""What a demanding user gets wrong, in real Blender against the emulator: each mistake is refused
with a clear message before anything is spent, or put right without losing the task."""

import os
import re
import shutil
from pathlib import Path

import bpy
import pytest

from . import test_addon_flow as flow
from .test_addon_flow import add_suzanne, module, object_state

pytestmark = pytest.mark.blender
rodin, reference, uploads = flow.rodin, flow.reference, flow.uploads  # fixtures


@pytest.fixture
def prefs(addon):
    return bpy.context.preferences.addons[addon.__name__].preferences


def assert_nothing_sent_or_changed(emulator, uploads, before):
    assert emulator.requests == []
    assert {obj.name: object_state(obj) for obj in bpy.data.objects} == before
    assert list(uploads.iterdir()) == [], "no staged upload is left behind"


def test_a_results_folder_that_is_a_file_is_refused_before_submitting(
    rodin,
    emulator,
    reference,
    uploads,
    prefs,
    tmp_path,
):
    add_suzanne()
    a_file = tmp_path / "results"
    a_file.write_text("a file, not a folder")
    prefs.results_folder = str(a_file)
    before = {obj.name: object_state(obj) for obj in bpy.data.objects}

    said = f"Results folder: {a_file} is a file, not a folder"
    with pytest.raises(RuntimeError, match=re.escape(said)):
        bpy.ops.rodin_texture.generate()

    assert_nothing_sent_or_changed(emulator, uploads, before)
    assert a_file.read_text() == "a file, not a folder"


def test_a_relative_results_folder_in_an_unsaved_file_is_refused(
    rodin,
    emulator,
    reference,
    uploads,
    prefs,
    tmp_path,
    monkeypatch,
):
    add_suzanne()
    monkeypatch.chdir(tmp_path)  # where a relative folder would land
    prefs.results_folder = "//rodin_out"
    before = {obj.name: object_state(obj) for obj in bpy.data.objects}

    with pytest.raises(RuntimeError, match=r"relative to the \.blend file: save the file first"):
        bpy.ops.rodin_texture.generate()

    assert_nothing_sent_or_changed(emulator, uploads, before)
    assert list(tmp_path.iterdir()) == []


def test_a_job_whose_folder_went_bad_moves_to_the_current_results_folder(
    rodin,
    emulator,
    reference,
    prefs,
    tmp_path,
):
    source = add_suzanne()
    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
    state = source.rodin_texture
    first = Path(state.result_folder)
    assert state.status == "done" and Path(state.model_path).is_relative_to(first)
    shutil.rmtree(first)
    first.write_text("the old folder is a file now")
    prefs.results_folder = str(tmp_path / "new results")

    assert bpy.ops.rodin_texture.download() == {"FINISHED"}

    assert state.status == "done", state.message
    assert state.result_folder == str(tmp_path / "new results")
    assert Path(state.model_path).is_relative_to(tmp_path / "new results")
    assert Path(state.model_path).is_file()
    assert emulator.submit_count == 1


def test_an_empty_image_path_is_refused(rodin, addon, emulator, uploads):
    api = module(addon, "blender.api")
    source = add_suzanne()
    before = {obj.name: object_state(obj) for obj in bpy.data.objects}
    said = "The image path is empty: give an image file, or pick an image in the panel"

    with pytest.raises(RuntimeError, match=said):
        bpy.ops.rodin_texture.generate(image_path="")
    with pytest.raises(api.TextureError, match=said):
        api.texture_objects([source], "")

    assert_nothing_sent_or_changed(emulator, uploads, before)


def test_an_object_given_twice_is_one_task(rodin, addon, emulator, reference_image):
    api = module(addon, "blender.api")
    source = add_suzanne()

    results = api.texture_objects([source, source], reference_image, apply_mode="NEW_OBJECT")

    assert results == [source.rodin_texture.result_object]
    assert emulator.submit_count == 1
    assert [obj.name for obj in bpy.data.objects] == ["Suzanne", "Suzanne_rodin"]


def test_a_results_folder_that_cannot_be_written_is_refused(
    rodin,
    emulator,
    reference,
    uploads,
    prefs,
    tmp_path,
):
    if os.geteuid() == 0:
        under_a_file = tmp_path / "a file"
        under_a_file.write_text("")
        folder = under_a_file / "results"  # no permission stops root; a file in the way does
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        folder = locked / "results"
    add_suzanne()
    prefs.results_folder = str(folder)
    before = {obj.name: object_state(obj) for obj in bpy.data.objects}

    with pytest.raises(RuntimeError, match=re.escape(f"Results folder: cannot write in {folder}")):
        bpy.ops.rodin_texture.generate()

    assert_nothing_sent_or_changed(emulator, uploads, before)
