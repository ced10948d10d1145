"""The sidebar tab "Rodin" in the 3D Viewport. Draws state; never does work."""

import math
import re
import time
from pathlib import Path

import blf
import bpy

from ..geometry import proxy
from ..jobs import Phase
from ..rodin import contract
from ..rodin.texture_settings import TEXTURE_SETTINGS
from . import (
    bake_job,
    balance,
    checks,
    following,
    history,
    preferences,
    pump,
    results,
    session,
    together,
    translations,
)
from .operators import (
    RODIN_TEXTURE_OT_apply,
    RODIN_TEXTURE_OT_attach_task,
    RODIN_TEXTURE_OT_cancel_bake,
    RODIN_TEXTURE_OT_check_now,
    RODIN_TEXTURE_OT_clear,
    RODIN_TEXTURE_OT_copy_task_id,
    RODIN_TEXTURE_OT_download,
    RODIN_TEXTURE_OT_generate,
    RODIN_TEXTURE_OT_history_apply,
    RODIN_TEXTURE_OT_history_copy_id,
    RODIN_TEXTURE_OT_history_follow,
    RODIN_TEXTURE_OT_history_open_folder,
    RODIN_TEXTURE_OT_open_folder,
    RODIN_TEXTURE_OT_open_preferences,
    RODIN_TEXTURE_OT_recover,
    RODIN_TEXTURE_OT_refresh_balance,
    RODIN_TEXTURE_OT_resume,
    RODIN_TEXTURE_OT_show_original,
    RODIN_TEXTURE_OT_view_texture,
    result_pair,
    shows_solid_colours,
)

PHASE_ICONS = {
    Phase.IDLE: "DOT",
    Phase.EXPORTING: "EXPORT",
    Phase.UPLOADING: "EXPORT",
    Phase.WAITING: "SORTTIME",
    Phase.GENERATING: "SHADING_TEXTURE",
    Phase.DOWNLOADING: "IMPORT",
    Phase.DONE: "CHECKMARK",
    Phase.FAILED: "ERROR",
}


class _RodinPanel:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Rodin"


def draw_texture_settings(layout, settings, *, advanced: bool) -> None:
    """The texture settings of one section of the panel, in the table's order; choices of the
    main section as a row of buttons."""
    for setting in TEXTURE_SETTINGS:
        if setting.advanced != advanced:
            continue
        draw = _SETTING_DRAWERS.get(setting.name)
        if draw is not None:
            draw(layout, settings)
        else:
            layout.prop(settings, setting.name, expand=not advanced and bool(setting.choices))


def _draw_prompt(layout, settings) -> None:
    # Translated here: Blender is not known to translate placeholders itself.
    hint = translations.iface("Prompt (optional)")
    layout.prop(settings, "prompt", text="", placeholder=hint, translate=False)


def _draw_seed(layout, settings) -> None:
    row = layout.row(align=True)
    row.prop(settings, "random_seed", text="", icon="FILE_REFRESH")
    sub = row.row(align=True)
    sub.enabled = not settings.random_seed
    sub.prop(settings, "seed")


_SETTING_DRAWERS = {"prompt": _draw_prompt, "seed": _draw_seed}


class RODIN_TEXTURE_PT_main(_RodinPanel, bpy.types.Panel):
    bl_label = "Rodin Texture"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.rodin_texture_settings
        layout.template_ID(settings, "image", open="image.open", text="Image")
        if settings.image is not None:
            layout.template_icon(icon_value=layout.icon(settings.image), scale=5.0)
        draw_texture_settings(layout, settings, advanced=False)
        meshes = [obj for obj in context.selected_objects if obj.type == "MESH"]
        together = settings.together and len(meshes) > 1
        layout.prop(settings, "variants")
        if len(meshes) > 1:
            layout.prop(settings, "together")
        count = 1 if together else (len(meshes) or 1) * settings.variants
        cost = contract.CREDITS_PER_TASK * count
        reason = checks.why_cannot_generate(context)
        column = layout.column()
        column.scale_y = 1.5
        column.enabled = not reason
        column.operator(
            RODIN_TEXTURE_OT_generate.bl_idname,
            text=translations.iface(f"Generate Texture ({cost:g} credits)"),
            translate=False,
            icon="SHADING_TEXTURE",
        )
        if reason:
            label(layout, context, translations.iface(reason), icon="ERROR")
            if preferences.key_problem(context):  # no key, or one that cannot work
                layout.operator(RODIN_TEXTURE_OT_open_preferences.bl_idname, icon="PREFERENCES")
        else:
            if together:
                draw_together_plan(layout, context, meshes, settings)
            draw_upload_plan(layout, context, meshes, settings)
        if any(checks.why_not_followed(context, obj) for obj in following.unfinished_objects()):
            layout.operator(RODIN_TEXTURE_OT_resume.bl_idname, icon="PLAY")
        lost = len(history.to_recover())
        if lost:
            box = layout.box()
            label(box, context, translations.iface(f"{lost} paid result(s) never applied"), "INFO")
            box.operator(RODIN_TEXTURE_OT_recover.bl_idname, icon="RECOVER_LAST")

        balance.fetch_balance_once(context)
        row = layout.row(align=True)
        shown = translations.iface(f"Balance: {balance.balance_text() or '?'}")
        row.label(text=shown, translate=False)
        row.operator(RODIN_TEXTURE_OT_refresh_balance.bl_idname, text="", icon="FILE_REFRESH")
        draw_history(layout, context)


class RODIN_TEXTURE_PT_advanced(_RodinPanel, bpy.types.Panel):
    bl_label = "Advanced"
    bl_parent_id = "RODIN_TEXTURE_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        settings = context.scene.rodin_texture_settings
        layout = self.layout
        layout.use_property_split = True
        draw_texture_settings(layout, settings, advanced=True)
        layout.prop(settings, "apply_mode")
        if settings.apply_mode == "ORIGINAL":
            layout.prop(settings, "bake_size")
            layout.prop(settings, "bake_material")
            layout.prop(settings, "unwrap_missing_uvs")
        layout.prop(settings, "use_proxy")
        row = layout.row()
        row.enabled = settings.use_proxy
        row.prop(settings, "proxy_detail")


def draw_together_plan(layout, context, meshes, settings) -> None:
    """What Texture Together does with the selected meshes, said before anything is spent."""
    one, apart = contract.CREDITS_PER_TASK, contract.CREDITS_PER_TASK * len(meshes)
    text = f"{len(meshes)} meshes in one task: {one:g} credits, not {apart:g}"
    label(layout, context, translations.iface(text), icon="LINKED")
    label(layout, context, translations.iface("They share one texture's resolution"), "INFO")
    then = {
        "ORIGINAL": "The result is baked onto each mesh's own UVs",
        "NEW_OBJECT": "The result is cut into one new object over each mesh",
        "REPLACE": "Each mesh gets its piece of the result's mesh",
    }
    label(layout, context, translations.iface(then[settings.apply_mode]), icon="INFO")


def draw_upload_plan(layout, context, meshes, settings) -> None:
    """What happens to each selected mesh over Rodin's limit, said before anything is spent."""
    over = checks.over_the_limit(context, meshes, settings.together)
    if not over:
        return
    if not settings.use_proxy:
        for name, triangles in over:
            count = count_text(triangles)
            text = f"{name}: {count} triangles, over Rodin's 10 MB: turn on Upload Proxies"
            label(layout, context, translations.iface(text), icon="ERROR")
        return
    limit = contract.MAX_MODEL_BYTES * settings.proxy_detail / 100
    size = count_text(proxy.likely_triangles(limit))
    for name, triangles in over:
        text = f"{name}: {count_text(triangles)} triangles, sent as a {size} triangle proxy"
        label(layout, context, translations.iface(text), icon="MOD_DECIM")
    then = {
        "ORIGINAL": ("Its textures are baked back onto your mesh", "INFO"),
        "NEW_OBJECT": ("The result is the textured proxy, beside your mesh", "INFO"),
        "REPLACE": ("Replace Mesh cannot take a proxy: choose Apply to Original", "ERROR"),
    }
    text, icon = then[settings.apply_mode]
    label(layout, context, translations.iface(text), icon=icon)


def draw_proxy(layout, context, record: dict) -> None:
    """What a job sent in its mesh's place, and how far from the mesh it strays."""
    sent, whole = count_text(record["triangles"]), count_text(record["source_triangles"])
    text = translations.iface(f"Sent as a {sent} triangle proxy of {whole}")
    label(layout, context, text, icon="MOD_DECIM")
    mean, worst = (percent_text(record[name]) for name in ("mean_deviation", "worst_deviation"))
    text = f"Deviation: {mean} mean, {worst} worst"
    label(layout, context, translations.iface(text))


def percent_text(share: float) -> str:
    """A share of a mesh's size as a percentage to two figures: 0.00015%, 0.10%, 2.3%."""
    percent = share * 100
    if percent <= 0:
        return "0%"
    return f"{percent:.{max(0, 1 - math.floor(math.log10(percent)))}f}%"


def count_text(count: int) -> str:
    """A count as a person reads it at a glance: 950, 390 k, 1.8 M."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} M"
    if count >= 10_000:
        return f"{round(count / 10_000) * 10} k"
    return f"{count:,}"


class RODIN_TEXTURE_PT_job(_RodinPanel, bpy.types.Panel):
    bl_label = "Job"
    bl_parent_id = "RODIN_TEXTURE_PT_main"

    @classmethod
    def poll(cls, context):
        obj = context.active_object
        return obj is not None and bool(obj.rodin_texture.job_id or obj.rodin_texture.source_object)

    def draw(self, context):
        obj = context.active_object
        state = obj.rodin_texture
        layout = self.layout
        if state.source_object is not None:
            source = translations.iface(f"Result of {state.source_object.name}")
            layout.label(text=source, translate=False, icon="LINKED")
            draw_result_view(layout, context)
            if state.source_object.rodin_texture.variant_group:
                draw_variants(layout, context, state.source_object)
            return
        phase = state.phase
        if phase in (Phase.UPLOADING, Phase.DOWNLOADING):
            # The bar shows how far: the line above says only what.
            status = translations.iface(phase.value)
            text = f"{state.progress:.0%}"
            layout.label(text=status.capitalize(), translate=False, icon=PHASE_ICONS[phase])
            layout.progress(factor=state.progress, text=text)
        else:
            status = translations.iface(pump.describe(obj))
            label(layout, context, status[:1].upper() + status[1:], icon=PHASE_ICONS[phase])
        message = translations.iface(state.message)
        if state.message and phase is not Phase.FAILED and message.lower() not in status.lower():
            label(layout, context, message)
        unrecorded = session.unrecorded(state.task_uuid)
        if unrecorded:  # the task line below has the button that copies the id
            label(layout, context, translations.iface(unrecorded), icon="ERROR")
        if state.together:
            others = ", ".join(member.name for member in together.members(obj)[1:])
            text = translations.iface(f"One task with {others or 'no other mesh now'}")
            label(layout, context, text, icon="LINKED")
        if state.proxy:
            draw_proxy(layout, context, state.proxy)
        baking, ahead = bake_job.running(obj), bake_job.baked_after(obj)
        if baking is not None:
            draw_bake(layout, context, baking)
        elif ahead:
            label(layout, context, translations.iface(f"To be baked after {ahead}"), icon="TIME")
        unfollowed = checks.why_not_followed(context, obj)
        if unfollowed:
            text = translations.iface(f"Not being followed: {unfollowed}")
            label(layout, context, text, icon="ERROR")
            if state.task_uuid:
                layout.operator(RODIN_TEXTURE_OT_resume.bl_idname, icon="PLAY")
        if state.hint:
            label(layout, context, translations.iface(state.hint), icon="INFO")
        if state.submitted_time:
            end = state.finished_time or time.time()
            elapsed = translations.iface(f"Elapsed: {int(end - state.submitted_time)} s")
            layout.label(text=elapsed, translate=False)
        if state.task_uuid:
            # On rows of its own: the id is as wide as the sidebar.
            row = layout.row(align=True)
            row.label(text=translations.iface("Task ID"), translate=False)
            row.operator(RODIN_TEXTURE_OT_copy_task_id.bl_idname, text="", icon="COPYDOWN")
            label(layout, context, state.task_uuid)
        actions = layout.column(align=True)
        actions.enabled = baking is None and not ahead
        row = actions.row(align=True)
        row.operator(RODIN_TEXTURE_OT_check_now.bl_idname, icon="FILE_REFRESH")
        row.operator(RODIN_TEXTURE_OT_download.bl_idname, icon="IMPORT")
        row = actions.row(align=True)
        row.operator(RODIN_TEXTURE_OT_apply.bl_idname, icon="CHECKMARK")
        row.operator(RODIN_TEXTURE_OT_open_folder.bl_idname, text="", icon="FILE_FOLDER")
        row.operator(RODIN_TEXTURE_OT_clear.bl_idname, text="", icon="X")
        if state.result_object is not None:
            result = translations.iface(f"Result: {state.result_object.name}")
            layout.label(text=result, translate=False, icon="OBJECT_DATA")
        draw_result_view(layout, context)
        if state.variant_group:
            draw_variants(layout, context, obj)
        else:
            preview = results.preview_image(state.preview_path)
            if preview is not None:
                layout.template_icon(icon_value=layout.icon(preview), scale=5.0)


def draw_variants(layout, context, owner) -> None:
    """The variants made with ``owner``'s task, side by side: each one's preview and seed, and
    Use This One for the others (their results are on disk: choosing costs nothing). Drawn for
    the owner and for its result, and applied to the owner either way."""
    state = owner.rodin_texture
    refused = pump.refused_variants(owner)
    if refused:
        label(layout, context, translations.iface(refused), icon="ERROR")
    variants = history.variants(state.variant_group)
    if not variants:
        return
    grid = layout.grid_flow(columns=len(variants), even_columns=True, align=True)
    for task in variants:
        column = grid.column(align=True)
        preview = results.preview_image(task.preview_path)
        if preview is not None:
            column.template_icon(icon_value=layout.icon(preview), scale=3.0)
        else:
            column.label(text="", icon=history.STATE_ICONS[task.state])
        column.label(text=translations.iface(f"Seed {task.seed}"), translate=False)
        if task.task_uuid == state.task_uuid:
            column.label(text=translations.iface("In use"), translate=False, icon="CHECKMARK")
        else:
            use = column.operator(
                RODIN_TEXTURE_OT_history_apply.bl_idname,
                text=translations.iface("Use"),  # "Use This One" is cut three abreast
                translate=False,
            )
            use.task_uuid, use.object_name = task.task_uuid, owner.name
            column.enabled = task.state in ("downloaded", "applied")


def draw_bake(layout, context, baking) -> None:
    """How far Apply to Original is, and how to stop it."""
    name, step, steps = baking.step
    text = translations.iface(f"Baking {translations.iface(name)} ({step} of {steps})")
    layout.label(text=text, translate=False, icon="RENDER_STILL")
    layout.progress(factor=(step - 1) / steps, text=f"{step - 1}/{steps}")
    if bake_job.stop_asked():
        label(layout, context, translations.iface("Stopping once this map is baked"), icon="X")
    else:
        layout.operator(RODIN_TEXTURE_OT_cancel_bake.bl_idname, icon="CANCEL")


def draw_result_view(layout, context) -> None:
    """How to look at a result: it or its original (never both), and the texture in Solid."""
    pair = result_pair(context.active_object)
    if pair is not None:
        showing_result = pair[1].visible_get()
        text = "Show Original" if showing_result else "Show Result"
        icon = "HIDE_OFF" if showing_result else "HIDE_ON"
        layout.operator(
            RODIN_TEXTURE_OT_show_original.bl_idname,
            text=translations.iface(text),
            translate=False,
            icon=icon,
        )
    has_texture = pair is not None or context.active_object.rodin_texture.model_path
    if has_texture and shows_solid_colours(context.space_data):
        layout.operator(RODIN_TEXTURE_OT_view_texture.bl_idname, icon="TEXTURE")


def label(layout, context, text: str, icon: str = "NONE") -> None:
    """A label broken into lines at the sidebar's width, where Blender would cut it short."""
    for index, line in enumerate(wrap(text, _text_room(context))):
        layout.label(text=line, translate=False, icon=icon if index == 0 else "BLANK1")


def wrap(text: str, room: float | None) -> list[str]:
    """``text`` in lines at most ``room`` pixels wide in the UI font (None: one line)."""
    if room is None or _width(text) <= room:
        return [text]
    lines, line = [], ""
    for piece in _pieces(text, room):
        if line and _width((line + piece).rstrip()) > room:
            lines.append(line.rstrip())
            line = ""
        line += piece
    return [*lines, line.rstrip()]


def _pieces(text: str, room: float):
    """Words with the spaces or hyphen after them (ids break at their hyphens); a word wider
    than ``room`` (Chinese has no spaces) by its characters."""
    for word in re.findall(r"\S+?(?:-|\s+|$)", text):
        if _width(word.rstrip()) <= room:
            yield word
        else:
            yield from word


def _text_room(context) -> float | None:
    """The width a label's text has in the sidebar, in pixels (None: no region to measure)."""
    region = getattr(context, "region", None)
    if region is None or region.type != "UI":
        return None
    preferences = context.preferences
    scale = preferences.system.ui_scale
    blf.size(0, preferences.ui_styles[0].widget.points * scale)
    # The panel's margins, the tab strip, a label's icon and the text's own padding (with 62,
    # lines that measured as fitting were still cut short in the window).
    return region.width - 72 * scale


def _width(text: str) -> float:
    return blf.dimensions(0, text)[0]


def draw_history(layout, context) -> None:
    """The tasks of the last 7 days, newest first, in a section of their own (closed at first):
    each can be applied again, at no cost."""
    settings = context.scene.rodin_texture_settings
    header, body = layout.panel_prop(settings, "show_history")
    header.label(text=translations.iface("History"), translate=False, icon="TIME")
    if body is None:
        return
    row = body.row()
    row.prop(settings, "history_all_files")
    row.operator(RODIN_TEXTURE_OT_attach_task.bl_idname, text="", icon="PASTEDOWN")
    tasks = history.recent(this_file_only=not settings.history_all_files)
    for notice in history.notices():
        label(body, context, translations.iface(notice), icon="ERROR")
    if not tasks:
        body.label(text=translations.iface("No tasks in the last 7 days"), translate=False)
    for task in tasks[:HISTORY_ROWS]:
        draw_history_task(body.box(), context, task)


def draw_history_task(layout, context, task) -> None:
    """One task of the history: what and when, how far, from where, its preview, its actions."""
    row = layout.row()
    row.label(text=task.object_name or "?", translate=False, icon=history.STATE_ICONS[task.state])
    row.label(text=time.strftime("%a %d %H:%M", time.localtime(task.submitted_at)), translate=False)
    if task.applied_to:
        label(layout, context, translations.iface(f"Applied to {task.applied_to}"))
    else:
        label(layout, context, translations.iface(history.STATE_TEXTS[task.state]))
    where = Path(task.file_path).name if task.file_path else "an unsaved file"
    label(layout, context, translations.iface(f"From {where}, {task.cost:g} credits"))
    preview = results.preview_image(task.preview_path)
    if preview is not None:
        layout.template_icon(icon_value=layout.icon(preview), scale=3.0)
    buttons = [(RODIN_TEXTURE_OT_history_apply, {"icon": "CHECKMARK"})]
    if task.state == "submitted":
        buttons.append((RODIN_TEXTURE_OT_history_follow, {"icon": "PLAY"}))
    buttons.append((RODIN_TEXTURE_OT_history_open_folder, {"text": "", "icon": "FILE_FOLDER"}))
    buttons.append((RODIN_TEXTURE_OT_history_copy_id, {"text": "", "icon": "COPYDOWN"}))
    row = layout.row(align=True)
    for operator, options in buttons:
        row.operator(operator.bl_idname, **options).task_uuid = task.task_uuid


HISTORY_ROWS = 20
CLASSES = (RODIN_TEXTURE_PT_main, RODIN_TEXTURE_PT_advanced, RODIN_TEXTURE_PT_job)
