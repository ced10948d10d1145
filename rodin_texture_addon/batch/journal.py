"""The batch journal: what was asked of the service for each asset, kept safe on disk.

One JSON object a line, appended with a single write and fsync'd before the caller goes on,
so a record is either whole on disk or, after a crash mid-write, a torn last line that loading
drops (and cuts off, so that the next record starts on a line of its own). A write that failed
part way is cut off before the next one, so no record is ever joined onto a torn one; loading
still takes the whole record out of such a line (from journals damaged otherwise). Records:

- ``intent``: a submit is about to leave (input hash, settings, and for people reading the
  journal the file and object, as assets are named by what they send). Written before the
  request, so that a kill before the answer is recorded leaves this trace: the service may or
  may not have taken (and charged) the task, and a rerun says so instead of submitting again.
- ``submitted``: the service took it (task uuid, subscription key, job uuids, time).
- ``refused``: the service answered no (nothing charged); the asset may be submitted again.
- ``downloaded``: the result files are on disk (their paths).
- ``generation_failed``: the service reported the task as Failed.
- ``written``: the batch wrote the asset's outputs.

No API key ever goes in: the subscription key is only good for asking a task's status.
"""

import os
import threading
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from ..jobs import records
from ..rodin import SubmittedTask
from ..rodin.errors import RodinError


class JournalError(Exception):
    """The journal cannot be read: a damaged record that is not the last one."""


class JournalInUse(JournalError):
    """Another process holds the journal: two runs on one work folder would both submit."""


class AssetState(StrEnum):
    NEW = "new"
    UNCONFIRMED = "unconfirmed"  # an intent without an answer: maybe submitted, maybe not
    SUBMITTED = "submitted"
    DOWNLOADED = "downloaded"
    FAILED = "failed"  # the generation failed at the service (charged)
    WRITTEN = "written"


# The state each record kind leads to.
STATE_AFTER = {
    "intent": AssetState.UNCONFIRMED,
    "submitted": AssetState.SUBMITTED,
    "refused": AssetState.NEW,
    "downloaded": AssetState.DOWNLOADED,
    "generation_failed": AssetState.FAILED,
    "written": AssetState.WRITTEN,
}


@dataclass(frozen=True)
class AssetEntry:
    """What the journal knows of one asset, folded from its records."""

    asset: str
    state: AssetState = AssetState.NEW
    input_hash: str = ""
    settings: dict = field(default_factory=dict)
    task_uuid: str = ""
    subscription_key: str = ""
    job_uuids: tuple[str, ...] = ()
    submitted_at: float = 0.0
    model_path: str = ""
    preview_path: str = ""
    message: str = ""
    outputs: tuple[str, ...] = ()

    def apply(self, record: dict) -> "AssetEntry":
        changes = {"state": STATE_AFTER[record["event"]]}
        for name in (
            "input_hash",
            "settings",
            "task_uuid",
            "subscription_key",
            "submitted_at",
            "model_path",
            "preview_path",
            "message",
        ):
            if name in record:
                changes[name] = record[name]
        for name in ("job_uuids", "outputs"):
            if name in record:
                changes[name] = tuple(record[name])
        return replace(self, **changes)


class Journal:
    """An append-only journal file; thread-safe. Also the ``Ledger`` of a ``JobManager`` whose
    job ids are asset names: call ``expect`` first so that intents carry hash and settings."""

    def __init__(self, path: Path):
        """Open (or create) the journal at ``path``, held by this process alone until
        ``close`` (or its end): ``JournalInUse`` names the process that holds it."""
        self.path = Path(path)
        self._lock = threading.Lock()
        self._entries: dict[str, AssetEntry] = {}
        self._expected: dict[str, tuple[str, dict, str]] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._holder = _hold(self.path.with_name(self.path.name + ".lock"))
        created = not self.path.exists()
        try:
            self._load()
        except BaseException:
            os.close(self._holder)
            raise
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._end = os.fstat(self._fd).st_size  # where the complete records end
        self._torn = False  # a write failed part way: cut its bytes off before the next
        if created:
            records.fsync_folder(self.path.parent)

    def close(self):
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                os.close(self._holder)  # lets another run have the journal
                self._fd = -1

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc_info):
        self.close()

    def entry(self, asset: str) -> AssetEntry:
        with self._lock:
            return self._entries.get(asset, AssetEntry(asset))

    def entries(self) -> list[AssetEntry]:
        with self._lock:
            return list(self._entries.values())

    def expect(self, asset: str, input_hash: str, settings: dict, label: str = ""):
        """What an asset's next submit will send, and what it is (written with its intent)."""
        with self._lock:
            self._expected[asset] = (input_hash, settings, label)

    # --- the ledger (worker threads) ---

    def intent(self, job_id: str):
        input_hash, settings, label = self._expected.get(job_id, ("", {}, ""))
        self.append("intent", job_id, input_hash=input_hash, settings=settings, label=label)

    def submitted(self, job_id: str, task: SubmittedTask, submitted_at: float):
        self.append(
            "submitted",
            job_id,
            task_uuid=task.task_uuid,
            subscription_key=task.subscription_key,
            job_uuids=list(task.job_uuids),
            submitted_at=submitted_at,
        )

    def refused(self, job_id: str, error: RodinError):
        self.append("refused", job_id, message=str(error))

    def downloaded(self, job_id: str, model_path: str, preview_path: str):
        self.append("downloaded", job_id, model_path=model_path, preview_path=preview_path)

    def generation_failed(self, job_id: str, message: str):
        self.append("generation_failed", job_id, message=message)

    def written(self, asset: str, outputs: list[str]):
        self.append("written", asset, outputs=[str(path) for path in outputs])

    # --- the file ---

    def append(self, event: str, asset: str, **fields):
        """Write one record and make it durable before returning."""
        if event not in STATE_AFTER:
            raise ValueError(f"unknown journal event {event!r}")
        record = {"event": event, "asset": asset, "time": time.time(), **fields}
        line = records.encode(record)
        with self._lock:
            if self._fd < 0:
                raise JournalError("the journal is closed")
            if self._torn:
                os.ftruncate(self._fd, self._end)
            self._torn = True  # until this record is whole and durable
            written = os.write(self._fd, line)
            if written != len(line):
                raise JournalError(f"{self.path}: only {written} of {len(line)} bytes written")
            os.fsync(self._fd)
            self._torn = False
            self._end += written
            self._fold(record)

    def _load(self):
        """Read the records; a torn last line (a crash mid-write) is cut off the file."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        lines, complete = records.complete_lines(data)
        for number, line in enumerate(lines, start=1):
            try:
                self._fold(records.parse_record(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise JournalError(
                    f"{self.path}, line {number}: damaged record ({exc}); "
                    "move the journal aside to start over (tasks in it would be forgotten)"
                ) from None
        if complete < len(data):
            with self.path.open("r+b") as file:
                file.truncate(complete)
                file.flush()
                os.fsync(file.fileno())

    def _fold(self, record: dict):
        asset = record["asset"]
        if not isinstance(asset, str) or record["event"] not in STATE_AFTER:
            raise ValueError("not a journal record")
        self._entries[asset] = self._entries.get(asset, AssetEntry(asset)).apply(record)


def _hold(lock_path: Path) -> int:
    """Take the lock file's exclusive lock (the system releases it if the process dies) and
    write this process's id in it; ``JournalInUse`` when another process holds it."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        records.lock(fd, wait=False)
    except OSError:
        holder = os.read(fd, 100).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise JournalInUse(
            f"another batch (process {holder}) is using {lock_path.with_suffix('')}: wait for "
            "it to end, or give this run a work folder of its own"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}".encode())
    return fd
