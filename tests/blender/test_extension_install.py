"""The zip a user installs: built with Blender's tool, installed, used, and removed cleanly."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import build_extension
import pytest
from gltf_validator import assert_valid

pytestmark = pytest.mark.blender

SESSION = Path(__file__).with_name("installed_session.py")


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory):
    return build_extension.build(tmp_path_factory.mktemp("dist"))


def test_the_zip_holds_the_manifest_and_code_at_its_root_and_no_tests_or_caches(extension_zip):
    assert extension_zip.name == f"rodin_texture_addon-{build_extension.manifest_version()}.zip"
    names = zipfile.ZipFile(extension_zip).namelist()
    assert {"blender_manifest.toml", "__init__.py", "blender/operators.py"} <= set(names)
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert not [name for name in names if name.startswith(("tests/", "scripts/"))]


def test_the_zip_serves_a_self_hosted_extension_repository(extension_zip):
    tool, _ = build_extension.blender_tools()
    index = build_extension.generate_repository(extension_zip.parent, tool)
    (entry,) = json.loads(index.read_text())["data"]
    assert entry["id"] == "rodin_texture_addon"
    assert entry["archive_url"] == f"./{extension_zip.name}"
    assert set(entry["permissions"]) == {"network", "files"}


def test_installed_zip_textures_a_mesh_then_uninstalls_leaving_nothing_running(
    extension_zip, emulator, reference_image, tmp_path
):
    user_folder = tmp_path / "blender-user"
    results = tmp_path / "results"
    arguments = [extension_zip, emulator.base_url, reference_image, results]
    done = subprocess.run(
        [sys.executable, str(SESSION), *map(str, arguments)],
        env={**os.environ, "BLENDER_USER_RESOURCES": str(user_folder)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr[-3000:]
    report = json.loads(lines[-1].removeprefix("REPORT "))

    assert Path(report["module_file"]).is_relative_to(user_folder)
    assert Path(report["user_repository"]).is_relative_to(user_folder)
    assert report["enabled_after_install"]
    assert report["operator"] == ["FINISHED"]
    assert report["status"] == "done", report["message"]
    assert report["task_uuid"] in emulator.tasks
    assert report["result"] and report["result_materials"]
    assert Path(report["model_path"]).is_relative_to(results)
    assert_valid(Path(report["model_path"]))

    assert report["timers_while_enabled"] and report["threads_while_enabled"]
    assert not report["enabled_after_disable"]
    assert "rodin_texture_addon" not in report["installed_after_uninstall"]
    assert report["timers_left"] == []
    assert report["handlers_while_enabled"] == [
        "depsgraph_update_post: forget_jobs_of_new_copies",
        "load_post: resume_after_load",
        "load_pre: forget_on_load",
        "object_bake_cancel: bake_cancelled",
        "object_bake_complete: bake_completed",
        "redo_post: keep_jobs_through_undo",
        "undo_post: keep_jobs_through_undo",
    ]
    assert report["handlers_left"] == []
    assert report["threads_left"] == []
