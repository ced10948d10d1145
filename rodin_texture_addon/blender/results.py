"""What finished jobs bring, put in the scene: how to apply (the panel's choice or the
caller's), applying (a new object, the mesh replaced, or baked onto the original), previews."""

import queue
from pathlib import Path

import bpy

from ..rodin import contract
from . import apply, bake, bake_job, checks, errors, export, session, timers, together, translations
from .errors import UserError
from .properties import APPLY_MODE_ITEMS, BAKE_MATERIAL_ITEMS, BAKE_SIZE_ITEMS
from .screen import redraw_sidebars


def how_to_apply(
    context, apply_mode=None, bake_size=None, bake_material=None, unwrap_missing_uvs=None
) -> tuple[str, bake.BakeOptions]:
    """The apply mode and bake options: each value given (not None), else the panel's."""
    settings = context.scene.rodin_texture_settings
    for name, value, items in (
        ("apply_mode", apply_mode, APPLY_MODE_ITEMS),
        ("bake_size", bake_size, BAKE_SIZE_ITEMS),
        ("bake_material", bake_material, BAKE_MATERIAL_ITEMS),
    ):
        allowed = [item[0] for item in items]
        if value is not None and value not in allowed:
            raise UserError(f"{name}: must be one of {', '.join(allowed)}, not {value!r}")

    def chosen(value, panel_value):
        return panel_value if value is None else value

    options = bake.bake_options(
        chosen(bake_size, settings.bake_size),
        chosen(bake_material, settings.bake_material),
        chosen(unwrap_missing_uvs, settings.unwrap_missing_uvs),
    )
    return chosen(apply_mode, settings.apply_mode), options


@timers.timer
def finish_done_jobs(every: bool = bpy.app.background) -> float | None:
    """Load the previews of finished jobs and apply the results that were asked for.

    Runs as a timer (or from the headless loop), not in the pump: it reads files. As a timer,
    one job a call, so results arriving together are imported one main-loop turn apart."""
    runtime = session.current()
    while runtime is not None:
        try:
            job_id = runtime.finished.get_nowait()
        except queue.Empty:
            break
        obj = session.find_job_object(job_id)
        if obj is None:
            continue
        state = obj.rodin_texture
        load_preview(state)
        followed = runtime.followed.get(job_id)
        if followed is not None and followed.apply:
            followed.apply = False
            try:
                apply_job(bpy.context, obj, *(followed.apply_choice or ()))
            except Exception as error:  # this job fails; the other finished jobs go on
                errors.mark_not_applied(state, error)
        if not every:
            break
    redraw_sidebars()
    return 0.0 if runtime is not None and not runtime.finished.empty() else None


def load_preview(state) -> None:
    """Load a job's preview picture, if it has one on disk, for the panel to show."""
    if state.preview_path and Path(state.preview_path).is_file():
        apply.load_preview(Path(state.preview_path))


def preview_image(path: str) -> bpy.types.Image | None:
    """The loaded preview image of a result, if any (drawing must not load files)."""
    if not path:
        return None
    return next((image for image in bpy.data.images if image.filepath == path), None)


def apply_job(
    context, obj, mode: str | None = None, bake_options: bake.BakeOptions | None = None
) -> bpy.types.Object:
    """Put the object's downloaded result in the scene, linked both ways with its source; or,
    in mode ``ORIGINAL``, bake it onto the object's own UVs (with a window, as Blender's
    background bake job: the object has its material when ``bake_job`` says it is done). A
    result of meshes textured together goes onto each of them that still shows the task.
    Mode and options default to the panel's. With a window, the change is one undo step."""
    state = obj.rodin_texture
    if not state.model_path or not Path(state.model_path).is_file():
        raise UserError(f"{obj.name} has no downloaded result to apply")
    members = together.members(obj)
    for member in members:
        bake_job.refuse_if_baking(member)
    panel_mode, panel_options = how_to_apply(context)
    mode = mode or panel_mode
    model = Path(state.model_path)
    if state.proxy:
        checks.refuse_replacing_with_proxy(obj.name, mode)
    if mode == "ORIGINAL":
        material = state.settings.get("material", contract.Material.PBR)
        options = bake_options or panel_options
        if state.together:
            _bake_each(context, [m.name for m in members], model, material, options)
        elif timers.TIMERS_FIRE:
            bake_job.start(context, obj, model, material, options, on_success=_baked)
        else:
            bake.apply_to_original(context, obj, model, material, options)
            session.note_applied(obj)
        return obj
    choices = {"replace": mode == "REPLACE", "in_place": not bpy.app.background,
               "from_proxy": bool(state.proxy)}  # fmt: skip
    if state.together:
        box = state.together["box"]
        shown = apply.apply_joined(context, together.parts(members), box, model, **choices)
    else:
        shown = [apply.apply_result(context, obj, model, **choices)]
    for member, result in zip(members, shown, strict=True):
        if result is not member:
            result.rodin_texture.source_object = member
            member.rodin_texture.result_object = result
        session.note_applied(member)
    _push_undo_step(members)
    return shown[0]


def _bake_each(context, names: list[str], model, material, options) -> None:
    """Bake a result of meshes textured together onto each of them in turn (named: an undo
    between two bakes makes new objects): in background mode all at once; with a window, one
    of Blender's bake jobs after another, then one undo step. A mesh that cannot take it is
    told on its job; the others go on."""
    baked = []

    def bake_next(stopped: bool = False) -> None:
        while names and not stopped:
            member = bpy.data.objects.get(names.pop(0))
            if member is None:
                continue
            try:
                placement = together.placement(member)
                if not timers.TIMERS_FIRE:
                    bake.apply_to_original(context, member, model, material, options,
                                           placement=placement)  # fmt: skip
                    session.note_applied(member)
                    continue
                bake_job.start(bpy.context, member, model, material, options,
                               on_success=lambda source: baked.append(source.name),
                               placement=placement, then=bake_next, after=names)  # fmt: skip
                return
            except Exception as error:
                errors.mark_not_applied(member.rodin_texture, error)
        done = [bpy.data.objects[name] for name in baked if name in bpy.data.objects]
        for member in done:
            _show_baked(member)
        if done:
            _push_undo_step(done)

    bake_next()


def _baked(source) -> None:
    """The window's bake is done: the original, textured now, is what shows."""
    _show_baked(source)
    _push_undo_step([source])


def _show_baked(source) -> None:
    pair = source.rodin_texture.result_object
    if pair is not None:
        apply.show_result(bpy.context.view_layer, source, pair, shown=False)
    session.note_applied(source)


def _push_undo_step(objects) -> None:
    """With a window, one undo step for an applied result (timers make none of their own,
    and a bake's operator ends before the bake does)."""
    if not bpy.app.background:
        names = export.joined_name([obj.name for obj in objects])
        bpy.ops.ed.undo_push(message=translations.iface(f"Apply Rodin texture to {names}"))
