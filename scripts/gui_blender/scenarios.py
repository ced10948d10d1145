"""What a person does in the window, step by step; each public function is a scenario of
``session.py`` (a generator that yields seconds to wait) taking the driver and the caller's
parameters (``params``), and leaving what it saw in ``driver.facts``.

Common parameters: ``zip`` (the extension to install), ``base_url`` and ``api_key`` (the
emulator), ``results`` (the results folder), ``image`` (a reference picture on disk).
"""

import sys
import time
from pathlib import Path

import blf
import bpy

MAIN, JOB = "RODIN_TEXTURE_PT_main", "RODIN_TEXTURE_PT_job"
FOLLOW_STEP = 0.05


# --- steps shared by the scenarios ------------------------------------------------------------


def start(d, params, mesh="MONKEY"):
    """Blender as a new user finds it: splash closed, online access allowed, the zip installed
    and set up (key, service, results folder), the default cube swapped for ``mesh`` (Suzanne,
    or a GLB file's), the Rodin tab open."""
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
        else:  # a GLB file's mesh
            bpy.ops.import_scene.gltf(filepath=mesh)
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
    """Who is visible, selected and active, and how the viewport shades (``obj``: the source,
    looked up again by name, since undo replaces every object)."""
    obj = bpy.data.objects[obj if isinstance(obj, str) else obj.name]
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
    d.facts["redo_panel"] = [(r.width, r.height) for r in d.view3d.regions if r.type == "HUD"]
    d.facts["final"] = yield from follow(d, obj)
    yield from d.wait_until(lambda: obj.rodin_texture.result_object is not None, "the result")
    yield from d.screenshot("result")
    d.facts["arrived"] = scene_facts(obj)
    d.facts["result_panel"] = {"texts": d.texts(JOB), "too_wide": too_wide(d)}
    obj = obj.name
    yield from d.press("bpy.ops.rodin_texture.show_original(")
    yield from d.screenshot("original-shown")
    d.facts["original_shown"] = scene_facts(obj)
    yield from d.press("bpy.ops.rodin_texture.show_original(")
    d.facts["result_shown_again"] = scene_facts(obj)
    yield from d.key("Z", ctrl=True)
    yield from d.redraw()
    d.facts["after_undo"] = scene_facts(obj)
    yield from d.screenshot("after-undo")
    yield from d.press("bpy.ops.rodin_texture.show_original(")  # the result, for a look
    yield from d.screenshot("result-again")
    yield from d.press("bpy.ops.rodin_texture.view_texture(")
    yield from d.screenshot("texture-in-solid-view")
    d.facts["texture_shown"] = scene_facts(obj)
    d.facts["final_texts"] = d.texts(JOB)
    for _ in range(4):  # back to before the result arrived
        if "Suzanne_rodin" not in bpy.data.objects:
            break
        yield from d.key("Z", ctrl=True)
    yield from d.redraw()
    d.facts["arrival_undone"] = scene_facts(obj)
    state = bpy.data.objects[obj].rodin_texture
    d.facts["arrival_undone"].update(task_uuid=state.task_uuid, model_path=state.model_path)


def responsiveness(d, params):
    """The main loop's gaps (a 10 ms heartbeat) while idle, while one and then ten jobs are in
    flight, when results arrive, and while Apply to Original bakes at 1K and 2K."""
    yield from start(d, params)
    obj = bpy.context.active_object
    settings = bpy.context.scene.rodin_texture_settings
    settings.image = bpy.data.images.load(params["image"])
    addon_calls = time_addon_work(d)
    redraws = count_redraws(d)
    yield 6.0  # Blender's own start-up work (icons, asset libraries) settles
    d.mark("idle")
    yield params.get("idle_seconds", 5.0)
    d.mark("idle-end")

    yield from jobs_in_flight(d, [obj], "1")
    with d.override():
        bpy.ops.object.select_all(action="DESELECT")
    sources = []
    for index in range(10):
        location = (3.0 * (index % 5) - 6, 4.0 + index // 5 * 3, 0)
        with d.override():
            bpy.ops.mesh.primitive_monkey_add(location=location)
        sources.append(bpy.context.active_object)
    for source in sources:
        source.select_set(True)
    yield from jobs_in_flight(d, sources, "10")

    with d.override():
        bpy.ops.object.select_all(action="DESELECT")
    if obj.visible_get():  # an add-on that does not hide the original
        bpy.context.view_layer.objects.active = obj
    else:
        bpy.context.view_layer.objects.active = obj.rodin_texture.result_object
        yield from d.press("bpy.ops.rodin_texture.show_original(")
    settings.apply_mode = "ORIGINAL"
    for size in ("1024", "2048"):
        settings.bake_size = size
        slots = len(obj.material_slots)
        yield 0.5
        d.mark(f"bake {size}")
        yield from d.press("bpy.ops.rodin_texture.apply(")
        yield from d.wait_until(
            lambda slots=slots: (
                len(obj.material_slots) > slots and not bpy.app.is_job_running("OBJECT_BAKE")
            ),
            f"the {size} bake",
            300,
            0.01,
        )
        d.mark(f"bake {size} end")
    yield from d.screenshot("baked")
    phases = {
        "idle": ("idle", "idle-end"),
        "submit 1 (export)": ("submit 1", "1 in flight"),
        "1 job in flight": ("1 in flight", "1 arriving"),
        "1 result arriving": ("1 arriving", "1 arrived"),
        "submit 10 (export)": ("submit 10", "10 in flight"),
        "10 jobs in flight": ("10 in flight", "10 arriving"),
        "10 results arriving": ("10 arriving", "10 arrived"),
        "bake 1K": ("bake 1024", "bake 1024 end"),
        "bake 2K": ("bake 2048", "bake 2048 end"),
    }
    d.facts["gaps"] = {name: d.gaps(*marks) for name, marks in phases.items()}
    moments = dict(d.marks)
    d.facts["addon_work"] = {
        name: [seconds for when, seconds in addon_calls if moments[a] <= when <= moments[b]]
        for name, (a, b) in phases.items()
    }
    d.facts["redraws"] = {
        name: {
            region: sum(moments[a] <= when <= moments[b] for when in times)
            for region, times in redraws.items()
        }
        for name, (a, b) in phases.items()
    }


def jobs_in_flight(d, sources, name):
    """Press Generate for ``sources`` and mark when the submit's main-thread work ends, when
    the first result is done and when every result is in the scene."""
    jobs = [source.rodin_texture for source in sources]
    yield 0.5
    d.mark(f"submit {name}")
    yield from d.press("bpy.ops.rodin_texture.generate(")
    d.mark(f"{name} in flight")
    yield from d.wait_until(
        lambda: any(job.status == "done" for job in jobs),
        lambda: f"{name} jobs: a first done, not {[(job.status, job.message) for job in jobs]}",
        180,
        0.01,
    )
    d.mark(f"{name} arriving")
    yield from d.wait_until(
        lambda: all(job.result_object is not None or job.status == "failed" for job in jobs),
        f"{name} results",
        180,
        0.01,
    )
    yield 0.5
    d.mark(f"{name} arrived")


def bake_state(obj_name: str, results: str) -> dict:
    """What Apply to Original changes, or must leave as it was when cancelled."""
    obj = bpy.data.objects[obj_name]
    scene = bpy.context.scene
    return {
        "materials": [slot.material.name if slot.material else None for slot in obj.material_slots],
        "uv_maps": [uv.name for uv in obj.data.uv_layers],
        "objects": sorted(o.name for o in bpy.data.objects),
        "images": sorted(i.name for i in bpy.data.images if i.name != "Render Result"),
        "meshes": len(bpy.data.meshes),
        "files": sorted(p.name for p in Path(results).rglob("*.png")),
        "engine": scene.render.engine,
        "bake_job_running": bpy.app.is_job_running("OBJECT_BAKE"),
    }


def follow_bake(d, obj, stop_at=None):
    """Watch a bake in the panel map by map (a screenshot and the panel's texts for each),
    pressing Cancel Bake when map ``stop_at`` shows."""
    bake_job = d.module("blender.bake_job")
    seen = {}
    beats_before = len(d.beats)
    while bake_job.running(obj) is not None:
        _, step, steps = bake_job.running(obj).step
        if step not in seen:
            seen[step] = {
                "texts": d.texts(JOB),
                "operators": d.operators(JOB),
                "too_wide": too_wide(d),
            }
            if step == stop_at:  # at once: a map can be baked within seconds
                yield from d.press("bpy.ops.rodin_texture.cancel_bake(")
                yield from d.redraw()
                seen[step]["after_cancel"] = d.texts(JOB)
                # Whether the map was still baking when the panel was read (else it ended
                # first, and the panel rightly shows the bake over).
                seen[step]["still_baking"] = bake_job.running(obj) is not None
            yield from d.screenshot(f"bake-{step}-of-{steps}")
        yield 0.05
    return {"steps": seen, "beats": len(d.beats) - beats_before}


def count_bake_jobs() -> dict:
    """Counts Blender's bake jobs as they start and as they complete. ``object_bake_pre`` and
    ``object_bake_complete`` fire only for the job an invoked Bake starts, never for a bake run
    in place (as background mode's is); a job that starts held back behind another render job
    is counted too, which ``bpy.app.is_job_running`` would miss until it runs."""
    jobs = {"started": 0, "completed": 0}

    def started(*_args):
        jobs["started"] += 1

    def completed(*_args):
        jobs["completed"] += 1

    bpy.app.handlers.object_bake_pre.append(started)
    bpy.app.handlers.object_bake_complete.append(completed)
    return jobs


def apply_to_original(d, params):
    """Generate with Apply to Original: the bake runs map by map as Blender's job while the
    interface stays live; a second apply and a new job are refused meanwhile; then Apply
    Result again, stopped by the panel's Cancel."""
    yield from start(d, params)
    obj = bpy.context.active_object
    name = obj.name
    settings = bpy.context.scene.rodin_texture_settings
    settings.image = bpy.data.images.load(params["image"])
    settings.apply_mode, settings.bake_size = "ORIGINAL", params.get("bake_size", "1024")
    # Solid view coloured by texture draws images: the bake's too, if it let the viewport.
    d.view3d.spaces.active.shading.color_type = "TEXTURE"
    d.facts["before"] = bake_state(name, params["results"])
    jobs = count_bake_jobs()
    yield from d.press("bpy.ops.rodin_texture.generate(")
    bake_job = d.module("blender.bake_job")
    yield from d.wait_until(lambda: bake_job.running(obj) is not None, "the bake", 120)
    d.facts["refusals"] = refusals(d)
    d.facts["first"] = yield from follow_bake(d, obj)
    d.facts["first"]["jobs"] = dict(jobs)
    yield from d.screenshot("baked")
    d.facts["baked"] = bake_state(name, params["results"])
    d.facts["baked"]["status"] = obj.rodin_texture.status
    d.facts["baked"]["message"] = obj.rodin_texture.message

    before = bake_state(name, params["results"])
    yield from d.press("bpy.ops.rodin_texture.apply(")
    yield from d.wait_until(lambda: bake_job.running(obj) is not None, "a second bake", 60)
    watched = yield from follow_bake(d, obj, stop_at=2)
    yield from d.wait_until(lambda: not bpy.app.is_job_running("OBJECT_BAKE"), "its end", 60)
    yield 0.3
    after = bake_state(name, params["results"])
    d.facts["cancel_button"] = {"watched": watched, "before": before, "after": after}


def dense_grid(d):
    """Suzanne swapped for "Dense", a 460,800-triangle grid: over Rodin's 10 MB, so it goes as
    an upload proxy that takes seconds to build."""
    with d.override():
        bpy.ops.object.delete()
        bpy.ops.mesh.primitive_grid_add(x_subdivisions=480, y_subdivisions=480, size=2.0)
        bpy.ops.view3d.view_selected()
        bpy.context.active_object.name = "Dense"
    return bpy.context.active_object


def recent_reports(d) -> str:
    """The reports of this session, copied from an Info editor that the timeline turns into
    for the moment."""
    area = next(area for area in d.window.screen.areas if area.ui_type == "TIMELINE")
    area.ui_type = "INFO"
    with d.override(area):
        bpy.ops.info.select_all(action="SELECT")
        bpy.ops.info.report_copy()
    area.ui_type = "TIMELINE"
    return bpy.context.window_manager.clipboard


def proxy_interrupted(d, params):
    """While a proxy is built, the user presses Undo (of a step before Generate); then, while
    another is built, opens a new file. Neither sends anything; the panel stops saying a proxy
    is being built; the uploads are removed once the build is over."""
    yield from start(d, params)
    dense_grid(d)
    bpy.context.scene.rodin_texture_settings.image = bpy.data.images.load(params["image"])
    with d.override():
        bpy.ops.ed.undo_push(message="Image")  # operators run from Python push no steps
        bpy.ops.object.shade_smooth()
        bpy.ops.ed.undo_push(message="Shade Smooth")  # the step the Undo takes back
    checks = d.module("blender.checks")
    uploads = d.module("blender.preferences").user_folder("uploads")

    def building():
        return bool(checks.BUILDING_PROXIES)

    yield from d.press("bpy.ops.rodin_texture.generate(")
    yield from d.wait_until(building, "the build", 30)
    with d.override():
        bpy.ops.ed.undo()
    yield from d.wait_until(lambda: not building(), "the build's end", 120)
    yield from d.redraw()
    yield from d.screenshot("proxy-undo")
    obj = bpy.data.objects["Dense"]  # looked up anew: Undo may have read it again
    d.facts["undo"] = {
        "reports": recent_reports(d),
        "texts": d.texts(MAIN),
        "job_id": obj.rodin_texture.job_id,
        "smooth": obj.data.polygons[0].use_smooth,
        "uploads": [p.name for p in uploads.iterdir()],
    }

    yield from d.key("ESC")  # the error's popup, which holds the mouse
    yield from d.press("bpy.ops.rodin_texture.generate(")
    yield from d.wait_until(building, "the second build", 30)
    with bpy.context.temp_override(window=d.window):
        bpy.ops.wm.read_homefile()  # File > New, the changes not saved
    d.facts["new_file"] = {"building": building()}
    yield 1.0
    yield from d.open_sidebar_tab("Rodin")
    yield from d.wait_until(lambda: not any(uploads.iterdir()), "the uploads removed", 60)
    yield from d.screenshot("proxy-new-file")
    d.facts["new_file"]["texts"] = d.texts(MAIN)


def upload_proxy(d, params):
    """A dense mesh over Rodin's 10 MB: the panel says it goes as a proxy before anything is
    spent; Generate builds the proxy on a thread while the window goes on (a second Generate
    meanwhile is refused); the job shows the proxy; its result is baked onto the mesh."""
    yield from start(d, params)
    obj = dense_grid(d)
    settings = bpy.context.scene.rodin_texture_settings
    settings.image = bpy.data.images.load(params["image"])
    settings.apply_mode = "ORIGINAL"
    yield from d.redraw()
    yield from d.screenshot("proxy-announced")
    d.facts["announced"] = {"texts": d.texts(MAIN), "too_wide": too_wide(d)}
    settings.apply_mode = "REPLACE"
    yield from d.redraw()
    d.facts["announced_replace"] = d.texts(MAIN)
    settings.apply_mode = "ORIGINAL"
    yield 1.0
    d.mark("build")
    yield from d.press("bpy.ops.rodin_texture.generate(")
    d.facts["second_generate"] = refusals(d)["generate"]
    yield from d.redraw()
    yield from d.screenshot("proxy-building")
    d.facts["while_building"] = {"texts": d.texts(MAIN), "operators": d.operators(MAIN)}
    yield from d.wait_until(lambda: obj.rodin_texture.job_id != "", "the submit", 120, 0.01)
    d.mark("submitted")
    d.facts["build_gaps"] = d.gaps("build", "submitted")
    d.facts["final"] = yield from follow(d, obj)
    yield from d.wait_until(
        lambda: (
            "Dense_rodin" in [slot.name for slot in obj.material_slots]
            and not bpy.app.is_job_running("OBJECT_BAKE")
        ),
        "the bake",
        300,
    )
    yield from d.redraw()
    yield from d.screenshot("proxy-baked")
    d.facts["job_texts"] = d.texts(JOB)
    d.facts["job_too_wide"] = too_wide(d)
    d.facts["proxy"] = dict(obj.rodin_texture.proxy)
    d.facts["materials"] = [slot.name for slot in obj.material_slots]
    d.facts["objects"] = sorted(o.name for o in bpy.data.objects)


def together(d, params):
    """Texture Together with three meshes (one without UVs, one shaped by modifiers, one
    parented and rotated): the panel says what it costs and does before anything is spent, a
    click on its checkbox turns it on, one Generate sends one task, and Blender's bake jobs
    bake the result onto each mesh in turn while the window goes on; one undo takes the three
    bakes back and leaves the task on each."""
    yield from start(d, params)
    bare = bpy.context.active_object
    bare.name = "Bare"
    while bare.data.uv_layers:
        bare.data.uv_layers.remove(bare.data.uv_layers[0])
    with d.override():
        bpy.ops.mesh.primitive_cube_add(location=(3.0, 0.0, 0.0))
        bpy.ops.object.modifier_add(type="BEVEL")
        bpy.ops.object.modifier_add(type="SUBSURF")
        bpy.ops.mesh.primitive_cylinder_add(location=(-1.0, 2.0, 0.0), rotation=(0.5, 0.0, 0.9))
    modified, child = bpy.data.objects["Cube"], bpy.data.objects["Cylinder"]
    modified.name, child.name = "Modified", "Child"
    holder = bpy.data.objects.new("Holder", None)
    bpy.context.scene.collection.objects.link(holder)
    holder.location, holder.rotation_euler = (-2.0, 0.0, 0.0), (0.0, 0.0, 0.7)
    child.parent = holder
    names = ["Bare", "Modified", "Child"]
    with d.override():
        bpy.ops.object.select_all(action="DESELECT")
        for name in names:
            bpy.data.objects[name].select_set(True)
        bpy.context.view_layer.objects.active = modified
        bpy.ops.view3d.view_selected()
    settings = bpy.context.scene.rodin_texture_settings
    settings.image = bpy.data.images.load(params["image"])
    settings.apply_mode, settings.unwrap_missing_uvs = "ORIGINAL", True
    yield from d.redraw()
    d.facts["before"] = {"texts": d.texts(MAIN)}
    buttons = yield from d.sidebar_buttons()
    checkbox = next(what for what in buttons if what.endswith("rodin_texture_settings.together"))
    yield from d.press(checkbox)
    yield from d.screenshot("together-announced")
    d.facts["announced"] = {"texts": d.texts(MAIN), "too_wide": too_wide(d)}
    d.facts["together_on"] = settings.together
    d.mark("generate")
    yield from d.press("bpy.ops.rodin_texture.generate(")
    d.facts["final"] = yield from follow(d, modified)
    bake_job = d.module("blender.bake_job")
    baked_onto, d.facts["in_line"] = [], {}
    while True:  # which mesh each bake job is for, as it runs, and who waits behind it
        for name in names:
            if bake_job.running(bpy.data.objects[name]) is not None and name not in baked_onto:
                baked_onto.append(name)
                after = {n: bake_job.baked_after(bpy.data.objects[n]) for n in names}
                yield from d.screenshot(f"baking-{name}")
                d.facts["in_line"][name] = {"after": after, "job_texts": d.texts(JOB)}
        meshes = [bpy.data.objects[name] for name in names]
        done = all(f"{obj.name}_rodin" in obj.material_slots for obj in meshes)
        if done and not any(bake_job.running(obj) for obj in meshes):
            break
        yield 0.05
    d.mark("baked")
    d.facts["baked_onto"] = baked_onto
    d.facts["gaps"] = d.gaps("generate", "baked")
    d.view3d.spaces.active.shading.color_type = "TEXTURE"  # to see the baked textures
    yield from d.screenshot("together-baked")
    d.facts["job_texts"] = d.texts(JOB)
    d.facts["job_too_wide"] = too_wide(d)
    d.facts["baked"] = {name: bake_state(name, params["results"]) for name in names}
    d.facts["task_uuids"] = [bpy.data.objects[n].rodin_texture.task_uuid for n in names]
    yield from d.key("Z", ctrl=True)
    yield from d.redraw()
    d.facts["undone"] = {name: bake_state(name, params["results"]) for name in names}
    d.facts["undone_jobs"] = [
        (bpy.data.objects[n].rodin_texture.status, bpy.data.objects[n].rodin_texture.task_uuid)
        for n in names
    ]
    yield from d.screenshot("together-undone")


def refusals(d) -> dict:
    """What Apply Result and Generate say for an object whose result is being baked."""
    said = {}
    for operator in ("apply", "generate"):
        try:
            with d.override():
                getattr(bpy.ops.rodin_texture, operator)("EXEC_DEFAULT")
        except RuntimeError as error:
            said[operator] = str(error)
        else:
            said[operator] = "(accepted)"
    return said


def chinese(d, params):
    """The whole flow in Simplified Chinese; the user moves on to another object before the
    result arrives; then Replace Mesh from the panel."""
    preferences = bpy.context.preferences.view
    preferences.language = "zh_HANS"
    preferences.use_translate_interface = True
    preferences.use_translate_tooltips = True
    preferences.use_translate_reports = True
    yield from start(d, params)
    obj = bpy.context.active_object
    yield from d.screenshot("zh-start")
    d.facts["start_texts"] = d.texts(MAIN)
    yield from pick_image(d, params["image"])
    yield from d.press("bpy.ops.rodin_texture.generate(")
    yield from follow(d, obj, until=("generating",))
    with d.override():  # the user moves on: a cube of their own, selected and active
        bpy.ops.mesh.primitive_cube_add(location=(4.0, 0.0, 0.0))
    other = bpy.context.active_object.name
    yield from follow(d, obj)
    yield from d.wait_until(lambda: obj.rodin_texture.result_object is not None, "the result")
    yield from d.screenshot("zh-result")
    d.facts["arrived"] = scene_facts(obj)
    d.facts["other"] = other
    view_layer = bpy.context.view_layer
    obj.hide_set(False)  # back to the original, as from the outliner
    view_layer.objects.active = obj
    bpy.context.scene.rodin_texture_settings.apply_mode = "REPLACE"
    yield from d.press("bpy.ops.rodin_texture.apply(")
    yield from d.screenshot("zh-replaced")
    d.facts["replaced"] = {"mesh": obj.data.name, "texts": d.texts(JOB), "too_wide": too_wide(d)}
    preferences.language = "en_US"  # the same messages, drawn again in English
    yield from d.screenshot("en-replaced")
    d.facts["english_texts"] = d.texts(JOB)


def history(d, params):
    """Three variants from the panel and another one chosen; the History section opened; then
    a new task, the file closed unsaved while it runs (File > New), and Recover Results in the
    new file puts its result on the active object."""
    yield from start(d, params)
    obj = bpy.context.active_object
    yield from pick_image(d, params["image"])
    settings = bpy.context.scene.rodin_texture_settings
    settings.variants = 3  # as typed into the field
    yield from d.redraw()
    d.facts["generate_button"] = [t for t in d.texts(MAIN) if t.startswith("Generate Texture")]
    yield from d.press("bpy.ops.rodin_texture.generate(")
    yield from follow(d, obj)
    tasks = d.module("blender.history")
    group = obj.rodin_texture.variant_group

    def arrived():
        return [task for task in tasks.variants(group) if task.state != "submitted"]

    yield from d.wait_until(lambda: len(arrived()) == 3, "the three variants", 90)
    yield 1.0  # their previews load on a timer (the result is active: it shows its source's)
    yield from d.screenshot("variants")
    d.facts["variants"] = {
        "seeds": [task.seed for task in tasks.variants(group)],
        "texts": d.texts(JOB),
        "previews": sum(entry["kind"] == "template_icon" for entry in d.drawn.get(JOB, [])),
        "too_wide": too_wide(d),
    }
    chosen = tasks.variants(group)[2].task_uuid
    yield from d.press(f'bpy.ops.rodin_texture.history_apply(task_uuid="{chosen}"')
    yield from d.wait_until(lambda: obj.rodin_texture.task_uuid == chosen, "the variant chosen")
    yield from d.screenshot("variant-chosen")
    d.facts["chosen"] = {**scene_facts(obj), "task_uuid": chosen, "texts": d.texts(JOB)}
    settings.show_history = True  # as a click on its header does
    yield 2.0  # Blender slides the section open (slowly, in software OpenGL)
    yield from d.screenshot("history")
    d.facts["history_texts"] = d.texts(MAIN)

    settings.variants = 1
    for other in bpy.context.view_layer.objects:  # the original, selected as from the outliner
        other.select_set(other == obj)
    bpy.context.view_layer.objects.active = obj
    obj.hide_set(False)
    yield from d.press("bpy.ops.rodin_texture.generate(")
    yield from d.wait_until(lambda: obj.rodin_texture.task_uuid, "the new task's id")
    lost = obj.rodin_texture.task_uuid
    with bpy.context.temp_override(window=d.window):  # not the old screen's area: it goes
        bpy.ops.wm.read_homefile()  # File > New, the changes not saved
    yield 1.0  # the new screen, before anything touches it
    yield from d.open_sidebar_tab("Rodin")
    yield from d.wait_until(lambda: lost in [t.task_uuid for t in tasks.to_recover()], "offer")
    yield from d.screenshot("recovery-offered")
    d.facts["offered"] = {"texts": d.texts(MAIN), "operators": d.operators(MAIN)}
    cube = bpy.context.active_object
    yield from d.press("bpy.ops.rodin_texture.recover(")
    yield from d.wait_until(lambda: cube.rodin_texture.result_object is not None, "recovered", 90)
    yield from d.screenshot("recovered")
    d.facts["recovered"] = {
        **scene_facts(cube),
        "task_uuid": cube.rodin_texture.task_uuid,
        "lost": lost,
        "main_operators": d.operators(MAIN),
    }


def time_addon_work(d) -> list[tuple[float, float]]:
    """(when, seconds) of each call the add-on's code takes on the main thread: its timers,
    its panels' drawing, its operators."""
    calls: list[tuple[float, float]] = []

    def timed(function):
        def call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                calls.append((started, time.perf_counter() - started))

        call.__name__ = function.__name__
        return call

    timers = {"blender.pump": ("pump", "finish_done_jobs"), "blender.bake_job": ("follow",)}
    for module_name, names in timers.items():
        module = sys.modules.get(f"{d.addon}.{module_name}")  # an older add-on may lack one
        for name in names if module else ():
            setattr(module, name, timed(getattr(module, name)))

    # Blender calls a class's method with as many arguments as its code declares.
    def method(function, with_event):
        timed_function = timed(function)
        if with_event:
            return lambda self, context, event: timed_function(self, context, event)
        return lambda self, context: timed_function(self, context)

    for cls in (*d.module("blender.panel").CLASSES, *d.module("blender.operators").CLASSES):
        for name in ("draw", "execute", "invoke"):
            function = getattr(cls, name, None)
            if function is not None and function.__module__.startswith(d.addon):
                setattr(cls, name, method(function, with_event=name == "invoke"))
    return calls


def count_redraws(d) -> dict[str, list[float]]:
    """When Blender finished drawing the viewport and the sidebar, from now on."""
    times: dict[str, list[float]] = {"viewport": [], "sidebar": []}
    for region, key in (("WINDOW", "viewport"), ("UI", "sidebar")):
        bpy.types.SpaceView3D.draw_handler_add(
            lambda key=key: times[key].append(time.perf_counter()), (), region, "POST_PIXEL"
        )
    return times


def pictures(d, params):
    """The README's pictures: the panel with an image picked, while generating and when done,
    the textured result, then in Simplified Chinese the job panel and a bake under way."""
    yield from start(d, params, mesh=params["model"])
    obj = bpy.context.active_object
    obj.name = "Vase"
    rects = d.facts["rects"] = {}
    for name, region in (("sidebar", d.sidebar), ("area", d.view3d)):
        rects[name] = [
            region.x,
            d.window.height - region.y - region.height,
            region.width,
            region.height,
        ]
    yield from pick_image(d, params["image"])
    yield from d.screenshot("panel-image")
    yield from d.press("bpy.ops.rodin_texture.generate(")
    yield from d.wait_until(lambda: obj.rodin_texture.status == "generating", "generating", 60)
    yield 1.0
    yield from d.screenshot("panel-generating")
    yield from d.wait_until(lambda: obj.rodin_texture.result_object is not None, "the result", 120)
    yield from d.press("bpy.ops.rodin_texture.view_texture(")
    yield 1.0
    yield from d.screenshot("result")
    preferences = bpy.context.preferences.view
    preferences.language = "zh_HANS"
    yield from d.press("bpy.ops.rodin_texture.show_original(")
    yield 1.0
    yield from d.screenshot("panel-zh-done")
    settings = bpy.context.scene.rodin_texture_settings
    settings.apply_mode, settings.bake_size = "ORIGINAL", "1024"
    settings.unwrap_missing_uvs = True  # the vase has no UV map
    yield from d.press("bpy.ops.rodin_texture.apply(")
    bake_job = d.module("blender.bake_job")
    yield from d.wait_until(
        lambda: bake_job.running(obj) is not None and bake_job.running(obj).step[1] == 2,
        "the second map",
        120,
    )
    yield from d.screenshot("panel-zh-baking")
    yield from d.wait_until(lambda: bake_job.running(obj) is None, "the bake's end", 120)
