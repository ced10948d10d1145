"""Runs texture jobs on worker threads and reports their progress as snapshots on a queue.

Knows nothing of Blender: the add-on drains ``updates`` on its main thread (the pump) and
writes each snapshot onto its object. Each job is a chain of steps (submit, poll, download);
a step says which step comes next and after how long. One dispatcher thread picks the next
step of all jobs, spends a turn of the request budget on it and hands it to a worker, so a few
threads serve any number of jobs, a waiting job holds no thread, and the whole process stays
within the account's limits:

- downloads go first (a result is waiting), then submits (while a task slot is free), then
  status checks, ranked by ``PollPlanner``;
- at most ``max_in_flight`` tasks run at once, fewer when the service says its limit is reached;
- a submit refused for a reason that will not go away by itself (bad key, no subscription, no
  credits) fails the other submits waiting on that client at once, while tasks already paid
  for keep being followed.
"""

import math
import queue
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Protocol

from ..rodin import RodinClient, SubmittedTask, TextureRequest, choose_model_file, choose_preview
from ..rodin.contract import GeometryFormat, JobStatus
from ..rodin.errors import (
    AuthenticationError,
    Cancelled,
    DownloadError,
    GenerationFailed,
    InsufficientFunds,
    InvalidInput,
    ParallelismLimit,
    RateLimited,
    RodinError,
    SubscriptionError,
    WrongAddress,
)
from ..rodin.files import safe_file_name
from .pacing import PollSchedule, RequestBudget
from .scheduler import PollPlanner, TaskSlots

PROGRESS_REPORT_INTERVAL = 0.1
# The dispatcher looks again at least this often (a learned task cap may have expired).
DISPATCH_IDLE_WAKE = 1.0
# Submit refusals that the same request will meet again until a person acts.
LASTING_REFUSALS = (AuthenticationError, SubscriptionError, InsufficientFunds, WrongAddress)
MAYBE_PAID = (
    "The service may have taken the task (and its 0.5 credits) before the answer was lost: "
    "look at the account's task list on hyper3d.ai before generating again."
)
# Retry waits at least this long (seconds) are shown on the job.
RETRY_NOTICE_SECONDS = 10.0
FOLDER_HINT = "Choose a results folder you can write to, then press Download Again."


class Phase(StrEnum):
    """What a job is doing, as the interface shows it (and as stored on the object)."""

    IDLE = "idle"
    EXPORTING = "exporting"
    UPLOADING = "uploading"
    WAITING = "waiting"
    GENERATING = "generating"
    DOWNLOADING = "downloading"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class JobSnapshot:
    """The state of one job at one moment: what the main thread writes onto the object."""

    job_id: str
    phase: Phase = Phase.IDLE
    progress: float = 0.0
    message: str = ""
    hint: str = ""
    task_uuid: str = ""
    subscription_key: str = ""
    job_uuids: tuple[str, ...] = ()
    queue_length: int | None = None
    submitted_at: float = 0.0
    finished_at: float = 0.0
    model_path: str = ""
    preview_path: str = ""
    # Whether the task was taken by the service: a failed job with a task can be resumed.
    submitted: bool = False


class Ledger(Protocol):
    """Told about credit-relevant moments on the worker thread, before anything else happens
    (the batch journal). ``intent`` comes before the submit request leaves."""

    def intent(self, job_id: str) -> None: ...
    def submitted(self, job_id: str, task: SubmittedTask, submitted_at: float) -> None: ...
    def refused(self, job_id: str, error: RodinError) -> None: ...
    def downloaded(self, job_id: str, model_path: str, preview_path: str) -> None: ...
    def generation_failed(self, job_id: str, message: str) -> None: ...


class StepKind(IntEnum):
    """The dispatcher's order of preference among due steps."""

    URGENT = 0  # a check asked for by the user
    DOWNLOAD = 1
    SUBMIT = 2
    POLL = 3


@dataclass
class _Job:
    client: RodinClient
    folder: Path
    request: TextureRequest | None  # None for a task submitted earlier
    state: JobSnapshot
    cleanup: Path | None = None  # the upload's folder, removed once the upload is over

    def __post_init__(self):
        self.followed_since = time.monotonic()  # the deadline counts from here

    poll_interval: float = 0.0
    age_checked: float = 0.0  # the task's age at its last check that found it running
    download_attempts: int = 0
    last_progress_post: float = 0.0
    # The next step: (its kind, due on the monotonic clock); None while a step runs.
    pending: "tuple[StepKind, float] | None" = None

    @property
    def geometry_format(self) -> GeometryFormat:
        """The result model's format: the request's, and GLB (the add-on's) for a task
        submitted earlier."""
        if self.request is None:
            return GeometryFormat.GLB
        return GeometryFormat(self.request.geometry_file_format)

    @property
    def in_flight(self) -> bool:
        """Taken by the service and not finished there (a download no longer holds a slot)."""
        return self.state.submitted and self.state.phase in (Phase.WAITING, Phase.GENERATING)


class JobManager:
    """Owns the dispatcher and worker threads. Start jobs with ``submit`` (a new task) or
    ``follow`` (one submitted earlier). ``request_gate`` and ``retry_notice`` are for the
    clients of its jobs."""

    def __init__(
        self,
        schedule: PollSchedule | None = None,
        workers: int = 4,
        clock=time.time,
        budget: RequestBudget | None = None,
        max_in_flight: int | None = None,
        ledger: Ledger | None = None,
    ):
        self.planner = PollPlanner(schedule or PollSchedule())
        self.budget = budget or RequestBudget()
        self.slots = TaskSlots(max_in_flight)
        self.ledger = ledger
        # The first submit refusal that will not go away by itself (the batch stops on it).
        self.lasting_refusal: RodinError | None = None
        self.updates: queue.Queue[JobSnapshot] = queue.Queue()
        self._clock = clock
        self._jobs: dict[str, _Job] = {}
        self._condition = threading.Condition()
        self._stopped = threading.Event()
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._idle_workers = workers
        self._submitting = 0
        self._prepaid = threading.local()
        dispatcher = threading.Thread(target=self._dispatch, name="rodin-dispatch", daemon=True)
        self._threads = [dispatcher] + [
            threading.Thread(target=self._serve, name=f"rodin-worker-{index}", daemon=True)
            for index in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def schedule(self) -> PollSchedule:
        return self.planner.schedule

    @schedule.setter
    def schedule(self, schedule: PollSchedule):
        self.planner.schedule = schedule

    def request_gate(self, cancel: threading.Event | None = None):
        """A client's gate before each API request: the dispatcher already paid for a step's
        first request; retries and calls from elsewhere wait for the budget."""
        if getattr(self._prepaid, "turn", False):
            self._prepaid.turn = False
            return
        self.budget.acquire(cancel)

    def retry_notice(self, error: RodinError, seconds: float) -> None:
        """A client's word, on a worker thread, that it waits before trying again: a long wait
        is shown on the job, so that a rate-limited task does not look stuck."""
        job = getattr(self._prepaid, "job", None)
        if job is None or seconds < RETRY_NOTICE_SECONDS:
            return
        wait = f"{math.ceil(seconds / 60)} min" if seconds >= 90 else f"{math.ceil(seconds)} s"
        if isinstance(error, RateLimited):
            self._post(job, message=f"Rate limited by the service: retrying in {wait}")
        else:
            self._post(job, message=f"Retrying in {wait}: {error}")

    # --- starting jobs (any thread) ---

    def submit(
        self,
        job_id: str,
        client: RodinClient,
        request: TextureRequest,
        folder: Path,
        cleanup: Path | None = None,
    ):
        """Upload and start a new task; ``cleanup`` (the upload's folder) is removed once the
        upload is over. Refuses a job id that is still running."""
        state = JobSnapshot(job_id, Phase.UPLOADING, message="Uploading")
        self._start(_Job(client, Path(folder), request, state, cleanup), StepKind.SUBMIT)

    def follow(
        self,
        job_id: str,
        client: RodinClient,
        folder: Path,
        task: JobSnapshot,
        *,
        download: bool = False,
    ):
        """Follow a task submitted earlier (after a reload, say), never submitting it again:
        ask for its status now, or with ``download``, fetch its files again through fresh
        links."""
        state = replace(
            task,
            job_id=job_id,
            phase=Phase.DOWNLOADING if download else Phase.WAITING,
            message="Downloading" if download else "Checking",
            hint="",
            submitted=True,
            finished_at=0.0,
        )
        first = StepKind.DOWNLOAD if download else StepKind.POLL
        self._start(_Job(client, Path(folder), None, state), first)

    def check_now(self, job_id: str) -> bool:
        """Poll a waiting job at once instead of at its next turn."""
        with self._condition:
            job = self._jobs.get(job_id)
            if job is None or job.state.phase not in (Phase.WAITING, Phase.GENERATING):
                return False
            if not job.state.submitted:
                return False
            if job.pending is not None:
                job.pending = (StepKind.URGENT, time.monotonic())
                self._condition.notify_all()
            return True

    def stop_following(self, job_id: str) -> bool:
        """Stop following a job whose task the service has (or that ended): nothing more is
        asked about it, the task stays in the service. False while its upload may still
        become a task: dropping it then could lose a paid one."""
        with self._condition:
            job = self._jobs.get(job_id)
            if job is not None and not job.state.submitted:
                return False
            self._jobs.pop(job_id, None)
            self._condition.notify_all()
            return True

    def is_running(self, job_id: str) -> bool:
        with self._condition:
            return job_id in self._jobs

    @property
    def running_count(self) -> int:
        with self._condition:
            return len(self._jobs)

    @property
    def in_flight_count(self) -> int:
        """Tasks taken by the service and not finished, plus submits under way."""
        with self._condition:
            return self._in_flight()

    def drain(
        self, job_ids: Iterable[str], *, wait: float = 0.05, timeout: float | None = None
    ) -> Iterator[JobSnapshot | None]:
        """The workers' snapshots, in the order posted, until none of ``job_ids`` runs and none
        is left; ``None`` after ``wait`` seconds without one (the caller's turn to do other
        work). ``job_ids`` may grow while it runs. ``TimeoutError`` after ``timeout`` seconds;
        the jobs go on."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while any(self.is_running(job_id) for job_id in job_ids) or not self.updates.empty():
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"the jobs did not end within {timeout:g} s")
            try:
                yield self.updates.get(timeout=wait)
            except queue.Empty:
                yield None

    def shutdown(self, timeout: float = 1.0):
        """Stop the threads. In-flight requests are abandoned, not lost: the tasks' ids are
        already on their objects, and ``resume`` picks them up next time."""
        with self._condition:
            self._stopped.set()
            jobs = list(self._jobs.values())
            self._jobs.clear()
            self._condition.notify_all()
        for _ in self._threads:
            self._work.put(None)
        for job in jobs:
            job.client.close()
            self._remove_upload(job)  # a submit not sent now never will be
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # --- the steps (worker threads) ---

    def _submit(self, job: _Job):
        if self.ledger is not None:
            self.ledger.intent(job.state.job_id)
        try:
            task = job.client.submit(
                job.request, progress=lambda done, total: self._post_progress(job, done, total)
            )
        except ParallelismLimit as error:
            if self.ledger is not None:
                self.ledger.refused(job.state.job_id, error)
            with self._condition:
                accepted = sum(other.in_flight for other in self._jobs.values())
                self.slots.refused(accepted, time.monotonic())
            self._post(job, phase=Phase.WAITING, message="Waiting for a free slot on the account")
            return self.schedule.retry_delay, StepKind.SUBMIT
        except RodinError as error:
            refused = _surely_refused(error)
            if self.ledger is not None and refused:
                self.ledger.refused(job.state.job_id, error)
            self._remove_upload(job)
            following = self._fail(job, error, hint="" if refused else MAYBE_PAID)
            if isinstance(error, LASTING_REFUSALS):
                self.lasting_refusal = self.lasting_refusal or error
                self._refuse_waiting_submits(job.client, error)
            return following
        submitted_at = self._clock()
        if self.ledger is not None:
            self.ledger.submitted(job.state.job_id, task, submitted_at)
        self._remove_upload(job)
        self._post(
            job,
            phase=Phase.WAITING,
            progress=0.0,
            message="Submitted",
            task_uuid=task.task_uuid,
            subscription_key=task.subscription_key,
            job_uuids=task.job_uuids,
            submitted_at=submitted_at,
            submitted=True,
        )
        job.poll_interval = self.schedule.first_delay
        return self.schedule.first_delay, StepKind.POLL

    def _poll(self, job: _Job):
        age = self._age(job)
        followed = time.monotonic() - job.followed_since
        try:
            report = job.client.status(job.state.subscription_key)
        except RodinError as error:
            if not error.retryable or followed > self.schedule.deadline:
                return self._fail(job, error)
            self._post(job, message=f"Connection problem, retrying: {error}")
            return self._next_poll(job, age)
        if report.failure:
            if self.ledger is not None:
                self.ledger.generation_failed(job.state.job_id, report.failure)
            return self._fail(job, GenerationFailed(report.failure))
        if report.done:
            with self._condition:
                if job.age_checked > 0.0:
                    self.planner.finished(job.age_checked)
            self._post(job, phase=Phase.DOWNLOADING, progress=0.0, message="Downloading")
            return 0.0, StepKind.DOWNLOAD
        if followed > self.schedule.deadline:
            return self._fail(
                job,
                RodinError(f"no result after {followed / 60:.0f} minutes"),
                hint="The task may still finish: press Check Now later.",
            )
        job.age_checked = age
        waiting = report.phase == JobStatus.WAITING
        self._post(
            job,
            phase=Phase.WAITING if waiting else Phase.GENERATING,
            queue_length=report.queue_length if waiting else None,
            message="Waiting in the service's queue" if waiting else "Generating",
        )
        return self._next_poll(job, age)

    def _download(self, job: _Job):
        """List the files (fresh links each time) and fetch the model and preview. An empty
        list right after Done, an expired link or a cut-off body is tried again a few times."""
        try:
            files = job.client.list_results(job.state.task_uuid)
            model = choose_model_file(files, job.geometry_format)
            if model is None:
                raise DownloadError("the service listed no result model")
            folder = job.folder / safe_file_name(job.state.task_uuid, "task")
            model_path = job.client.download(
                model, folder, progress=lambda done, total: self._post_progress(job, done, total)
            )
            preview_path = ""
            preview = choose_preview(files)
            if preview is not None:
                preview_path = str(job.client.download(preview, folder))
        except RodinError as error:
            job.download_attempts += 1
            if error.retryable and job.download_attempts <= self.schedule.download_retries:
                self._post(job, message=f"Download problem, retrying: {error}")
                return self.schedule.download_retry_delay, StepKind.DOWNLOAD
            return self._fail(job, error)
        except OSError as error:  # the results folder: a file, full, not writable
            return self._fail(
                job,
                RodinError(f"cannot save the result in {job.folder}: {error.strerror or error}"),
                hint=FOLDER_HINT,
            )
        if self.ledger is not None:
            self.ledger.downloaded(job.state.job_id, str(model_path), preview_path)
        self._post(
            job,
            phase=Phase.DONE,
            progress=1.0,
            message="Done",
            model_path=str(model_path),
            preview_path=preview_path,
            finished_at=self._clock(),
        )
        return None

    # --- plumbing ---

    def _start(self, job: _Job, first: StepKind):
        job_id = job.state.job_id
        with self._condition:
            if self._stopped.is_set():
                raise RuntimeError("the job manager is shut down")
            if job_id in self._jobs:
                raise RuntimeError(f"job {job_id} is already running")
            self._jobs[job_id] = job
            self._set_pending(job, 0.0, first)
        self.updates.put(job.state)

    def _step(self, kind: StepKind):
        """The step a kind stands for (an urgent check is a poll, run first)."""
        return {
            StepKind.URGENT: self._poll,
            StepKind.DOWNLOAD: self._download,
            StepKind.SUBMIT: self._submit,
            StepKind.POLL: self._poll,
        }[kind]

    def _set_pending(self, job: _Job, delay: float, kind: StepKind):
        job.pending = (kind, time.monotonic() + delay)
        self._condition.notify_all()

    def _in_flight(self) -> int:
        return self._submitting + sum(job.in_flight for job in self._jobs.values())

    def _rank(self, job: _Job, now: float, wall_now: float):
        """The sort key of a due step (lowest first), or None when it may not run yet."""
        kind, due = job.pending
        if due > now:
            return None
        if kind is StepKind.SUBMIT:
            if not self.slots.free(self._in_flight(), now):
                return None
            return (kind, 0.0, due)
        if kind is StepKind.POLL:
            age = self._age(job, wall_now)
            return (kind, -self.planner.likelihood(job.age_checked, age), due)
        return (kind, 0.0, due)

    def _pick(self) -> _Job | None:
        """The job whose step should run next (under the lock), taken off the waiting list."""
        now, wall_now = time.monotonic(), self._clock()
        best, best_rank = None, None
        for job in self._jobs.values():
            if job.pending is None:
                continue
            rank = self._rank(job, now, wall_now)
            if rank is not None and (best_rank is None or rank < best_rank):
                best, best_rank = job, rank
        return best

    def _next_due_in(self) -> float:
        now = time.monotonic()
        dues = [job.pending[1] - now for job in self._jobs.values() if job.pending is not None]
        return min([DISPATCH_IDLE_WAKE, *(due for due in dues if due > 0.0)])

    def _dispatch(self):
        """The one loop that decides what runs: waits for a due step, a free worker and a
        turn of the request budget, then hands the best step to a worker."""
        paid = False
        try:
            while True:
                with self._condition:
                    while not self._stopped.is_set() and not (
                        self._idle_workers and self._pick() is not None
                    ):
                        self._condition.wait(self._next_due_in())
                    if self._stopped.is_set():
                        return
                if not paid:
                    self.budget.acquire(self._stopped)
                    paid = True
                with self._condition:
                    job = self._pick()
                    if job is None or not self._idle_workers:
                        continue  # something changed while waiting for the budget
                    kind, _ = job.pending
                    job.pending = None
                    self._idle_workers -= 1
                    if kind is StepKind.SUBMIT:
                        self._submitting += 1
                self._work.put((job, kind))
                paid = False
        except Cancelled:
            return

    def _serve(self):
        while (work := self._work.get()) is not None:
            job, kind = work
            self._prepaid.turn, self._prepaid.job = True, job
            try:
                following = self._step(kind)(job)
            except Cancelled:  # the client was closed: shutting down
                following = None
            except Exception as error:  # a bug must fail the job, not kill the worker
                following = self._fail(job, RodinError(f"internal error: {error!r}"))
            finally:
                self._prepaid.turn, self._prepaid.job = False, None
            with self._condition:
                self._idle_workers += 1
                if kind is StepKind.SUBMIT:
                    self._submitting -= 1
                if self._jobs.get(job.state.job_id) is job:
                    if following is None:
                        del self._jobs[job.state.job_id]
                    else:
                        self._set_pending(job, *following)
                self._condition.notify_all()

    def _refuse_waiting_submits(self, client: RodinClient, error: RodinError):
        """Fail every submit still waiting on ``client``: the same refusal would meet them."""
        with self._condition:
            waiting = [
                job
                for job in self._jobs.values()
                if job.client is client
                and job.pending is not None
                and job.pending[0] is StepKind.SUBMIT
            ]
            for job in waiting:
                del self._jobs[job.state.job_id]
        for job in waiting:
            self._remove_upload(job)
            self._fail(job, error, message=f"Not submitted: {error}")

    @staticmethod
    def _remove_upload(job: _Job):
        if job.cleanup is not None:
            shutil.rmtree(job.cleanup, ignore_errors=True)
            job.cleanup = None

    def _age(self, job: _Job, wall_now: float | None = None) -> float:
        """Seconds since the task was submitted; when that time is unknown (a task attached by
        id, an older file), since this session began following it."""
        if job.state.submitted_at:
            return (self._clock() if wall_now is None else wall_now) - job.state.submitted_at
        return time.monotonic() - job.followed_since

    def _next_poll(self, job: _Job, age: float):
        with self._condition:
            job.poll_interval = self.planner.next_interval(age, job.poll_interval)
        return job.poll_interval, StepKind.POLL

    def _post(self, job: _Job, **changes):
        # Whatever text an error brings (a bug's repr too), the key never reaches the state.
        for text in ("message", "hint"):
            if text in changes:
                changes[text] = job.client.scrub(changes[text])
        job.state = replace(job.state, **changes)
        self.updates.put(job.state)

    def _post_progress(self, job: _Job, done: int, total: int | None):
        now = time.monotonic()
        fraction = done / total if total else 0.0
        if fraction < 1.0 and now - job.last_progress_post < PROGRESS_REPORT_INTERVAL:
            return
        job.last_progress_post = now
        self._post(job, progress=fraction)

    def _fail(self, job: _Job, error: RodinError, hint: str = "", message: str = ""):
        self._post(
            job,
            phase=Phase.FAILED,
            message=message or str(error),
            hint=hint or error.hint,
            finished_at=self._clock(),
        )
        return None


def _surely_refused(error: RodinError) -> bool:
    """Whether the service surely did not take the task: it answered with a refusal, or the
    request never left. Otherwise (a cut connection, a 5xx) it may have been charged."""
    if error.never_sent or isinstance(error, InvalidInput | ParallelismLimit):
        return True
    return error.code is not None or (error.http_status or 0) in range(400, 500)
