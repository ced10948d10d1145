"""The contract's rules that need no network: status aggregation, file names, image types."""

import pytest
from PIL import Image

from rodin_texture_addon.rodin import JobState, ResultFile, StatusReport, choose_model_file
from rodin_texture_addon.rodin.contract import sniff_image_type
from rodin_texture_addon.rodin.files import (
    MAX_NAME_LENGTH,
    folder_problem,
    safe_file_name,
    unique_file_names,
)
from rodin_texture_addon.rodin.image_header import image_size


def report(*statuses):
    return StatusReport(tuple(JobState(f"job-{i}", status) for i, status in enumerate(statuses)))


def test_done_only_when_every_job_is_done():
    assert report("Done", "Done").done
    assert not report("Done", "Generating").done
    assert not report().done, "an empty job list means: keep polling"
    assert report().failure is None


def test_any_failed_job_fails_the_task():
    assert "Failed" in report("Done", "Failed").failure


def test_cancelled_and_unknown_statuses_are_failures_that_name_the_value():
    assert "cancelled" in report("Canceled").failure
    assert "'Exploded'" in report("Done", "Exploded").failure
    assert report("done").failure, "statuses are case-sensitive"


def test_phase_is_the_least_advanced_job():
    assert report("Waiting", "Generating").phase.value == "Waiting"
    assert report("Generating", "Done").phase.value == "Generating"
    assert report("Done").phase.value == "Done"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("base_basic_pbr.glb", "base_basic_pbr.glb"),
        ("Pbr/base.obj", "base.obj"),
        ("../../x.glb", "x.glb"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\win.glb", "win.glb"),
        ("..", "file"),
        ("", "file"),
        ("a\x00b:c.glb", "a_b_c.glb"),
        ("CON", "file"),
        ("nul.txt", "file"),
    ],
)
def test_server_names_become_safe_base_names(name, safe):
    assert safe_file_name(name) == safe


def test_a_long_name_is_cut_but_keeps_its_extension():
    name = safe_file_name("a" * 300 + ".glb")
    assert len(name) == MAX_NAME_LENGTH and name.endswith("a.glb")
    assert safe_file_name("b" * 300) == "b" * MAX_NAME_LENGTH


def test_names_that_repeat_in_a_listing_are_numbered_keeping_the_extension():
    names = ["base.glb", "BASE.glb", "base.glb", "preview.webp", "base (2).glb"]
    assert unique_file_names(names) == [
        "base.glb",
        "BASE (2).glb",
        "base (3).glb",
        "preview.webp",
        "base (2) (2).glb",
    ]
    long = safe_file_name("c" * 300 + ".png")
    (_, numbered) = unique_file_names([long, long])
    assert len(numbered) == MAX_NAME_LENGTH and numbered.endswith("c (2).png")


def test_images_are_recognised_by_content():
    assert sniff_image_type(b"\x89PNG\r\n\x1a\n\0\0\0\0") == "png"
    assert sniff_image_type(b"\xff\xd8\xff\xe0\0\0JFIF\0\0") == "jpeg"
    assert sniff_image_type(b"RIFF\0\0\0\0WEBP") == "webp"
    assert sniff_image_type(b"RIFF\0\0\0\0WAVE") is None
    assert sniff_image_type(b"GIF89a") is None


def test_the_model_is_chosen_by_format_skipping_previews():
    files = [
        ResultFile("u1", "preview.glb"),
        ResultFile("u2", "Pbr/base_basic_pbr.glb"),
        ResultFile("u3", "base.obj"),
    ]
    assert choose_model_file(files, "glb").url == "u2"
    assert choose_model_file(files, "obj").url == "u3"
    assert choose_model_file(files, "fbx") is None


def test_folder_problem_makes_a_missing_folder_and_names_what_cannot_hold_files(tmp_path):
    missing = tmp_path / "results" / "today"
    assert folder_problem(missing) == "" and missing.is_dir()
    assert list(missing.iterdir()) == [], "the probe leaves nothing behind"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    assert folder_problem(a_file) == f"{a_file} is a file, not a folder"
    under_a_file = a_file / "results"
    assert folder_problem(under_a_file) == f"cannot write in {under_a_file}: Not a directory"
    assert a_file.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("image_type", "options"),
    [
        ("png", {}),
        ("jpeg", {"exif": b"Exif\x00\x00" + b"\x00" * 5000, "quality": 80}),
        ("jpeg", {"progressive": True}),
        ("webp", {"lossless": False}),
        ("webp", {"lossless": True}),
        ("webp", {"lossless": False, "mode": "RGBA"}),
    ],
    ids=["png", "jpeg-exif", "jpeg-progressive", "webp-lossy", "webp-lossless", "webp-alpha"],
)
def test_an_images_size_is_read_from_its_header(image_type, options, tmp_path):
    options = dict(options)
    mode = options.pop("mode", "RGB")
    path = tmp_path / f"image.{image_type}"
    Image.new(mode, (333, 217), (200, 10, 10, 128)[: len(mode)]).save(
        path, format=image_type.upper(), **options
    )

    with path.open("rb") as file:
        assert sniff_image_type(file.read(12)) == image_type
        assert image_size(file, image_type) == (333, 217)
