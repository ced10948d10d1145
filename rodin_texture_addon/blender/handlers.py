"""Blender's handlers: after undo and redo, after a change that added objects, after a file
opens."""

import bpy
from bpy.app.handlers import persistent

from ..jobs import Phase
from . import following, history, preferences, results, session
from .errors import USER_FACING_ERRORS
from .screen import redraw_sidebars


@persistent
def keep_jobs_through_undo(*_args):
    """Undo and redo restore the objects as they were at a step, jobs' states too: write back
    what each job of this session last reported, so undoing an applied result removes the
    result, not the task (its id, its downloaded files)."""
    following.note_undo_step()
    session.forget_copied_jobs()
    runtime = session.current()
    if runtime is None:
        return
    for obj in bpy.data.objects:
        followed = runtime.followed.get(obj.rodin_texture.job_id)
        if followed is not None and followed.written is not None:
            obj.rodin_texture.write(followed.written)
    redraw_sidebars()


_objects_seen = 0


@persistent
def forget_jobs_of_new_copies(*_args):
    """After a change that added objects (a copy made now carries its original's job)."""
    global _objects_seen
    if len(bpy.data.objects) > _objects_seen:
        session.forget_copied_jobs()
    _objects_seen = len(bpy.data.objects)


@persistent
def resume_after_load(*_args):
    """After a file opens: reset steps that cannot survive a restart, resume submitted tasks.

    The network calls run on worker threads, so opening a file never waits on them."""
    session.forget_copied_jobs()
    for obj in bpy.data.objects:
        state = obj.rodin_texture
        if state.phase is Phase.DONE:
            results.load_preview(state)  # images nothing uses are not saved with the file
        interrupted = state.phase is Phase.EXPORTING or (
            state.phase is Phase.UPLOADING and not state.task_uuid
        )
        # After File > Revert during an upload, the upload still goes on: it is not interrupted.
        if interrupted and not session.is_following(state.job_id):
            state.status = Phase.FAILED.value
            state.message = "Interrupted before the service confirmed the task"
            state.hint = "Generate again (nothing was charged unless the upload had finished)"
    if preferences.why_offline(bpy.context):
        return  # the panel says why they are not followed
    for obj in following.unfinished_objects():
        try:
            following.resume_job(bpy.context, obj)
        except USER_FACING_ERRORS as error:  # a bad Service URL, say: opening goes on; the
            print(f"Rodin: {obj.name} not resumed: {error}")  # panel says it is not followed
    try:
        history.resume_variants(bpy.context)
    except USER_FACING_ERRORS as error:
        print(f"Rodin: unfinished variants not resumed: {error}")
