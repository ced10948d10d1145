"""What a demanding user gets wrong, in real Blender against the emulator: each mistake is refused
with a clear message before anything is spent, or put right without losing the task."""

import io
import os
import re
import shutil
import time
from pathlib import Path

import bpy
import numpy as np
import PIL.Image
import pytest
from rodin_emulator import Fault

from . import scenes
from . import test_addon_flow as flow
from .test_addon_flow import add_suzanne, module, object_state, object_states

pytestmark = pytest.mark.blender
rodin, reference, uploads = flow.rodin, flow.reference, flow.uploads  # fixtures


@pytest.fixture
def prefs(addon):
    return bpy.context.preferences.addons[addon.__name__].preferences


def assert_nothing_sent_or_changed(emulator, uploads, before):
    assert emulator.requests == []
    assert object_states() == before
    assert list(uploads.iterdir()) == [], "no staged upload is left behind"


def _folder_is_a_file(tmp_path):
    a_file = tmp_path / "results"
    a_file.write_text("a file, not a folder")
    return str(a_file), re.escape(f"Results folder: {a_file} is a file, not a folder")


def _relative_folder_in_an_unsaved_file(tmp_path):
    return "//rodin_out", r"relative to the \.blend file: save the file first"


def _folder_that_cannot_be_written(tmp_path):
    if os.geteuid() == 0:
        under_a_file = tmp_path / "a file"
        under_a_file.write_text("")
        folder = under_a_file / "results"  # no permission stops root; a file in the way does
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        folder = locked / "results"
    return str(folder), re.escape(f"Results folder: cannot write in {folder}")


FOLDER_MISTAKES = {
    "a file": _folder_is_a_file,
    "relative in an unsaved file": _relative_folder_in_an_unsaved_file,
    "cannot be written": _folder_that_cannot_be_written,
}


@pytest.mark.parametrize("mistake", FOLDER_MISTAKES)
def test_a_results_folder_that_cannot_hold_results_is_refused_before_submitting(
    rodin, emulator, reference, uploads, prefs, tmp_path, monkeypatch, mistake
):
    add_suzanne()
    monkeypatch.chdir(tmp_path)  # where a relative folder would land
    prefs.results_folder, said = FOLDER_MISTAKES[mistake](tmp_path)
    files_before, before = folder_contents(tmp_path), object_states()

    with pytest.raises(RuntimeError, match=said):
        bpy.ops.rodin_texture.generate()

    assert_nothing_sent_or_changed(emulator, uploads, before)
    assert folder_contents(tmp_path) == files_before, "no folder made, no file changed"


def folder_contents(folder):
    """Every path under ``folder`` with its bytes (None for a folder)."""
    return {path: path.read_bytes() if path.is_file() else None for path in folder.rglob("*")}


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
    before = object_states()
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


def duplicate(obj):
    """Shift-D, as the user does it."""
    scenes.select_only(obj, active=obj)
    assert bpy.ops.object.duplicate() == {"FINISHED"}
    bpy.context.view_layer.update()
    return bpy.context.active_object


def test_a_copy_made_mid_job_carries_no_job_and_the_original_gets_its_result(
    rodin, emulator, reference, tmp_path
):
    source = flow.submitted_job(rodin, emulator)

    copy = duplicate(source)

    assert copy.name == "Suzanne.001" and copy.rodin_texture.job_id == ""
    assert copy.rodin_texture.status == "idle" and copy.rodin_texture.task_uuid == ""
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    rodin.session.shutdown()  # as if Blender had closed

    objects = flow.reopen(path)
    original = objects["Suzanne"]
    emulator.finish_generating()
    flow.pump_until(rodin, lambda: original.rodin_texture.status == "done", "result")
    rodin.results.finish_done_jobs(every=True)

    assert original.rodin_texture.result_object is not None
    assert objects["Suzanne.001"].rodin_texture.status == "idle"
    assert emulator.submit_count == 1


def test_a_copy_of_a_textured_object_does_not_claim_its_result(rodin, emulator, reference):
    source = add_suzanne()
    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
    result = source.rodin_texture.result_object

    copy = duplicate(source)

    assert copy.rodin_texture.result_object is None and copy.rodin_texture.task_uuid == ""
    assert source.rodin_texture.result_object == result
    assert source.rodin_texture.status == "done"


def test_a_copy_from_a_script_is_told_apart_when_it_is_resumed(rodin, emulator, reference):
    source = flow.submitted_job(rodin, emulator)
    copy = source.copy()  # no depsgraph update yet: the copy still carries the job
    bpy.context.collection.objects.link(copy)
    rodin.session.shutdown()

    with pytest.raises(rodin.errors.UserError, match="has no submitted task to resume"):
        rodin.following.resume_job(bpy.context, copy)
    assert copy.rodin_texture.job_id == "" and source.rodin_texture.task_uuid


def test_a_renamed_object_keeps_its_job(rodin, emulator, reference):
    source = flow.submitted_job(rodin, emulator, generating_seconds=1)
    source.name = "Hero"
    copy = duplicate(source)

    flow.pump_until(rodin, lambda: source.rodin_texture.status == "done", "result")

    assert copy.rodin_texture.job_id == "" and source.rodin_texture.owner == "Hero"
    assert emulator.submit_count == 1


def status_requests(emulator):
    return sum(r.path.endswith("/status") for r in emulator.requests)


def test_a_followed_job_can_be_cleared_and_is_no_longer_asked_about(rodin, emulator, reference):
    source = flow.submitted_job(rodin, emulator)
    task = source.rodin_texture.task_uuid
    flow.pump_until(rodin, lambda: status_requests(emulator) > 0, "status request")
    scenes.select_only(source, active=source)
    assert rodin.session.is_following(source.rodin_texture.job_id)
    assert bpy.ops.rodin_texture.clear.poll()

    assert bpy.ops.rodin_texture.clear() == {"FINISHED"}

    assert object_state(source) == ("", "idle", "", "")
    assert rodin.session.get().manager.running_count == 0
    asked = status_requests(emulator)
    time.sleep(0.5)  # several polling intervals of the fast schedule
    rodin.pump.pump()
    assert status_requests(emulator) == asked
    assert task in emulator.tasks and emulator.submit_count == 1
    assert not bpy.ops.rodin_texture.clear.poll()  # nothing left to clear


def test_an_upload_not_yet_a_task_cannot_be_cleared_and_says_why(rodin, emulator, reference):
    emulator.inject("rodin_texture_only", Fault.slow(2.0))
    source = add_suzanne()
    template = flow.module_request(rodin, bpy.context.scene.rodin_texture_settings)
    rodin.following.start_generation(bpy.context, [source], template, [1])
    scenes.select_only(source, active=source)

    assert source.rodin_texture.status == "uploading"
    assert not bpy.ops.rodin_texture.clear.poll()
    with pytest.raises(rodin.errors.UserError, match="wait until the service confirms it"):
        rodin.following.clear_job(source)

    flow.pump_until(rodin, lambda: source.rodin_texture.task_uuid, "task id")
    assert bpy.ops.rodin_texture.clear() == {"FINISHED"}
    assert source.rodin_texture.job_id == "" and emulator.submit_count == 1


def write_high_dynamic_range(path, file_format):
    """A grey ramp from 0 to 4 (scene linear), as Blender writes an EXR or HDR render."""
    image = bpy.data.images.new("ramp", 8, 2, float_buffer=True)
    levels = np.repeat(np.linspace(0.0, 4.0, 8, dtype=np.float32), 4).reshape(8, 4)
    levels[:, 3] = 1.0
    image.pixels.foreach_set(np.tile(levels, (2, 1)).ravel())
    image.filepath_raw, image.file_format = str(path), file_format
    image.save()
    bpy.data.images.remove(image)


@pytest.mark.parametrize("kind", ["exr", "hdr", "tif", "bmp"])
@pytest.mark.parametrize("given_as", ["panel image", "image_path"])
def test_references_the_service_does_not_take_are_sent_as_png(
    rodin, emulator, tmp_path, kind, given_as
):
    path = tmp_path / f"reference.{kind}"
    if kind in ("exr", "hdr"):
        write_high_dynamic_range(path, {"exr": "OPEN_EXR", "hdr": "HDR"}[kind])
    else:
        colours = np.random.default_rng(4).integers(0, 256, (6, 10, 3), dtype=np.uint8)
        PIL.Image.fromarray(colours).save(path)
    source = add_suzanne()
    parameters = {}
    if given_as == "image_path":
        parameters["image_path"] = str(path)
    else:
        bpy.context.scene.rodin_texture_settings.image = bpy.data.images.load(str(path))

    assert bpy.ops.rodin_texture.generate(**parameters) == {"FINISHED"}

    assert source.rodin_texture.status == "done", source.rodin_texture.message
    task = emulator.tasks[source.rodin_texture.task_uuid]
    assert task.image_bytes.startswith(b"\x89PNG\r\n\x1a\n") and task.image_name.endswith(".png")
    with PIL.Image.open(io.BytesIO(task.image_bytes)) as sent:
        sent_rgb = np.asarray(sent.convert("RGB"))
    if kind in ("exr", "hdr"):
        ramp = sent_rgb[0, :, 0].astype(int)
        assert sent_rgb.shape == (2, 8, 3)
        assert np.all(np.diff(ramp) > 0), f"tone-mapped, not clipped: {ramp}"
    else:
        assert np.array_equal(sent_rgb, colours)
    assert path.is_file()
    if given_as == "image_path":
        loaded = [image for image in bpy.data.images if image.filepath == str(path)]
        assert loaded == [], "the image loaded to convert it is removed"


OUT_OF_RANGE = {
    "seed -1": ({"seed": -1}, "seed: must be a whole number from 0 to 65535, not -1"),
    "seed 65536": ({"seed": 65536}, "seed: must be a whole number from 0 to 65535, not 65536"),
    "reference_scale 0": ({"reference_scale": 0.0}, "reference_scale: must be greater than 0"),
    "escore -5": ({"escore": -5.0}, "escore: must be 0 or more, not -5"),
}


@pytest.mark.parametrize("case", OUT_OF_RANGE)
@pytest.mark.parametrize("through", ["operator", "texture_objects"])
def test_out_of_range_values_are_refused_the_same_everywhere(
    rodin, addon, emulator, reference, reference_image, uploads, case, through
):
    parameters, said = OUT_OF_RANGE[case]
    source = add_suzanne()
    before = object_states()

    if through == "operator":
        with pytest.raises(RuntimeError, match=re.escape(said)):
            bpy.ops.rodin_texture.generate(**parameters)
    else:
        api = module(addon, "blender.api")
        with pytest.raises(api.TextureError, match=re.escape(said)):
            api.texture_objects([source], reference_image, **parameters)

    assert_nothing_sent_or_changed(emulator, uploads, before)


def test_unknown_apply_choices_are_refused(rodin, addon, emulator, reference_image, uploads):
    api = module(addon, "blender.api")
    source = add_suzanne()
    before = object_states()

    with pytest.raises(api.TextureError, match="apply_mode: must be one of NEW_OBJECT, REPLACE"):
        api.texture_objects([source], reference_image, apply_mode="MERGE")
    with pytest.raises(api.TextureError, match="bake_size: must be one of RESULT, 1024"):
        api.texture_objects([source], reference_image, bake_size="3000")

    assert_nothing_sent_or_changed(emulator, uploads, before)


def test_a_scale_typed_in_blender_is_sent_as_typed(rodin, emulator, reference):
    source = add_suzanne()
    assert bpy.ops.rodin_texture.generate(reference_scale=0.01, escore=2.3) == {"FINISHED"}
    sent = emulator.tasks[source.rodin_texture.task_uuid].settings
    assert (sent["reference_scale"], sent["escore"]) == ("0.01", "2.3")


def refusal_of(operator):
    """What a greyed-out button says (Blender's poll message, as calling it anyway reports)."""
    assert not operator.poll()
    with pytest.raises(RuntimeError) as refused:
        operator()
    return str(refused.value)


def test_job_buttons_that_cannot_run_are_greyed_out_with_the_reason(rodin, emulator, reference):
    emulator.inject("rodin_texture_only", Fault.app_error("API_INSUFFICIENT_FUNDS", "none", 201))
    source = add_suzanne()
    with pytest.raises(RuntimeError):
        bpy.ops.rodin_texture.generate()
    assert source.rodin_texture.status == "failed" and not source.rodin_texture.task_uuid

    never_a_task = "The service never confirmed a task for this job"
    assert never_a_task in refusal_of(bpy.ops.rodin_texture.download)
    assert never_a_task in refusal_of(bpy.ops.rodin_texture.check_now)
    assert "Nothing is downloaded yet" in refusal_of(bpy.ops.rodin_texture.apply)
    assert "Nothing is downloaded yet" in refusal_of(bpy.ops.rodin_texture.open_folder)

    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
    Path(source.rodin_texture.model_path).unlink()
    gone = "The downloaded file is gone: press Download Again"
    assert gone in refusal_of(bpy.ops.rodin_texture.apply)
    assert bpy.ops.rodin_texture.download.poll()


def test_a_file_opened_with_a_bad_service_url_opens_and_says_the_job_is_not_followed(
    rodin, addon, emulator, reference, prefs, tmp_path, capsys
):
    flow.submitted_job(rodin, emulator)
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    rodin.session.shutdown()
    prefs.base_url = "ftp://rodin.example/api/v2"

    reopened = flow.reopen(path)["Suzanne"]

    assert reopened.rodin_texture.status in ("waiting", "generating")
    assert "Suzanne not resumed: base_url" in capsys.readouterr().out
    texts, _ = flow._job_panel_texts(addon, reopened)
    assert "Not being followed" in texts


def test_file_revert_during_an_upload_keeps_the_upload_going(rodin, emulator, reference, tmp_path):
    emulator.inject("rodin_texture_only", Fault.slow(1.5))
    source = add_suzanne()
    template = flow.module_request(rodin, bpy.context.scene.rodin_texture_settings)
    rodin.following.start_generation(bpy.context, [source], template, [1])
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "scene.blend"))  # saved mid-upload

    assert bpy.ops.wm.revert_mainfile() == {"FINISHED"}

    reverted = bpy.data.objects["Suzanne"]
    assert reverted.rodin_texture.status == "uploading", reverted.rodin_texture.message
    flow.pump_until(rodin, lambda: reverted.rodin_texture.status == "done", "result")
    assert emulator.submit_count == 1


@pytest.mark.parametrize(
    "bug",
    # A RuntimeError of the add-on's own was once told as "Blender failed while importing".
    [KeyError("a bug"), RuntimeError("a bug"), RecursionError("a bug")],
    ids=lambda bug: type(bug).__name__,
)
def test_a_bug_while_applying_fails_that_job_only_and_is_logged(
    bug, rodin, addon, emulator, reference, monkeypatch, capsys
):
    apply = module(addon, "blender.apply")
    real_apply = apply.apply_result

    def apply_with_a_bug(context, source, *args, **kwargs):
        if source.name == "Broken":
            raise bug
        return real_apply(context, source, *args, **kwargs)

    monkeypatch.setattr(apply, "apply_result", apply_with_a_bug)
    broken, fine = add_suzanne("Broken"), add_suzanne("Fine", location=(4.0, 0.0, 0.0))
    template = flow.module_request(rodin, bpy.context.scene.rodin_texture_settings)

    job_ids = rodin.following.start_generation(bpy.context, [broken, fine], template, [1, 2])
    rodin.pump.wait_for(job_ids)

    assert broken.rodin_texture.status == "failed"
    assert broken.rodin_texture.message == (f"Could not apply the result: internal error: {bug!r}")
    assert fine.rodin_texture.status == "done" and fine.rodin_texture.result_object is not None
    assert "Traceback" in capsys.readouterr().err


def test_clear_job_forgets_everything_of_the_job(rodin, emulator, reference):
    source = add_suzanne()
    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
    state = source.rodin_texture
    assert state.model_path and state.result_object and state.settings_json

    assert bpy.ops.rodin_texture.clear() == {"FINISHED"}

    properties = [p.identifier for p in state.bl_rna.properties if p.identifier != "rna_type"]
    assert not [name for name in properties if state.is_property_set(name)], "all at default"
    assert state.status == "idle" and state.result_object is None
    for name in ("apply", "open_folder", "download", "check_now", "clear"):
        assert not getattr(bpy.ops.rodin_texture, name).poll(), name


def test_the_reference_is_copied_once_for_several_meshes(rodin, emulator, reference, uploads):
    emulator.inject("rodin_texture_only", Fault.slow(1.0), times=3)
    meshes = [add_suzanne(f"Mesh {i}", location=(3.0 * i, 0.0, 0.0)) for i in range(3)]
    template = flow.module_request(rodin, bpy.context.scene.rodin_texture_settings)

    rodin.following.start_generation(bpy.context, meshes, template, [1, 2, 3])

    staged = sorted(uploads.glob("*/reference/*"))
    assert len(staged) == 3
    assert len({path.stat().st_ino for path in staged}) == 1, "one copy, linked twice"
    flow.pump_until(rodin, lambda: all(m.rodin_texture.status == "done" for m in meshes), "results")
    assert list(uploads.iterdir()) == [] and emulator.submit_count == 3
