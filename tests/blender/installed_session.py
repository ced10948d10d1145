"""The built extension zip, installed the way Blender installs it, in a Blender process of its own.

python installed_session.py ZIP BASE_URL IMAGE RESULTS_DIR

``BLENDER_USER_RESOURCES`` (set by the caller) is the throw-away user folder. Installs and enables
the zip into the ``user_default`` repository, textures a Suzanne against the emulator at
BASE_URL, then disables and uninstalls the add-on, and prints what it saw as one JSON line.
"""

import json
import os
import sys
import threading
import types
from pathlib import Path

import bpy

PACKAGE = "rodin_texture_addon"
REPOSITORY = "user_default"
ADDON = f"bl_ext.{REPOSITORY}.{PACKAGE}"


def addon_functions() -> list:
    """Every function of the installed add-on's modules: the candidates for a timer."""
    return [
        value
        for name, module in list(sys.modules.items())
        if name == ADDON or name.startswith(ADDON + ".")
        for value in vars(module).values()
        if isinstance(value, types.FunctionType)
    ]


def timers_of(functions) -> list[str]:
    return sorted(f.__qualname__ for f in functions if bpy.app.timers.is_registered(f))


def handlers_of_addon() -> list[str]:
    """The add-on's functions in any of Blender's application handler lists."""
    return sorted(
        f"{name}: {handler.__qualname__}"
        for name in dir(bpy.app.handlers)
        if isinstance(handlers := getattr(bpy.app.handlers, name), list)
        for handler in handlers
        if (getattr(handler, "__module__", "") or "").startswith(ADDON)
    )


def generate(base_url: str, image_path: str, results_dir: str) -> dict:
    context = bpy.context
    context.preferences.system.use_online_access = True
    prefs = context.preferences.addons[ADDON].preferences
    prefs.api_key = "test-key"
    prefs.base_url = base_url
    prefs.results_folder = results_dir
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.mesh.primitive_monkey_add()
    source = context.active_object
    context.scene.rodin_texture_settings.image = bpy.data.images.load(image_path)

    outcome = bpy.ops.rodin_texture.generate()

    state = source.rodin_texture
    result = state.result_object
    return {
        "operator": sorted(outcome),
        "status": state.status,
        "message": state.message,
        "task_uuid": state.task_uuid,
        "model_path": state.model_path,
        "result": result.name if result else None,
        "result_materials": [slot.material.name for slot in result.material_slots]
        if result
        else [],
    }


def main(zip_path, base_url, image_path, results_dir):
    threads_before = set(threading.enumerate())
    (repo,) = (r for r in bpy.context.preferences.extensions.repos if r.module == REPOSITORY)
    bpy.ops.extensions.package_install_files(
        filepath=zip_path, repo=REPOSITORY, enable_on_install=True
    )
    report = {
        "user_repository": repo.directory,
        "module_file": sys.modules[ADDON].__file__,
        "enabled_after_install": ADDON in bpy.context.preferences.addons,
    }
    report.update(generate(base_url, image_path, results_dir))
    # Timers never fire in background mode, so the add-on registers none here; register its
    # pump as it does in the interface while a job runs, for disabling to clean up.
    pump, results = (sys.modules[f"{ADDON}.blender.{name}"] for name in ("pump", "results"))
    for timer in (pump.pump, results.finish_done_jobs):
        bpy.app.timers.register(timer, first_interval=60.0, persistent=True)
    functions = addon_functions()
    report["timers_while_enabled"] = timers_of(functions)
    report["handlers_while_enabled"] = handlers_of_addon()
    report["threads_while_enabled"] = [t.name for t in set(threading.enumerate()) - threads_before]

    bpy.ops.preferences.addon_disable(module=ADDON)
    report["enabled_after_disable"] = ADDON in bpy.context.preferences.addons
    bpy.ops.extensions.package_uninstall(repo_directory=repo.directory, pkg_id=PACKAGE)

    report["installed_after_uninstall"] = sorted(
        path.name for path in Path(repo.directory).iterdir()
    )
    report["timers_left"] = timers_of(functions)
    report["handlers_left"] = handlers_of_addon()
    report["threads_left"] = [t.name for t in set(threading.enumerate()) - threads_before]
    print("REPORT " + json.dumps(report), flush=True)
    if bpy.app.version < (4, 4, 0):
        # Blender 4.2 and 4.3 crash at exit once an extension whose PropertyGroup has a Python
        # method was uninstalled (reproduced with a minimal extension; 4.4 and later exit cleanly).
        os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:])
