"""The session: what lives while the add-on is enabled and in use (the job manager, one
client per account, the workers' snapshots on their way to the objects, the balance), which
object each job belongs to, and the user's task ledger. Created on first use, so an idle add-on
starts no threads."""

import queue
import threading
import uuid
from dataclasses import dataclass

import bpy

from ..jobs import JobManager, JobSnapshot
from ..jobs.ledger import APPLIED, LedgerWriter, TaskLedger
from ..rodin import RodinClient
from . import bake_job, preferences, timers
from .errors import UserError
from .properties import UNFINISHED


@dataclass
class Followed:
    """One job this session follows (or followed), by its id."""

    object_name: str  # where its snapshots go (looked up again if the object was renamed)
    apply: bool = False  # whether its result is applied when it arrives
    # How, when its operator chose (apply mode, bake options); None: the panel's, then.
    apply_choice: tuple | None = None
    # The last snapshot written onto its object: written again after an undo (Blender's undo
    # takes the objects back to a step the job has moved past), and kept after the job ends.
    written: JobSnapshot | None = None


class Runtime:
    """What lives while the add-on is enabled; created on first use, so an idle add-on starts
    no threads."""

    def __init__(self):
        # Every task this session submits, kept in the ledger the moment the service takes it.
        self.ledger_writer = LedgerWriter(ledger())
        self.manager = JobManager(ledger=self.ledger_writer)
        self.budget = self.manager.budget
        self.clients: dict[tuple, RodinClient] = {}
        self.followed: dict[str, Followed] = {}
        # Variants beyond an object's first (job id -> its group): followed for the history
        # only, on no object; and why those the service refused were not made (group -> texts).
        self.variant_jobs: dict[str, str] = {}
        self.refused_variants: dict[str, list[str]] = {}
        self.unwritten: dict[str, JobSnapshot] = {}  # the latest snapshot per job, in line
        self.finished: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.balance: str = ""
        # The balance request in flight, if any: the pump runs until its answer is drawn.
        self.balance_fetch: threading.Thread | None = None
        self.last_redraw = 0.0
        self.redraw_due = False  # progress arrived that the sidebar does not show yet

    def follow(self, job_id: str, obj, *, apply: bool, apply_choice=None) -> None:
        """Record (again) that ``job_id`` is followed for ``obj``: a new start of the job, so
        what an earlier start chose is replaced."""
        self.followed[job_id] = Followed(obj.name, apply, apply_choice)

    def client(self, context) -> RodinClient:
        """One client per account and service settings, shared by that account's jobs. Refused
        while the service may not be reached, so no request can start then."""
        reason = preferences.why_offline(context)
        if reason:
            raise UserError(reason)
        settings = preferences.client_settings(context)
        self.budget.per_minute = preferences.get(context).requests_per_minute
        key = (settings.api_key, settings.base_url, settings.ca_bundle, settings.proxy_url)
        if key not in self.clients:
            self.clients[key] = RodinClient(
                settings,
                request_gate=self.manager.request_gate,
                retry_notice=self.manager.retry_notice,
            )
        return self.clients[key]

    def shutdown(self):
        self.manager.shutdown()
        for client in self.clients.values():
            client.close()


_runtime: Runtime | None = None
_asked: set[str] = set()  # what was asked once in this session
_ledger: TaskLedger | None = None


def ledger() -> TaskLedger:
    """The user's task ledger, in the extension's user folder (reading it starts no thread)."""
    global _ledger
    if _ledger is None:
        _ledger = TaskLedger(preferences.user_folder("history") / "tasks.jsonl")
    return _ledger


def note_applied(obj) -> None:
    """Tell the ledger that the object's task's result is applied onto (or beside) it."""
    task_uuid = obj.rodin_texture.task_uuid
    if task_uuid:
        ledger().note(APPLIED, task_uuid, applied_to=obj.name)


def get() -> Runtime:
    """The session, started on first use."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime()
    return _runtime


def current() -> "Runtime | None":
    """The session if something started it (asking never starts one)."""
    return _runtime


def shutdown():
    """Stop everything the add-on started: timers, a bake under way, threads."""
    global _runtime, _ledger
    _asked.clear()
    _ledger = None
    timers.stop_all()
    bake_job.shutdown()
    if _runtime is not None:
        _runtime.shutdown()
        _runtime = None


def unrecorded(task_uuid: str) -> str:
    """What to say of a paid task the task history could not take ("": it took it, or this
    session knows nothing of it)."""
    problem = _runtime.ledger_writer.unrecorded.get(task_uuid) if _runtime and task_uuid else ""
    if not problem:
        return ""
    return (
        f"Task {task_uuid} is not in the task history ({problem}): copy its id and keep it, "
        "nothing else would find this paid result again"
    )


def file_id(create: bool = False) -> str:
    """The id this .blend keeps in its scene settings, through Save As, so its tasks are known
    as its own wherever it was saved ("" for a file that never submitted, unless ``create``)."""
    for scene in bpy.data.scenes:
        if scene.rodin_texture_settings.file_id:
            return scene.rodin_texture_settings.file_id
    if not create:
        return ""
    new_id = uuid.uuid4().hex
    bpy.context.scene.rodin_texture_settings.file_id = new_id
    return new_id


def first_time(question: str) -> bool:
    """True the first time ``question`` is asked in this session (until ``shutdown``)."""
    if question in _asked:
        return False
    _asked.add(question)
    return True


def is_following(job_id: str) -> bool:
    """Whether a job is running in this session, or has ended with its last word not yet
    written onto its object (without starting the runtime to find out)."""
    if _runtime is None or not job_id:
        return False
    followed = _runtime.followed.get(job_id)
    last = followed.written if followed is not None else None
    return _runtime.manager.is_running(job_id) or (last is not None and last.phase in UNFINISHED)


# --- which object a job belongs to -------------------------------------------------------


def find_job_object(job_id: str) -> bpy.types.Object | None:
    runtime = get()
    followed = runtime.followed.get(job_id)
    obj = bpy.data.objects.get(followed.object_name) if followed is not None else None
    if obj is not None and obj.rodin_texture.job_id == job_id:
        return obj
    for obj in bpy.data.objects:
        if obj.rodin_texture.job_id == job_id and not copied_job(obj):
            if followed is not None:
                followed.object_name = obj.name
            obj.rodin_texture.owner = obj.name
            return obj
    return None


def copied_job(obj) -> bool:
    """Whether the job stored on ``obj`` came with it from another object (a copy carries every
    property): another object carrying it has the name it was started on (``owner``), or, when
    none has (renamed since), comes before it. Meshes textured together share one job, each
    with an owner of its own: only the holders of the same owner are compared."""
    state = obj.rodin_texture
    if not state.job_id or state.owner == obj.name:
        return False
    holders = [
        o
        for o in bpy.data.objects
        if o.rodin_texture.job_id == state.job_id and o.rodin_texture.owner == state.owner
    ]
    rightful = next((o for o in holders if o.rodin_texture.owner == o.name), holders[0])
    return rightful != obj


def forget_copied_jobs() -> None:
    """Clear the jobs that came with copies of objects (Shift-D, copy and paste), and note
    the new name of an object renamed since its job started (all told apart first: a new
    owner noted would hide which copy it was the original of)."""
    moved = [obj for obj in bpy.data.objects if obj.rodin_texture.job_id
             and obj.rodin_texture.owner != obj.name]  # fmt: skip
    copies = [obj for obj in moved if copied_job(obj)]
    for obj in moved:
        if obj in copies:
            obj.rodin_texture.forget()
        else:
            obj.rodin_texture.owner = obj.name
