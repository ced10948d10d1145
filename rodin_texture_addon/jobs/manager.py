"""Runs texture jobs on worker threads and reports their progress as snapshots on a queue.

Knows nothing of Blender: the add-on drains ``updates`` on its main thread (the pump) and
writes each snapshot onto its object. Each job is a chain of steps (submit, poll, download);
a step runs on a worker thread and says which step comes next and after how long, so a few
threads serve any number of jobs and a waiting job holds no thread.
"""

import heapq
import itertools
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from ..rodin import RodinClient, TextureRequest, choose_model_file, choose_preview
from ..rodin.contract import GeometryFormat, JobStatus
from ..rodin.errors import Cancelled, DownloadError, ParallelismLimit, RodinError
from ..rodin.files import safe_file_name
from .pacing import PollSchedule

PROGRESS_REPORT_INTERVAL = 0.1


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


@dataclass
class _Job:
    client: RodinClient
    folder: Path
    geometry_format: GeometryFormat
    request: TextureRequest | None
    state: JobSnapshot
    cleanup: Path | None = None  # the upload's folder, removed once the upload is over

    def __post_init__(self):
        self.geometry_format = GeometryFormat(self.geometry_format)

    poll_interval: float = 0.0
    download_attempts: int = 0
    generation: int = 0
    last_progress_post: float = 0.0


Step = Callable[[_Job], "tuple[float, Step] | None"]


class JobManager:
    """Owns the worker threads. Start jobs with ``submit``, ``resume`` or ``download``."""

    def __init__(self, schedule: PollSchedule | None = None, workers: int = 4, clock=time.time):
        self.schedule = schedule or PollSchedule()
        self.updates: queue.Queue[JobSnapshot] = queue.Queue()
        self._clock = clock
        self._jobs: dict[str, _Job] = {}
        self._heap: list = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._work, name=f"rodin-worker-{index}", daemon=True)
            for index in range(workers)
        ]
        for thread in self._threads:
            thread.start()

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
        job = _Job(client, Path(folder), request.geometry_file_format, request, state, cleanup)
        self._start(job, self._submit)

    def resume(self, job_id: str, client: RodinClient, folder: Path, task: JobSnapshot, fmt):
        """Follow a task submitted earlier (after a reload): poll it now, never submit again."""
        state = replace(task, job_id=job_id, phase=Phase.WAITING, message="Checking", hint="")
        self._start(_Job(client, Path(folder), fmt, None, state), self._poll)

    def download(self, job_id: str, client: RodinClient, folder: Path, task: JobSnapshot, fmt):
        """Fetch a finished task's files again, through fresh links."""
        state = replace(
            task, job_id=job_id, phase=Phase.DOWNLOADING, message="Downloading", hint=""
        )
        self._start(_Job(client, Path(folder), fmt, None, state), self._download)

    def check_now(self, job_id: str) -> bool:
        """Poll a waiting job at once instead of at its next turn."""
        with self._condition:
            job = self._jobs.get(job_id)
            if job is None or job.state.phase not in (Phase.WAITING, Phase.GENERATING):
                return False
            if not job.state.submitted:
                return False
            self._schedule(job, 0.0, self._poll)
            return True

    def is_running(self, job_id: str) -> bool:
        with self._condition:
            return job_id in self._jobs

    @property
    def running_count(self) -> int:
        with self._condition:
            return len(self._jobs)

    def shutdown(self, timeout: float = 1.0):
        """Stop the threads. In-flight requests are abandoned, not lost: the tasks' ids are
        already on their objects, and ``resume`` picks them up next time."""
        with self._condition:
            self._stopping = True
            jobs = list(self._jobs.values())
            self._jobs.clear()
            self._heap.clear()
            self._condition.notify_all()
        for job in jobs:
            job.client.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # --- the steps (worker threads) ---

    def _submit(self, job: _Job):
        try:
            task = job.client.submit(
                job.request, progress=lambda done, total: self._post_progress(job, done, total)
            )
        except ParallelismLimit:
            self._post(job, phase=Phase.WAITING, message="Waiting for a free slot on the account")
            return self.schedule.retry_delay, self._submit
        except RodinError as error:
            self._remove_upload(job)
            return self._fail(job, error)
        self._remove_upload(job)
        self._post(
            job,
            phase=Phase.WAITING,
            progress=0.0,
            message="Submitted",
            task_uuid=task.task_uuid,
            subscription_key=task.subscription_key,
            job_uuids=task.job_uuids,
            submitted_at=self._clock(),
            submitted=True,
        )
        job.poll_interval = self.schedule.first_delay
        return self.schedule.first_delay, self._poll

    def _poll(self, job: _Job):
        elapsed = self._clock() - job.state.submitted_at
        try:
            report = job.client.status(job.state.subscription_key)
        except RodinError as error:
            if not error.retryable or elapsed > self.schedule.deadline:
                return self._fail(job, error)
            self._post(job, message=f"Connection problem, retrying: {error}")
            return self._next_poll(job)
        if report.failure:
            return self._fail(job, RodinError(report.failure))
        if report.done:
            self._post(job, phase=Phase.DOWNLOADING, progress=0.0, message="Downloading")
            return 0.0, self._download
        if elapsed > self.schedule.deadline:
            return self._fail(
                job,
                RodinError(f"no result after {elapsed / 60:.0f} minutes"),
                hint="The task may still finish: press Check Now later.",
            )
        waiting = report.phase == JobStatus.WAITING
        self._post(
            job,
            phase=Phase.WAITING if waiting else Phase.GENERATING,
            queue_length=report.queue_length if waiting else None,
            message="Waiting in the service's queue" if waiting else "Generating",
        )
        return self._next_poll(job)

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
                return self.schedule.download_retry_delay, self._download
            return self._fail(job, error)
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

    def _start(self, job: _Job, first_step: Step):
        job_id = job.state.job_id
        with self._condition:
            if self._stopping:
                raise RuntimeError("the job manager is shut down")
            if job_id in self._jobs:
                raise RuntimeError(f"job {job_id} is already running")
            self._jobs[job_id] = job
            self._schedule(job, 0.0, first_step)
        self.updates.put(job.state)

    def _schedule(self, job: _Job, delay: float, step: Step):
        """Queue the job's next step; any step queued before for it is dropped."""
        job.generation += 1
        due = time.monotonic() + delay
        heapq.heappush(self._heap, (due, next(self._sequence), job, job.generation, step))
        self._condition.notify()

    @staticmethod
    def _remove_upload(job: _Job):
        if job.cleanup is not None:
            shutil.rmtree(job.cleanup, ignore_errors=True)
            job.cleanup = None

    def _next_poll(self, job: _Job):
        job.poll_interval = self.schedule.next_interval(job.poll_interval)
        return job.poll_interval, self._poll

    def _take(self):
        """The next due step, waiting for it; None when stopping."""
        with self._condition:
            while not self._stopping:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    _, _, job, generation, step = heapq.heappop(self._heap)
                    if generation == job.generation and self._jobs.get(job.state.job_id) is job:
                        return job, generation, step
                    continue
                self._condition.wait(self._heap[0][0] - now if self._heap else None)
            return None

    def _work(self):
        while (taken := self._take()) is not None:
            job, generation, step = taken
            try:
                following = step(job)
            except Cancelled:  # the client was closed: shutting down
                following = None
            except Exception as error:  # a bug must fail the job, not kill the worker
                following = self._fail(job, RodinError(f"internal error: {error!r}"))
            with self._condition:
                if self._jobs.get(job.state.job_id) is not job:
                    continue
                if following is None:
                    del self._jobs[job.state.job_id]
                elif generation == job.generation:
                    self._schedule(job, *following)

    def _post(self, job: _Job, **changes):
        job.state = replace(job.state, **changes)
        self.updates.put(job.state)

    def _post_progress(self, job: _Job, done: int, total: int | None):
        now = time.monotonic()
        fraction = done / total if total else 0.0
        if fraction < 1.0 and now - job.last_progress_post < PROGRESS_REPORT_INTERVAL:
            return
        job.last_progress_post = now
        self._post(job, progress=fraction)

    def _fail(self, job: _Job, error: RodinError, hint: str = ""):
        self._post(
            job,
            phase=Phase.FAILED,
            message=str(error),
            hint=hint or error.hint,
            finished_at=self._clock(),
        )
        return None
