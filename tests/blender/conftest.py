"""The real-Blender test harness: the add-on loaded from source as an extension, one empty scene
per test, and a Blender user folder of its own.
"""

import atexit
import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# Before bpy is imported: Blender must never read or write the developer's own configuration.
_USER_RESOURCES = tempfile.mkdtemp(prefix="rodin-blender-user-")
os.environ["BLENDER_USER_RESOURCES"] = _USER_RESOURCES
atexit.register(shutil.rmtree, _USER_RESOURCES, ignore_errors=True)

import bpy  # noqa: E402  (after the variable above)

# Blender 4.2 and 4.3 as a module crash after the interpreter has finished once the glTF
# exporter's modules were imported (a registered class freed with no interpreter left:
# bpy_class_free -> PyGILState_Ensure); 4.4 and later exit cleanly. There the session ends
# itself, results written.
_ENDS_ITSELF = bpy.app.version < (4, 4, 0)
_exit_status = 0


def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _ENDS_ITSELF:
        shutil.rmtree(_USER_RESOURCES, ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)


REPO = Path(__file__).resolve().parents[2]
PACKAGE = "rodin_texture_addon"
REPO_MODULE = "dev"
ADDON_MODULE = f"bl_ext.{REPO_MODULE}.{PACKAGE}"


def _stage_extension(repo_dir: Path) -> None:
    """Blender wants the manifest next to ``__init__.py``; symlinks put it there while the code
    stays the working tree's, so tests always run what is on disk."""
    staged = repo_dir / PACKAGE
    staged.mkdir(parents=True)
    for entry in (REPO / PACKAGE).iterdir():
        if entry.name != "__pycache__":
            (staged / entry.name).symlink_to(entry)
    (staged / "blender_manifest.toml").symlink_to(REPO / "blender_manifest.toml")


def _raise(error):
    raise error


@pytest.fixture(scope="session")
def addon(tmp_path_factory):
    """The add-on, enabled as ``bl_ext.dev.rodin_texture_addon`` for the whole session."""
    import addon_utils  # on the path only once bpy is imported

    repo_dir = tmp_path_factory.mktemp("extensions")
    _stage_extension(repo_dir)
    repos = bpy.context.preferences.extensions.repos
    repos.new(name=REPO_MODULE, module=REPO_MODULE, custom_directory=str(repo_dir), source="USER")
    module = addon_utils.enable(ADDON_MODULE, default_set=True, handle_error=_raise)
    try:
        yield module
    finally:
        # A timer left registered would keep the interpreter from exiting.
        addon_utils.disable(ADDON_MODULE, default_set=True, handle_error=_raise)
        # The repository stays (the user folder is temporary): removing it purges the add-on's
        # modules, after which Blender 4.2 crashes at exit.


@pytest.fixture(scope="session")
def addon_module(addon):
    """``addon_module("blender.export")``: a module of the add-on as Blender loaded it (not the
    ``rodin_texture_addon`` package on the path, whose classes are not registered)."""

    def load(name: str):
        return importlib.import_module(f"{addon.__name__}.{name}")

    return load


@pytest.fixture(autouse=True)
def empty_scene(addon):
    """Each test starts from an empty scene, with online access on (refusal tests turn it off)."""
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.context.preferences.system.use_online_access = True
