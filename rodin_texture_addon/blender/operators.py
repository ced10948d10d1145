"""Operators: every action of the panel, callable as ``bpy.ops.rodin_texture.*`` from scripts.

In background mode (``blender -b``, the ``bpy`` module) timers never run, so the operators that
start network work there also wait for it, pumping on the main thread, and return when done.
"""

import threading
from pathlib import Path

import bpy

from ..jobs import Phase
from ..rodin import contract
from ..rodin.texture_settings import SETTING_NAMES
from . import (
    api,
    apply,
    attaching,
    bake_job,
    balance,
    checks,
    errors,
    export,
    following,
    history,
    preferences,
    pump,
    results,
    screen,
    session,
    together,
    translations,
)
from .properties import (
    APPLY_CHOICES,
    UPLOAD_CHOICES,
    apply_choice_properties,
    declaring,
    texture_properties,
    upload_choice_properties,
    variants_property,
)

SKIP = {"SKIP_SAVE"}


def _active_job(context, needs: str = "job_id"):
    """The active object when its job has ``needs`` set (a task id, a result file, ...)."""
    obj = context.active_object
    return obj if obj is not None and getattr(obj.rodin_texture, needs) else None


def _disabled(cls, reason: str) -> bool:
    """False, with ``reason`` as the greyed-out button's tooltip."""
    cls.poll_message_set(translations.tip(reason))
    return False


def _has_task(cls, context) -> bool:
    obj = _active_job(context)
    if obj is None:
        return False
    if not obj.rodin_texture.task_uuid:
        return _disabled(cls, "The service never confirmed a task for this job")
    return True


def _has_download(cls, context) -> bool:
    obj = _active_job(context)
    if obj is None:
        return False
    state = obj.rodin_texture
    if not state.model_path:
        return _disabled(cls, "Nothing is downloaded yet")
    if not Path(state.model_path).is_file():
        return _disabled(cls, "The downloaded file is gone: press Download Again")
    return True


def _active_mesh(cls, context) -> bool:
    """Whether a mesh is active, to receive a task's result; greyed out with the reason if not."""
    if history.active_mesh(context) is None:
        return _disabled(cls, "Select the mesh to give the result to")
    return True


def _lacks_uvs(obj) -> bool:
    return obj.type == "MESH" and not obj.data.uv_layers


class _NeedsService:
    """Mixin: the button is disabled, with the reason, while the service cannot be reached;
    ``ready`` adds what else the operator needs."""

    @classmethod
    def poll(cls, context):
        reason = preferences.why_offline(context)
        if reason:
            return _disabled(cls, reason)
        return cls.ready(context)

    @classmethod
    def ready(cls, context) -> bool:
        return True


class _ReportsUserErrors:
    """Mixin: runs ``run`` and turns user and service errors into reports, not tracebacks."""

    def execute(self, context):
        try:
            return self.run(context)
        except errors.USER_FACING_ERRORS as error:
            self.report({"ERROR"}, translations.rpt(str(error)))
            return {"CANCELLED"}


@declaring(apply_choice_properties(options=SKIP))
class _ChoosesHowToApply:
    """Mixin: how a result is applied, each parameter overriding the panel when given."""

    __annotations__ = {}

    def given(self, names) -> dict:
        """The keyword parameters among ``names`` that the caller gave (the rest: the panel's)."""
        given = self.properties.is_property_set
        return {name: getattr(self, name) for name in names if given(name)}

    def apply_choice(self, context):
        return results.how_to_apply(context, **self.given(APPLY_CHOICES))


@declaring(
    texture_properties(clamped=False, options=SKIP)
    | upload_choice_properties(clamped=False, options=SKIP)
)
class RODIN_TEXTURE_OT_generate(
    _ChoosesHowToApply, _NeedsService, _ReportsUserErrors, bpy.types.Operator
):
    """Texture the selected meshes with Rodin from the reference image (0.5 credits a task)"""

    bl_idname = "rodin_texture.generate"
    bl_label = "Generate Texture"
    # An undo step (undoing the result goes back to here, the job kept), but not registered:
    # no Adjust Last Operation panel or Repeat Last to submit (and pay) again by accident.
    bl_options = {"UNDO"}

    image_path: bpy.props.StringProperty(name="Image Path", subtype="FILE_PATH", options=SKIP)
    variants: variants_property(options=SKIP)

    def run(self, context):
        objects = checks.target_meshes(context)
        if self.properties.is_property_set("image_path"):
            reference = self.image_path
        else:
            reference = context.scene.rodin_texture_settings.image
        given = self.given((*SETTING_NAMES, *APPLY_CHOICES, *UPLOAD_CHOICES, "variants"))
        generation = api.prepare(context, objects, reference, **given)
        if bpy.app.background or not generation.pending_proxies:
            return self.submitted(generation.start(context))
        # A proxy takes seconds to build: on a thread, while the window goes on.
        self._generation = generation
        self._builder = threading.Thread(target=generation.build_proxies, daemon=True)
        self._builder.start()
        names = ", ".join(pending.name for pending in generation.pending_proxies)
        self.report({"INFO"}, translations.rpt(f"Building the upload proxy of {names}"))
        self._timer = context.window_manager.event_timer_add(0.1, window=context.window)
        context.window_manager.modal_handler_add(self)
        screen.redraw_sidebars()  # the panel says so
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type != "TIMER" or self._builder.is_alive():
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        screen.redraw_sidebars()
        try:
            return self.submitted(self._generation.submit(context))
        except errors.USER_FACING_ERRORS as error:
            self.report({"ERROR"}, translations.rpt(str(error)))
            return {"CANCELLED"}

    def cancel(self, context):
        """Blender ends the wait for the proxy (a file opened, the window closed): nothing is
        sent, and the uploads go once the build is over."""
        context.window_manager.event_timer_remove(self._timer)
        self._generation.discard_after(self._builder)

    def submitted(self, job_ids):
        cost = contract.CREDITS_PER_TASK * len(job_ids)
        self.report(
            {"INFO"},
            translations.rpt(f"Submitting {len(job_ids)} texture task(s), {cost:g} credits"),
        )
        if bpy.app.background:
            return finish_headless(self, job_ids)
        return {"FINISHED"}


class RODIN_TEXTURE_OT_resume(_NeedsService, _ReportsUserErrors, bpy.types.Operator):
    """Pick up every unfinished texture job stored in this file (never submits again)"""

    bl_idname = "rodin_texture.resume"
    bl_label = "Resume Jobs"
    bl_options = {"REGISTER"}

    def run(self, context):
        session.forget_copied_jobs()
        objects = following.unfinished_objects()
        # Meshes textured together share one job: it is followed once.
        job_ids = list(dict.fromkeys(following.resume_job(context, obj) for obj in objects))
        job_ids += history.resume_variants(context)
        if not job_ids:
            self.report({"INFO"}, translations.rpt("No unfinished texture jobs in this file"))
            return {"FINISHED"}
        self.report({"INFO"}, translations.rpt(f"Resuming {len(job_ids)} texture job(s)"))
        if bpy.app.background:
            return finish_headless(self, job_ids)
        return {"FINISHED"}


class RODIN_TEXTURE_OT_check_now(_NeedsService, _ReportsUserErrors, bpy.types.Operator):
    """Ask the service for the active object's job status now"""

    bl_idname = "rodin_texture.check_now"
    bl_label = "Check Now"

    ready = classmethod(_has_task)

    def run(self, context):
        obj = context.active_object
        job_id = obj.rodin_texture.job_id
        if not session.get().manager.check_now(job_id):
            job_id = following.resume_job(context, obj)
        if bpy.app.background:
            return finish_headless(self, [job_id])
        return {"FINISHED"}


class RODIN_TEXTURE_OT_download(_NeedsService, _ReportsUserErrors, bpy.types.Operator):
    """Download the active object's result again, through fresh links"""

    bl_idname = "rodin_texture.download"
    bl_label = "Download Again"

    @classmethod
    def ready(cls, context):
        if not _has_task(cls, context):
            return False
        if context.active_object.rodin_texture.phase not in (Phase.DONE, Phase.FAILED):
            return _disabled(cls, "The job is still running: its result comes by itself")
        return True

    def run(self, context):
        job_id = following.download_job(context, context.active_object)
        if bpy.app.background:
            return finish_headless(self, [job_id])
        return {"FINISHED"}


class RODIN_TEXTURE_OT_apply(_ChoosesHowToApply, _ReportsUserErrors, bpy.types.Operator):
    """Put the active object's downloaded result in the scene, over the original"""

    bl_idname = "rodin_texture.apply"
    bl_label = "Apply Result"
    bl_options = {"REGISTER"}  # the undo step comes when the result is in place

    poll = classmethod(_has_download)

    def invoke(self, context, event):
        mode, options = self.apply_choice(context)
        obj = context.active_object
        if mode == "ORIGINAL" and not options.unwrap_missing_uvs and _lacks_uvs(obj):
            self.unwrap_missing_uvs = False
            return context.window_manager.invoke_props_dialog(self)
        return self.execute(context)

    def draw(self, context):
        """The dialog for a mesh without UVs: unwrap it, or cancel."""
        name = context.active_object.name
        self.layout.label(text=translations.iface(f"{name} has no UV map"), translate=False)
        self.layout.prop(self, "unwrap_missing_uvs")

    def run(self, context):
        mode, options = self.apply_choice(context)
        obj = context.active_object
        names = export.joined_name([member.name for member in together.members(obj)])
        result = results.apply_job(context, obj, mode, options)
        if bake_job.running(result) is not None:
            message = f"Baking the result onto {names}: the Rodin panel shows how far"
        else:
            message = f"Applied the result to {names}"
        self.report({"INFO"}, translations.rpt(message))
        return {"FINISHED"}


class RODIN_TEXTURE_OT_cancel_bake(bpy.types.Operator):
    """Stop baking the result onto the active object after the map being baked, undoing it all"""

    bl_idname = "rodin_texture.cancel_bake"
    bl_label = "Cancel Bake"

    @classmethod
    def poll(cls, context):
        obj = context.active_object
        return obj is not None and bake_job.running(obj) is not None and not bake_job.stop_asked()

    def execute(self, context):
        bake_job.ask_to_stop()
        screen.redraw_sidebars()
        return {"FINISHED"}


class RODIN_TEXTURE_OT_clear(_ReportsUserErrors, bpy.types.Operator):
    """Forget the active object's job and stop following it (the task stays in the service)"""

    bl_idname = "rodin_texture.clear"
    bl_label = "Clear Job"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        obj = _active_job(context)
        if obj is None:
            return False
        reason = checks.why_not_cleared(obj)
        return _disabled(cls, reason) if reason else True

    def run(self, context):
        following.clear_job(context.active_object)
        return {"FINISHED"}


def result_pair(obj):
    """(source, result) when ``obj`` is either and both are still in the scene, else None."""
    if obj is None:
        return None
    state = obj.rodin_texture
    source, result = (
        (state.source_object, obj) if state.source_object else (obj, state.result_object)
    )
    if source is None or result is None or source == result:
        return None
    return source, result


class RODIN_TEXTURE_OT_show_original(bpy.types.Operator):
    """Show the original object in place of its textured result, or the result again"""

    bl_idname = "rodin_texture.show_original"
    bl_label = "Show Original / Result"
    bl_options = {"REGISTER", "UNDO"}

    poll = classmethod(lambda cls, context: result_pair(context.active_object) is not None)

    def execute(self, context):
        source, result = result_pair(context.active_object)
        apply.show_result(context.view_layer, source, result, shown=not result.visible_get())
        return {"FINISHED"}


class RODIN_TEXTURE_OT_view_texture(bpy.types.Operator):
    """Colour the Solid view by the objects' textures (the viewport's Shading > Color: Texture)"""

    bl_idname = "rodin_texture.view_texture"
    bl_label = "Show Texture in Solid View"

    @classmethod
    def poll(cls, context):
        return shows_solid_colours(context.space_data)

    def execute(self, context):
        context.space_data.shading.color_type = "TEXTURE"
        return {"FINISHED"}


def shows_solid_colours(space) -> bool:
    """Whether a 3D viewport shades in Solid mode without its objects' textures."""
    return (
        space is not None
        and space.type == "VIEW_3D"
        and space.shading.type == "SOLID"
        and space.shading.color_type != "TEXTURE"
    )


class RODIN_TEXTURE_OT_open_folder(_ReportsUserErrors, bpy.types.Operator):
    """Open the folder holding the active object's result"""

    bl_idname = "rodin_texture.open_folder"
    bl_label = "Open Result Folder"

    @classmethod
    def poll(cls, context):
        obj = _active_job(context)
        if obj is not None and not obj.rodin_texture.model_path:
            return _disabled(cls, "Nothing is downloaded yet")
        return obj is not None

    def run(self, context):
        folder = Path(context.active_object.rodin_texture.model_path).parent
        if not folder.is_dir():
            raise errors.UserError(f"The folder {folder} no longer exists")
        bpy.ops.wm.path_open(filepath=str(folder))
        return {"FINISHED"}


class RODIN_TEXTURE_OT_copy_task_id(_ReportsUserErrors, bpy.types.Operator):
    """Copy the active object's task id to the clipboard"""

    bl_idname = "rodin_texture.copy_task_id"
    bl_label = "Copy Task ID"

    poll = classmethod(lambda cls, context: _active_job(context, "task_uuid") is not None)

    def run(self, context):
        context.window_manager.clipboard = context.active_object.rodin_texture.task_uuid
        self.report({"INFO"}, translations.rpt("Task ID copied"))
        return {"FINISHED"}


class RODIN_TEXTURE_OT_refresh_balance(_NeedsService, _ReportsUserErrors, bpy.types.Operator):
    """Ask the service for the account's credit balance (free)"""

    bl_idname = "rodin_texture.refresh_balance"
    bl_label = "Refresh Balance"

    def run(self, context):
        thread = balance.refresh_balance(context)
        if bpy.app.background:
            thread.join()
            self.report({"INFO"}, translations.rpt(f"Balance: {session.get().balance}"))
        return {"FINISHED"}


class RODIN_TEXTURE_OT_open_preferences(bpy.types.Operator):
    """Open this add-on's preferences (API key, service, results folder)"""

    bl_idname = "rodin_texture.open_preferences"
    bl_label = "Open Preferences"

    def execute(self, context):
        bpy.ops.screen.userpref_show(section="ADDONS")
        context.window_manager.addon_search = "Rodin Texture"
        bpy.ops.preferences.addon_expand(module=preferences.ADDON_PACKAGE)
        return {"FINISHED"}


# --- the task history --------------------------------------------------------------------


class RODIN_TEXTURE_OT_recover(_ReportsUserErrors, bpy.types.Operator):
    """Apply the paid results never applied, each onto its own object or the active one (free)"""

    bl_idname = "rodin_texture.recover"
    bl_label = "Recover Results"
    bl_options = {"REGISTER"}

    poll = classmethod(lambda cls, context: bool(history.to_recover()))

    def run(self, context):
        count, job_ids = history.recover(context)
        self.report({"INFO"}, translations.rpt(f"Recovering {count} texture result(s)"))
        if bpy.app.background and job_ids:
            return finish_headless(self, job_ids)
        return {"FINISHED"}


class _ActsOnATask:
    """Mixin: the operator acts on one task of the history, by its id."""

    task_uuid: bpy.props.StringProperty(name="Task ID", options=SKIP)

    def put_on(self, context, obj) -> set[str]:
        if obj is None:
            raise errors.UserError("Select the mesh to give the result to")
        job_id = history.put_on(context, history.task(self.task_uuid), obj)
        self.report({"INFO"}, translations.rpt(f"The task's result goes to {obj.name}"))
        if bpy.app.background and job_id:
            return finish_headless(self, [job_id])
        return {"FINISHED"}


class RODIN_TEXTURE_OT_history_apply(_ActsOnATask, _ReportsUserErrors, bpy.types.Operator):
    """Apply this task's result to the active object, downloading it again if needed (free)"""

    bl_idname = "rodin_texture.history_apply"
    bl_label = "Apply to Active Object"
    bl_options = {"REGISTER"}

    object_name: bpy.props.StringProperty(
        name="Target Object",
        description="The object to apply it to (default: the active one)",
        options=SKIP,
    )

    poll = classmethod(_active_mesh)

    def run(self, context):
        if not self.object_name:
            return self.put_on(context, context.active_object)
        target = bpy.data.objects.get(self.object_name)
        if target is None:
            raise errors.UserError(f"No object is named {self.object_name}: nothing was applied")
        return self.put_on(context, target)


class RODIN_TEXTURE_OT_history_follow(_ActsOnATask, _ReportsUserErrors, bpy.types.Operator):
    """Follow this unfinished task to its end, on its own object if here, else the active one"""

    bl_idname = "rodin_texture.history_follow"
    bl_label = "Follow"
    bl_options = {"REGISTER"}

    def run(self, context):
        found = history.task(self.task_uuid)
        return self.put_on(context, history.own_object(found) or history.active_mesh(context))


class RODIN_TEXTURE_OT_history_copy_id(_ActsOnATask, bpy.types.Operator):
    """Copy this task's id to the clipboard"""

    bl_idname = "rodin_texture.history_copy_id"
    bl_label = "Copy Task ID"

    def execute(self, context):
        context.window_manager.clipboard = self.task_uuid
        self.report({"INFO"}, translations.rpt("Task ID copied"))
        return {"FINISHED"}


class RODIN_TEXTURE_OT_history_open_folder(_ActsOnATask, _ReportsUserErrors, bpy.types.Operator):
    """Open the folder holding this task's result"""

    bl_idname = "rodin_texture.history_open_folder"
    bl_label = "Open Result Folder"

    def run(self, context):
        found = history.task(self.task_uuid)
        model_path = history.inside_results(found.model_path, found)
        if not model_path:  # gone, or a path the history names outside the results folders
            raise errors.UserError("This task's result is not on this computer")
        folder = Path(model_path).parent
        bpy.ops.wm.path_open(filepath=str(folder))
        return {"FINISHED"}


class RODIN_TEXTURE_OT_attach_task(_NeedsService, _ReportsUserErrors, bpy.types.Operator):
    """Follow a task submitted elsewhere onto the active object, by its id (checked first; free)"""

    bl_idname = "rodin_texture.attach_task"
    bl_label = "Attach Task by ID"
    bl_options = {"REGISTER"}

    task_uuid: bpy.props.StringProperty(name="Task ID", options=SKIP)
    subscription_key: bpy.props.StringProperty(
        name="Subscription Key",
        description="Needed to follow a task that is not finished; a finished one needs none",
        options=SKIP,
    )

    ready = classmethod(_active_mesh)

    def invoke(self, context, event):
        return context.window_manager.invoke_props_dialog(self, width=420)

    def run(self, context):
        self._check = attaching.ask(
            context, context.active_object, self.task_uuid, self.subscription_key
        )
        if bpy.app.background:
            self._check.thread.join()
            return self.attach(context)
        self._timer = context.window_manager.event_timer_add(0.1, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type != "TIMER" or not self._check.done:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        try:
            return self.attach(context)
        except errors.USER_FACING_ERRORS as error:
            self.report({"ERROR"}, translations.rpt(str(error)))
            return {"CANCELLED"}

    def attach(self, context):
        job_id = attaching.attach(context, self._check)
        name = self._check.object_name
        self.report({"INFO"}, translations.rpt(f"Attached the task to {name}"))
        if bpy.app.background:
            return finish_headless(self, [job_id])
        return {"FINISHED"}


def finish_headless(operator, job_ids: list[str]) -> set[str]:
    """Background mode: wait for the jobs, then report like the panel would."""
    pump.wait_for(job_ids)
    owners = filter(None, map(session.find_job_object, job_ids))
    for said in [*pump.unrecorded(job_ids), *map(pump.refused_variants, owners)]:
        if said:
            operator.report({"WARNING"}, translations.rpt(said))
    failed = pump.failures(job_ids)
    if failed:
        operator.report({"ERROR"}, "; ".join(failed))
        return {"CANCELLED"}
    return {"FINISHED"}


CLASSES = (
    RODIN_TEXTURE_OT_generate,
    RODIN_TEXTURE_OT_resume,
    RODIN_TEXTURE_OT_check_now,
    RODIN_TEXTURE_OT_download,
    RODIN_TEXTURE_OT_apply,
    RODIN_TEXTURE_OT_cancel_bake,
    RODIN_TEXTURE_OT_clear,
    RODIN_TEXTURE_OT_show_original,
    RODIN_TEXTURE_OT_view_texture,
    RODIN_TEXTURE_OT_open_folder,
    RODIN_TEXTURE_OT_copy_task_id,
    RODIN_TEXTURE_OT_refresh_balance,
    RODIN_TEXTURE_OT_open_preferences,
    RODIN_TEXTURE_OT_recover,
    RODIN_TEXTURE_OT_history_apply,
    RODIN_TEXTURE_OT_history_follow,
    RODIN_TEXTURE_OT_history_copy_id,
    RODIN_TEXTURE_OT_history_open_folder,
    RODIN_TEXTURE_OT_attach_task,
)
