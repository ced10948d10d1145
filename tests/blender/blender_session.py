"""One Blender session in its own process, for tests that kill Blender or reopen files.

python blender_session.py submit EXTENSIONS_DIR BASE_URL BLEND IMAGE
    submits a texture job for a new Suzanne, saves the file once the task id is on the
    object, then kills its own process (no clean exit, as in a crash).
python blender_session.py resume EXTENSIONS_DIR BASE_URL BLEND
    opens the file, runs ``bpy.ops.rodin_texture.resume()``, prints the outcome as JSON.
python blender_session.py submit_unsaved EXTENSIONS_DIR BASE_URL BLEND IMAGE
    saves a file with a new Suzanne, submits a texture job for it, and is killed the moment
    the task id reaches the object: the file never holds the job.
python blender_session.py recover EXTENSIONS_DIR BASE_URL BLEND
    opens the file, runs ``bpy.ops.rodin_texture.recover()``, prints the outcome as JSON.

Blender's user folder (and so the add-on's task history) is $BLENDER_USER_RESOURCES when set,
else a new one.
"""

import json
import os
import signal
import sys
import tempfile
import time

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="rodin-session-"))

import bpy  # noqa: I001  (addon_utils is importable only once bpy is)
import addon_utils

ADDON = "bl_ext.dev.rodin_texture_addon"


def enable(extensions_dir: str, base_url: str):
    bpy.context.preferences.extensions.repos.new(
        name="dev", module="dev", custom_directory=extensions_dir, source="USER"
    )
    addon_utils.enable(ADDON, default_set=True)
    bpy.context.preferences.system.use_online_access = True
    prefs = bpy.context.preferences.addons[ADDON].preferences
    prefs.api_key = "test-key"
    prefs.base_url = base_url
    session = sys.modules[ADDON + ".blender.session"]
    jobs = sys.modules[ADDON + ".jobs"]
    session.get().manager.schedule = jobs.PollSchedule(first_delay=0.05, max_interval=0.2)
    return session


def submit_and_die(extensions_dir, base_url, blend, image):
    submit_and_save(extensions_dir, base_url, blend, image)
    os.kill(os.getpid(), signal.SIGKILL)


def submit_and_exit(extensions_dir, base_url, blend, image):
    """Blender quitting does not unregister add-ons: the process must end on its own."""
    submit_and_save(extensions_dir, base_url, blend, image)
    sys.exit(0)


def submit_unsaved_and_die(extensions_dir, base_url, blend, image):
    source = submit(extensions_dir, base_url, blend, image)
    print(json.dumps({"task_uuid": source.rodin_texture.task_uuid}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def submit_and_save(extensions_dir, base_url, blend, image):
    source = submit(extensions_dir, base_url, blend, image)
    bpy.ops.wm.save_mainfile()
    print(json.dumps({"task_uuid": source.rodin_texture.task_uuid}), flush=True)


def submit(extensions_dir, base_url, blend, image):
    """A new Suzanne saved in ``blend``, then submitted; returns once its task id is on it."""
    enable(extensions_dir, base_url)
    following = sys.modules[ADDON + ".blender.following"]
    pump = sys.modules[ADDON + ".blender.pump"]
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.mesh.primitive_monkey_add(location=(0.0, 1.0, 2.0))
    source = bpy.context.active_object
    bpy.ops.wm.save_as_mainfile(filepath=blend)
    rodin = sys.modules[ADDON + ".rodin"]
    request = rodin.TextureRequest(image_path=image, model_path="")
    following.start_generation(bpy.context, [source], request, [1])
    deadline = time.monotonic() + 30
    while not source.rodin_texture.task_uuid:
        assert time.monotonic() < deadline, "no task id"
        pump.pump()
        time.sleep(0.02)
    return source


def resume(extensions_dir, base_url, blend):
    session = enable(extensions_dir, base_url)
    bpy.ops.wm.open_mainfile(filepath=blend)
    source = next(obj for obj in bpy.data.objects if obj.rodin_texture.task_uuid)
    resumed_on_load = session.get().manager.is_running(source.rodin_texture.job_id)
    bpy.ops.rodin_texture.resume()
    state = source.rodin_texture
    print(
        json.dumps(
            {
                "resumed_on_load": resumed_on_load,
                "status": state.status,
                "task_uuid": state.task_uuid,
                "result": state.result_object.name if state.result_object else None,
            }
        ),
        flush=True,
    )
    addon_utils.disable(ADDON, default_set=True)


def recover(extensions_dir, base_url, blend):
    enable(extensions_dir, base_url)
    history = sys.modules[ADDON + ".blender.history"]
    bpy.ops.wm.open_mainfile(filepath=blend)
    offered = [task.task_uuid for task in history.to_recover()]
    outcome = bpy.ops.rodin_texture.recover()
    source = bpy.data.objects["Suzanne"]
    state = source.rodin_texture
    print(
        json.dumps(
            {
                "offered": offered,
                "outcome": sorted(outcome),
                "status": state.status,
                "task_uuid": state.task_uuid,
                "result": state.result_object.name if state.result_object else None,
                "left_to_recover": [task.task_uuid for task in history.to_recover()],
            }
        ),
        flush=True,
    )
    addon_utils.disable(ADDON, default_set=True)


if __name__ == "__main__":
    mode, *arguments = sys.argv[1:]
    modes = {
        "submit": submit_and_die,
        "submit_and_exit": submit_and_exit,
        "resume": resume,
        "submit_unsaved": submit_unsaved_and_die,
        "recover": recover,
    }
    modes[mode](*arguments)
