"""What a person does in the window, step by step; each public function is a scenario of
``session.py`` (a generator that yields seconds to wait) taking the driver and the caller's
parameters (``params``), and leaving what it saw in ``driver.facts``.

Common parameters: ``zip`` (the extension to install), ``base_url`` and ``api_key`` (the
emulator), ``results`` (the results folder), ``image`` (a reference picture on disk).
"""

import time
from pathlib import Path

import blf
import bpy

MAIN, JOB = "RODIN_TEXTURE_PT_main", "RODIN_TEXTURE_PT_job"
FOLLOW_STEP = 0.05


# --- steps shared by the scenarios ------------------------------------------------------------


def start(d, params, mesh="MONKEY"):
    """Blender as a new user finds it: splash closed, online access allowed, the zip installed
    and set up (key, service, results folder), the default cube swapped for ``mesh``, the
    Rodin tab open."""
    bpy.context.preferences.system.use_online_access = True
    yield from d.key("ESC")  # the splash screen
    yield from d.install(params["zip"])
    preferences = d.preferences()
    preferences.api_key = params["api_key"]
    preferences.base_url = params["base_url"]
    preferences.results_folder = params["results"]
    with d.override():
        bpy.ops.object.select_all(action="SELECT")
        bpy.ops.object.delete()
        if mesh == "MONKEY":
            bpy.ops.mesh.primitive_monkey_add(location=(0.0, 0.0, 0.0))
            bpy.ops.object.shade_smooth()
        else:
            bpy.ops.mesh.primitive_cube_add()
        bpy.ops.view3d.view_selected()
    bpy.context.active_object.name = params.get("object_name", "Suzanne")
    yield from d.open_sidebar_tab("Rodin")


def pick_image(d, path: str):
    """Open the reference image as a person does: the Open button, then the file browser."""
    yield from d.press("bpy.ops.image.open(")
    manager = bpy.context.window_manager
    yield from d.wait_until(lambda: _file_browser(manager) is not None, "the file browser")
    window, area = _file_browser(manager)
    area.spaces.active.params.directory = str(Path(path).parent).encode()
    area.spaces.active.params.filename = Path(path).name
    yield 0.3
    files = next(region for region in area.regions if region.type == "WINDOW")
    window.event_simulate("MOUSEMOVE", "NOTHING", x=files.x + 40, y=files.y + 40)
    yield from d.key("RET", window=window)
    settings = bpy.context.scene.rodin_texture_settings
    yield from d.wait_until(lambda: settings.image is not None, "the picked image")


def _file_browser(manager):
    for window in manager.windows:
        for area in window.screen.areas:
            if area.type == "FILE_BROWSER":
                return window, area
    return None


def follow(d, obj, until=("done", "failed"), timeout=120.0):
    """Watch the job panel until the job's status is one of ``until``; the first time each
    status shows, take a screenshot and keep the panel's texts in ``facts["stages"]``."""
    stages = d.facts.setdefault("stages", {})
    deadline = time.monotonic() + timeout
    while True:
        status = obj.rodin_texture.status
        if status not in stages:
            yield from d.screenshot(f"stage-{status}")
            stages[status] = {
                "texts": d.texts(JOB),
                "operators": d.operators(JOB),
                "main_operators": d.operators(MAIN),
                "too_wide": too_wide(d),
            }
        if status in until:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"the job stayed {status} for {timeout:g} s")
        yield FOLLOW_STEP


def too_wide(d) -> list[str]:
    """The texts the add-on's panels drew that do not fit the sidebar (Blender cuts them)."""
    region = d.sidebar
    scale = bpy.context.preferences.system.ui_scale
    blf.size(0, bpy.context.preferences.ui_styles[0].widget.points * scale)
    # The panel's margins and the row's icon take this much of the region's width.
    room = region.width - 60 * scale
    return [
        entry["text"]
        for panel in (MAIN, JOB)
        for entry in d.drawn.get(panel, [])
        if entry["kind"] == "label" and blf.dimensions(0, entry["text"])[0] > room
    ]


def scene_facts(obj) -> dict:
    """Who is visible, selected and active, and how the viewport shades."""
    view_layer = bpy.context.view_layer
    space = next(
        area.spaces.active
        for area in bpy.context.window_manager.windows[0].screen.areas
        if area.type == "VIEW_3D"
    )
    return {
        "objects": sorted(o.name for o in bpy.data.objects),
        "visible": sorted(o.name for o in view_layer.objects if o.visible_get()),
        "selected": sorted(o.name for o in view_layer.objects if o.select_get()),
        "active": view_layer.objects.active.name if view_layer.objects.active else None,
        "shading": [space.shading.type, space.shading.color_type],
        "status": obj.rodin_texture.status,
        "message": obj.rodin_texture.message,
        "result": obj.rodin_texture.result_object.name if obj.rodin_texture.result_object else None,
    }


# --- scenarios ----------------------------------------------------------------------------------


def new_object(d, params):
    """Pick an image, press Generate, follow the job to its result as a New Object."""
    yield from start(d, params)
    obj = bpy.context.active_object
    yield from d.screenshot("start")
    yield from pick_image(d, params["image"])
    d.facts["balance_before_generate"] = [t for t in d.texts(MAIN) if t.startswith("Balance")]
    yield from d.screenshot("image-picked")
    yield from d.press("bpy.ops.rodin_texture.generate(")
    d.facts["final"] = yield from follow(d, obj)
    yield from d.wait_until(lambda: obj.rodin_texture.result_object is not None, "the result")
    yield from d.screenshot("result")
    d.facts["arrived"] = scene_facts(obj)
    d.facts["job_texts"] = d.texts(JOB)
    d.facts["job_operators"] = d.operators(JOB)
