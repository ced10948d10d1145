"""The task history and recovery: the user's task ledger as the panel shows it, and a task of it
put onto an object (its result applied, downloaded through fresh links when needed, or the task
followed to its end). Nothing here ever submits."""

import json
import threading
import uuid
from pathlib import Path

import bpy

from ..jobs import JobSnapshot, Phase, ledger
from ..jobs.ledger import APPLIED, DOWNLOADED, FAILED, SUBMITTED, LedgerTask
from . import apply, bake, export, following, preferences, pump, results, session, timers
from .errors import USER_FACING_ERRORS, UserError, mark_not_applied
from .screen import redraw_sidebars

STATE_ICONS = {SUBMITTED: "SORTTIME", DOWNLOADED: "IMPORT", APPLIED: "CHECKMARK", FAILED: "ERROR"}
STATE_TEXTS = {
    SUBMITTED: "Generating, or not downloaded yet",
    DOWNLOADED: "Downloaded, never applied",
    APPLIED: "Applied",
    FAILED: "The service failed it",
}
# What the panel last read: from which ledger, at which state of its file, and the tasks; and
# the worker thread reading a new session's ledger whole.
_read: dict = {"ledger": None, "stamp": None, "tasks": [], "loader": None}


def tasks() -> list[LedgerTask]:
    """The ledger's tasks, newest first: read again only when its file changed (so drawing
    the history costs one ``stat``), and then only what was appended. A session's first read
    takes the whole file (half a second at 10,000 tasks): in the window, a worker thread does
    it, after compacting a large ledger, and the history is empty until it is done."""
    current = session.ledger()
    loader = _read["loader"]
    if loader is not None and loader.is_alive():
        return _read["tasks"]
    if _read["ledger"] is not current:
        _read.update(ledger=current, stamp=None, tasks=[])
        if timers.TIMERS_FIRE:
            _read["loader"] = threading.Thread(
                target=_first_read, args=(current,), name="rodin-history"
            )
            _read["loader"].daemon = True
            _read["loader"].start()
            timers.run_on_main_thread(_when_loaded)
            return []
    try:
        stat = current.path.stat()
    except FileNotFoundError:
        return []
    except OSError:
        return current.tasks()  # none, and the ledger says why (``notices``)
    stamp = (stat.st_mtime_ns, stat.st_size)
    if _read["stamp"] != stamp:
        _read["stamp"], _read["tasks"] = stamp, current.tasks()
        timers.run_on_main_thread(load_previews)  # not while drawing: it loads files
    return _read["tasks"]


def notices() -> list[str]:
    """What the panel says of the ledger itself: a file that cannot be read, lines skipped."""
    current = session.ledger()
    said = []
    if current.problem:
        said.append(
            f"The task history cannot be read: {current.problem}. "
            "Move it away or make it readable; tasks are not recorded meanwhile"
        )
    if current.unreadable:
        said.append(
            f"{current.unreadable} unreadable entries in {current.path} were skipped "
            f"(compaction keeps them in {current.rejected_path.name})"
        )
    return said


def _first_read(task_ledger) -> None:
    """A worker thread's: the ledger compacted when it has grown large, then read whole."""
    try:
        task_ledger.compact()
    except OSError as error:  # Windows will not replace a file another process has open
        print(f"Rodin: the task history was not compacted: {error}", flush=True)
    task_ledger.tasks()


@timers.timer
def _when_loaded() -> float | None:
    """Redraw the sidebar once the first read of the ledger is done."""
    loader = _read["loader"]
    if loader is not None and loader.is_alive():
        return 0.1
    redraw_sidebars()
    return None


def recent(this_file_only: bool) -> list[LedgerTask]:
    """The tasks of the last 7 days (as long as the service keeps results), newest first."""
    return ledger.recent(tasks(), file_path=bpy.data.filepath if this_file_only else None)


def variants(group: str) -> list[LedgerTask]:
    """The variants made together, in their order."""
    return sorted((task for task in tasks() if task.group == group), key=lambda t: t.variant)


def to_recover() -> list[LedgerTask]:
    """Paid tasks whose result was never applied and that no object of this file holds
    (those, Resume Jobs follows); of variants, the first, and none once one is applied or held."""
    held = {obj.rodin_texture.task_uuid for obj in bpy.data.objects}
    settled = {
        task.group for task in tasks() if task.group and (task.applied_to or task.task_uuid in held)
    }
    offered, groups = [], set()
    for task in ledger.never_applied(tasks()):
        if task.task_uuid in held or task.group in settled or task.group in groups:
            continue
        if task.together:  # its meshes' jobs hold where each was: the history does not
            continue
        if task.group:
            groups.add(task.group)
        offered.append(task)
    return offered


@timers.timer
def load_previews() -> None:
    """Load the previews of the recent tasks that have one on disk, for the history to show
    (a timer, run when the ledger has changed)."""
    for found in recent(this_file_only=False):
        if inside_results(found.preview_path, found):
            results.load_preview(found)
    redraw_sidebars()


def resume_variants(context) -> list[str]:
    """Follow again, for the history, the variants of this file's objects that Blender closed
    on before they were downloaded (as when they were made: on no object). Never submits.
    Returns the job ids."""
    owners = {
        obj.rodin_texture.variant_group: obj
        for obj in bpy.data.objects
        if obj.rodin_texture.variant_group
    }
    if not owners:
        return []
    runtime = session.get()
    followed = {runtime.ledger_writer.task_of(job_id) for job_id in runtime.variant_jobs}
    job_ids = []
    for found in session.ledger().tasks():  # now, even while the panel's first read runs
        owner = owners.get(found.group)
        if (
            owner is None
            or found.state != SUBMITTED
            or found.task_uuid in followed
            or found.task_uuid == owner.rodin_texture.task_uuid  # the owner's own job
        ):
            continue
        job_id = uuid.uuid4().hex
        runtime.variant_jobs[job_id] = found.group
        runtime.ledger_writer.expect(job_id, task_uuid=found.task_uuid)
        snapshot = JobSnapshot(
            job_id,
            Phase.WAITING,
            task_uuid=found.task_uuid,
            subscription_key=found.subscription_key,
            job_uuids=found.job_uuids,
            submitted_at=found.submitted_at,
            submitted=True,
        )
        folder = following.job_folder(context, owner.rodin_texture)
        runtime.manager.follow(job_id, runtime.client(context), folder, snapshot)
        job_ids.append(job_id)
    if job_ids:
        pump.ensure_pump()
    return job_ids


def task(task_uuid: str) -> LedgerTask:
    found = next((task for task in tasks() if task.task_uuid == task_uuid), None)
    if found is None:
        raise UserError(f"No task {task_uuid} in the history")
    return found


def own_object(found: LedgerTask) -> bpy.types.Object | None:
    """The object the task was submitted for, when this is its file (by the id it keeps through
    Save As; a record older than ids, by its saved path) and the object is here."""
    if found.file_id:
        mine = found.file_id == session.file_id()
    else:
        mine = bool(found.file_path) and found.file_path == bpy.data.filepath
    if not mine:
        return None
    obj = bpy.data.objects.get(found.object_name)
    return obj if obj is not None and obj.type == "MESH" else None


def recover(context) -> tuple[int, list[str]]:
    """Put every task to recover onto its own object, else onto the active mesh (one task
    there at most); returns how many were given an object, and the job ids followed."""
    job_ids, active_taken = [], False
    for found in to_recover():
        obj = own_object(found)
        if obj is None and not active_taken:
            obj, active_taken = active_mesh(context), True
        if obj is not None:
            job_ids.append(put_on(context, found, obj))
    if not job_ids:
        raise UserError(
            "The results to recover belong to no object of this file: select the mesh to give "
            "one to, then press Recover again"
        )
    return len(job_ids), [job_id for job_id in job_ids if job_id]


def put_on(context, found: LedgerTask, obj) -> str:
    """Give ``obj`` the task ``found`` and its result: at once from a result file still on
    disk, else through fresh links, else by following the task to its end. Returns the job id
    followed ("" when the result was applied at once)."""
    if obj.type != "MESH":  # refused before anything is imported or changed
        raise UserError(
            f"{obj.name} is {export.kind_of(obj)}, not a mesh: a result goes onto a mesh"
        )
    if found.together:
        names = export.joined_name(list(found.together))
        raise UserError(
            f"The task textured {names} together: its result goes back onto them from their "
            "Job panel (Apply Result, Download Again)"
        )
    state = obj.rodin_texture
    model_path = inside_results(found.model_path, found)
    on_disk = bool(model_path)
    # Another variant's result, or this task's own applied before, is what this one replaces
    # (an earlier result of other tasks stays).
    same_task = state.task_uuid == found.task_uuid
    same_group = bool(found.group) and state.variant_group == found.group
    replaced = state.result_object if same_task or same_group else None
    following.take_task(
        obj,
        Phase.DONE if on_disk or found.state == DOWNLOADED else Phase.WAITING,
        "From the task history",
        task_uuid=found.task_uuid,
        subscription_key=found.subscription_key,
        job_uuids=found.job_uuids,
        submitted_at=found.submitted_at,
        model_path=model_path,
        preview_path=inside_results(found.preview_path, found),
    )
    state.settings_json = json.dumps(found.settings, sort_keys=True)
    state.variant_group = found.group
    if on_disk:
        state.result_folder = str(Path(model_path).parent)
        results.load_preview(state)
        view_layer = context.view_layer
        was_active = replaced is not None and view_layer.objects.active == replaced
        if replaced is not None and replaced != obj:  # its name goes to the new one
            bpy.data.objects.remove(replaced)
        try:
            result = results.apply_job(context, obj, mode=shown_as(obj, replaced, same_group))
        except apply.BrokenResult as error:  # damaged on disk: fetched again, free
            print(f"Rodin: {model_path} cannot be read ({error}): downloading it again")
            state.model_path = ""
            return following.download_job(context, obj)
        except USER_FACING_ERRORS as error:
            mark_not_applied(state, error)
            raise
        if was_active and result.name in view_layer.objects:  # the panel keeps showing it
            result.select_set(True)
            view_layer.objects.active = result
        return ""
    if found.state == DOWNLOADED:
        return following.download_job(context, obj)
    return following.resume_job(context, obj, apply=True)


def shown_as(obj, replaced, same_group: bool) -> str | None:
    """How a variant's Use applies it: as the variant shown was (baked onto the mesh, or a new
    object over it), whatever the panel's Apply As says now; None: as the panel says."""
    if not same_group:
        return None
    if replaced is not None:
        return "NEW_OBJECT"
    return "ORIGINAL" if bake.shows_baked_material(obj) else None


def inside_results(path_text: str, found: LedgerTask) -> str:
    """``path_text`` when it names a file inside a folder the add-on keeps results in, else ""
    (the ledger is a text file anyone can edit: a path it names elsewhere is not trusted, and
    the result is fetched again instead)."""
    if not path_text:
        return ""
    roots = [preferences.results_folder(), preferences.user_folder("results")]
    if found.file_path:
        roots.append(Path(found.file_path).parent / "rodin_results")
    try:
        path = Path(path_text).resolve(strict=True)
        inside = path.is_file() and any(path.is_relative_to(root.resolve()) for root in roots)
    except (OSError, RuntimeError, ValueError):  # gone, a loop of links, a malformed path
        return ""
    return path_text if inside else ""


def active_mesh(context):
    """The active object when it is a mesh, to receive a task's result."""
    obj = context.active_object
    return obj if obj is not None and obj.type == "MESH" else None
