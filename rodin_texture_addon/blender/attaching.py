"""Attaching a task by its id (from the web app, a colleague, an old log) to an object: the
service is asked about it on a worker thread first, and only a task it knows is stored on the
object, written to the history and followed to its result. Nothing is ever submitted."""

import re
import threading
import time
from dataclasses import dataclass

import bpy

from ..jobs import Phase
from ..jobs.ledger import SUBMITTED
from ..rodin import GeometryFormat, StatusReport, choose_model_file
from ..rodin.errors import RodinError
from . import following, session
from .errors import UserError

TASK_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{7,63}")
SUBSCRIPTION_KEY = re.compile(r"[!-~]{8,4096}")  # a token: printable, no spaces


@dataclass
class Check:
    """The service's answer about a task, asked for on a worker thread."""

    object_name: str
    task_uuid: str
    subscription_key: str
    thread: threading.Thread | None = None
    answer: StatusReport | list | None = None
    results: list | None = None  # the id's result files, asked for beside a key's status
    error: RodinError | None = None

    @property
    def done(self) -> bool:
        return self.thread is not None and not self.thread.is_alive()


def ask(context, obj, task_uuid: str, subscription_key: str) -> Check:
    """Start asking the service about a pasted task: its status with a subscription key, its
    result files without one (a finished task needs no key). Refuses what cannot be a task."""
    task_uuid, subscription_key = task_uuid.strip(), subscription_key.strip()
    if not TASK_ID.fullmatch(task_uuid):
        raise UserError(f"{task_uuid!r} is not a task id: paste the id the service gave")
    if subscription_key and not SUBSCRIPTION_KEY.fullmatch(subscription_key):
        raise UserError("That is not a subscription key: paste the one the service gave")
    following.refuse_if_followed(obj)
    client = session.get().client(context)
    check = Check(obj.name, task_uuid, subscription_key)

    def run():
        try:
            check.results = client.list_results(task_uuid)  # the service knows the id
            if subscription_key:
                check.answer = client.status(subscription_key)
            else:
                check.answer = check.results
        except RodinError as error:
            check.error = error

    check.thread = threading.Thread(target=run, name="rodin-attach", daemon=True)
    check.thread.start()
    return check


def attach(context, check: Check) -> str:
    """Once the service has answered: store the task on its object, write it to the history
    and follow it (its result is applied when it arrives). Returns the job id."""
    obj = bpy.data.objects.get(check.object_name)
    if obj is None:
        raise UserError(f"{check.object_name} is gone: nothing was attached")
    if check.error is not None:
        raise UserError(f"The service does not know this task: {check.error}")
    if isinstance(check.answer, StatusReport):
        if not check.answer.jobs:
            raise UserError("The service knows no task with this subscription key")
        refuse_a_key_of_another_task(check)
        if check.answer.failure:
            raise UserError(f"This task cannot give a result: {check.answer.failure}")
        job_uuids = tuple(job.uuid for job in check.answer.jobs if job.uuid)
    elif not check.answer:
        raise UserError(
            "The service has no result for this task yet: give its subscription key too, to "
            "follow it until it is done"
        )
    else:
        job_uuids = ()
    following.take_task(
        obj,
        Phase.WAITING,
        "Attached by its id",
        task_uuid=check.task_uuid,
        subscription_key=check.subscription_key,
        job_uuids=job_uuids,
    )
    session.ledger().note(
        SUBMITTED,
        check.task_uuid,
        subscription_key=check.subscription_key,
        job_uuids=list(job_uuids),
        submitted_at=time.time(),  # when it was attached: the service does not say more
        object_name=obj.name,
        file_path=bpy.data.filepath,
        file_id=session.file_id(create=True),
        source="attached",
    )
    if check.subscription_key:
        return following.resume_job(context, obj, apply=True)
    return following.download_job(context, obj)


def refuse_a_key_of_another_task(check: Check) -> None:
    """The service links no id to its key: refuse a pair that the task history pairs otherwise,
    or whose answers disagree (the id's result is ready while the key's task still runs)."""
    mismatch = UserError(
        f"That subscription key is not task {check.task_uuid}'s: paste the key given with this "
        "task, or leave it empty to fetch a finished task by its id alone"
    )
    for known in session.ledger().tasks():
        same_task = known.task_uuid == check.task_uuid
        same_key = known.subscription_key == check.subscription_key
        if known.subscription_key and same_task != same_key:
            raise mismatch
    finished = any(choose_model_file(check.results or [], form) for form in GeometryFormat)
    if finished and not check.answer.done:
        raise mismatch
