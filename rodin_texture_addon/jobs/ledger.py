"""The task ledger: every task submitted from this user's Blender (the add-on and the batch),
kept in one file in the extension's user folder so that a paid result is never lost: not when
Blender crashes, the file is closed without saving, the object is deleted or the file is lost.

Records are appended (one JSON line, one write, fsync'd) under the file's lock, held only for
that write, so several Blender instances and batch runs share the ledger. A task's first record
is written on the worker thread the moment the service accepts it, before anything else
happens; later ones say how it went on (downloaded, failed, applied). A torn last line, left by
a crash mid-write, is dropped when read and closed off before the next write. No API key is
ever in it: a task's subscription key is only good for asking its status.
"""

import math
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..rodin import SubmittedTask, contract
from ..rodin.errors import RodinError
from . import records

# Where a task is, from what the ledger has heard of it.
SUBMITTED, DOWNLOADED, FAILED, APPLIED = "submitted", "downloaded", "failed", "applied"
EVENTS = (SUBMITTED, DOWNLOADED, FAILED, APPLIED)
# A ledger past this size is compacted to a line per task of the last month (4 lines a task
# make a megabyte at about 1,000 tasks).
COMPACT_ABOVE = 1024 * 1024
KEPT = 30 * 24 * 3600.0
# A line longer, or nested deeper, is unreadable without being parsed: no record of ours comes
# near either (a long prompt is a few kilobytes; records nest three deep).
MAX_RECORD_BYTES = 256 * 1024
MAX_NESTING = 8


@dataclass(frozen=True)
class LedgerTask:
    """What the ledger knows of one task, folded from its records."""

    task_uuid: str
    state: str = SUBMITTED
    subscription_key: str = ""
    job_uuids: tuple[str, ...] = ()
    submitted_at: float = 0.0
    object_name: str = ""  # the object it was submitted for
    file_path: str = ""  # the .blend that object was in ("" for an unsaved file)
    file_id: str = ""  # that .blend's own id, which Save As keeps (none in older records)
    settings: dict = field(default_factory=dict)  # the form fields sent
    cost: float = contract.CREDITS_PER_TASK
    source: str = "add-on"  # or "batch"
    model_path: str = ""
    preview_path: str = ""
    message: str = ""
    applied_to: str = ""  # the object its result was last applied to
    group: str = ""  # the variants made together share one
    variant: int = 0  # its place among them
    proxy: dict = field(default_factory=dict)  # the simplified copy sent in the mesh's place
    together: tuple[str, ...] = ()  # the meshes sent with it as one model, itself first

    @property
    def seed(self) -> int | None:
        seed = self.settings.get("seed")
        return int(seed) if isinstance(seed, str) and seed.isdigit() else None

    def as_record(self, now: float) -> dict:
        """The task as one record, which folds back into the same task."""
        blank = LedgerTask(self.task_uuid)
        fields = {
            name: list(value) if isinstance(value, tuple) else value
            for name in self.__dataclass_fields__
            if name != "state" and (value := getattr(self, name)) != getattr(blank, name)
        }
        return {**fields, "task_uuid": self.task_uuid, "event": self.state, "time": now}

    def with_record(self, record: dict) -> "LedgerTask":
        known = set(self.__dataclass_fields__) - {"task_uuid", "state"}
        changes = {name: value for name, value in record.items() if name in known}
        for name in ("job_uuids", "together"):
            if name in changes:
                changes[name] = tuple(changes[name])
        return replace(self, state=record["event"], **changes)


class TaskLedger:
    """The ledger file; thread-safe, and safe to share between processes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        # What was read so far: the file (device, inode), up to where, and the tasks in it.
        self._read_lock = threading.Lock()
        self._identity: tuple | None = None
        self._offset = 0
        self._known: dict[str, LedgerTask] = {}
        self.unreadable = 0  # lines of the file read so far that hold no readable record
        self.problem = ""  # why the file could not be read at all, the last time it was tried

    def record(self, event: str, task_uuid: str, **fields) -> None:
        """Append one record and make it durable before returning."""
        if event not in EVENTS:
            raise ValueError(f"unknown ledger event {event!r}")
        if not task_uuid:
            raise ValueError("a ledger record needs a task id")
        line = records.encode(
            {"event": event, "task_uuid": task_uuid, "time": time.time(), **fields}
        )
        with self._lock:
            created = not self.path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = self._open_locked()
            try:
                end = os.lseek(fd, 0, os.SEEK_END)
                if end:
                    os.lseek(fd, end - 1, os.SEEK_SET)
                    if os.read(fd, 1) != b"\n":
                        line = b"\n" + line  # a torn record before: this one starts a line
                written = os.write(fd, line)
                if written != len(line):
                    os.ftruncate(fd, end)
                    raise OSError(f"{self.path}: only {written} of {len(line)} bytes written")
                os.fsync(fd)
            finally:
                os.close(fd)  # and with it the lock
            if created:
                records.fsync_folder(self.path.parent)

    def compact(self, now: float | None = None) -> bool:
        """Once the ledger has grown past ``COMPACT_ABOVE``: rewrite it as one line per task
        of the last ``KEPT_DAYS`` days (the service keeps results for 7). Atomic (a new file
        renamed over the old) and under the file's lock: a writer waiting for it writes to the
        new file. Returns whether it rewrote."""
        now = time.time() if now is None else now
        with self._lock:
            try:
                if self.path.stat().st_size <= COMPACT_ABOVE:
                    return False
            except FileNotFoundError:
                return False
            fd = self._open_locked()
            try:
                with open(fd, "rb", closefd=False) as file:
                    unreadable: list[bytes] = []
                    known = fold(records.complete_lines(file.read())[0], {}, unreadable)
                kept = [task for task in known.values() if now - task.submitted_at < KEPT]
                if unreadable:  # kept aside for whoever wants to look, never lost
                    with self.rejected_path.open("ab") as file:
                        file.writelines(line + b"\n" for line in unreadable)
                        file.flush()
                        os.fsync(file.fileno())
                compacted = self.path.with_name(self.path.name + ".compacting")
                with compacted.open("wb") as file:
                    file.writelines(records.encode(task.as_record(now)) for task in kept)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(compacted, self.path)
                records.fsync_folder(self.path.parent)
            finally:
                os.close(fd)  # a writer waiting on the old file finds it replaced
        return True

    @property
    def rejected_path(self) -> Path:
        """Where compaction keeps the lines it could not read."""
        return self.path.with_name(self.path.name + ".rejected")

    def _open_locked(self) -> int:
        """The ledger file, open for appending with its lock held: the file at the path now
        (a compaction may have replaced the one opened while waiting for the lock)."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                records.lock(fd, wait=True)
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    return fd
            except FileNotFoundError:
                pass  # replaced and gone meanwhile: open it again
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)

    def note(self, event: str, task_uuid: str, **fields) -> str:
        """``record``, where a ledger that cannot be written is said on the console and stops
        nothing (whoever calls has the task). Returns why it could not be written ("": it was)."""
        try:
            self.record(event, task_uuid, **fields)
        except OSError as error:
            print(f"Rodin: the task history could not be written: {error}", flush=True)
            return f"{self.path}: {error.strerror or error}"
        return ""

    def tasks(self) -> list["LedgerTask"]:
        """Every task in the ledger, newest first. Only what was appended since the last call
        is read (the file is append-only; one replaced or cut is read again whole). Damaged
        lines are skipped: a ledger that cannot be read in part still gives the rest."""
        with self._read_lock:
            self._read_new()
            return sorted(self._known.values(), key=lambda task: task.submitted_at, reverse=True)

    def _read_new(self) -> None:
        try:
            with self.path.open("rb") as file:
                stat = os.fstat(file.fileno())
                identity = (stat.st_dev, stat.st_ino)
                if identity != self._identity or stat.st_size < self._offset:
                    self._forget(identity)
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            self._forget(None)
            return
        except OSError as error:  # a folder in its place, no permission, a disk error
            self._forget(None)
            self.problem = f"{self.path} cannot be read ({error.strerror or error})"
            return
        self.problem = ""
        lines, complete = records.complete_lines(data)
        self._offset += complete
        unreadable: list[bytes] = []
        fold(lines, self._known, unreadable)
        self.unreadable += len(unreadable)

    def _forget(self, identity: tuple | None) -> None:
        self._identity, self._offset, self._known, self.unreadable = identity, 0, {}, 0

    def task(self, task_uuid: str) -> LedgerTask | None:
        return next((task for task in self.tasks() if task.task_uuid == task_uuid), None)


def fold(
    lines: list[bytes], known: dict[str, LedgerTask], unreadable: list[bytes] | None = None
) -> dict[str, LedgerTask]:
    """``known`` (task uuid -> task) with the records of ``lines`` folded in; lines that hold
    no readable record are skipped (and added to ``unreadable`` when given)."""
    for line in lines:
        record = read_record(line)
        if record is None:
            if unreadable is not None:
                unreadable.append(line)
            continue
        uuid = record["task_uuid"]
        known[uuid] = known.get(uuid, LedgerTask(uuid)).with_record(record)
    return known


def read_record(line: bytes) -> dict | None:
    """The record on one ledger line when it has the ledger's shape and types, else None. Never
    raises: the line's length and nesting are bounded before it is parsed, so no line written
    by hand, by a bug or by another program can break the history for everyone sharing it."""
    if len(line) > MAX_RECORD_BYTES or _nesting(line) > MAX_NESTING:
        return None
    try:
        record = records.parse_record(line)
    except (ValueError, RecursionError):
        return None
    for name, is_valid in FIELD_CHECKS.items():
        if (name in record or name in REQUIRED) and not is_valid(record.get(name)):
            return None
    return record


def _nesting(line: bytes) -> int:
    """How deep the line's brackets nest (strings skipped); an upper bound when it has few."""
    brackets = line.count(b"{") + line.count(b"[")
    if brackets <= MAX_NESTING:
        return brackets
    depth = deepest = 0
    in_string = escaped = False
    for byte in line:
        if escaped:
            escaped = False
        elif in_string:
            escaped, in_string = byte == 0x5C, byte != 0x22  # a backslash, a closing quote
        elif byte == 0x22:
            in_string = True
        elif byte in b"{[":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"}]":
            depth -= 1
    return deepest


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _is_text(value) -> bool:
    return isinstance(value, str)


def _is_scalar(value) -> bool:
    return isinstance(value, str | bool) or _is_number(value)


def _is_text_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_flat_dict(value) -> bool:
    return isinstance(value, dict) and all(_is_scalar(item) for item in value.values())


REQUIRED = ("task_uuid", "event")
# What each field a record may carry must be; fields not listed are ignored.
FIELD_CHECKS = {
    "task_uuid": lambda value: isinstance(value, str) and bool(value),
    "event": lambda value: isinstance(value, str) and value in EVENTS,
    "time": _is_number,
    "submitted_at": _is_number,
    "cost": _is_number,
    "variant": lambda value: type(value) is int and 0 <= value < 1000,
    "subscription_key": _is_text,
    "object_name": _is_text,
    "file_path": _is_text,
    "file_id": _is_text,
    "source": _is_text,
    "model_path": _is_text,
    "preview_path": _is_text,
    "message": _is_text,
    "applied_to": _is_text,
    "group": _is_text,
    "job_uuids": _is_text_list,
    "together": _is_text_list,
    "settings": _is_flat_dict,
    "proxy": _is_flat_dict,
}


def recent(
    tasks: list[LedgerTask], now: float | None = None, file_path: str | None = None
) -> list[LedgerTask]:
    """The tasks whose results the service still keeps (7 days); with ``file_path``, only those
    submitted from that file."""
    now = time.time() if now is None else now
    return [
        task
        for task in tasks
        if now - task.submitted_at < contract.RESULT_RETENTION
        and (file_path is None or task.file_path == file_path)
    ]


def never_applied(tasks: list[LedgerTask], now: float | None = None) -> list[LedgerTask]:
    """Recent tasks whose result was never applied and did not fail: paid for, never seen."""
    return [
        task
        for task in recent(tasks, now)
        if task.state in (SUBMITTED, DOWNLOADED) and not task.applied_to
    ]


class LedgerWriter:
    """A ``JobManager``'s ``Ledger`` that writes the ledger: what each job is for is told first
    (``expect``, on the main thread); the manager then reports on its worker threads. A ledger
    that cannot be written is said on the console and stops nothing: the job goes on."""

    def __init__(self, ledger: TaskLedger, source: str = "add-on"):
        self.ledger, self.source = ledger, source
        self._expected: dict[str, dict] = {}
        self._tasks: dict[str, str] = {}  # job id -> task uuid
        # Paid tasks the ledger could not take (task uuid -> why): nothing but the interface
        # could find them again, so it says so at once.
        self.unrecorded: dict[str, str] = {}
        self._lock = threading.Lock()

    def expect(self, job_id: str, task_uuid: str = "", **context) -> None:
        """What job ``job_id`` will submit for (object, file, settings, group: written with its
        task), or the task it follows, submitted earlier."""
        with self._lock:
            if context:
                self._expected[job_id] = context
            if task_uuid:
                self._tasks[job_id] = task_uuid

    def intent(self, job_id: str) -> None:
        pass  # only a task the service took is worth remembering here

    def submitted(self, job_id: str, task: SubmittedTask, submitted_at: float) -> None:
        with self._lock:
            self._tasks[job_id] = task.task_uuid
            context = self._expected.pop(job_id, {})
        self._record(
            SUBMITTED,
            task.task_uuid,
            subscription_key=task.subscription_key,
            job_uuids=list(task.job_uuids),
            submitted_at=submitted_at,
            source=self.source,
            **({"cost": task.consumed} if task.consumed is not None else {}),
            **context,
        )

    def refused(self, job_id: str, error: RodinError) -> None:
        pass  # nothing was charged

    def downloaded(self, job_id: str, model_path: str, preview_path: str) -> None:
        task_uuid = self.task_of(job_id)
        if task_uuid:
            self._record(DOWNLOADED, task_uuid, model_path=model_path, preview_path=preview_path)

    def generation_failed(self, job_id: str, message: str) -> None:
        task_uuid = self.task_of(job_id)
        if task_uuid:
            self._record(FAILED, task_uuid, message=message)

    def task_of(self, job_id: str) -> str:
        """The task a job follows, once the service has accepted it ("" before)."""
        with self._lock:
            return self._tasks.get(job_id, "")

    def _record(self, event: str, task_uuid: str, **fields) -> None:
        problem = self.ledger.note(event, task_uuid, **fields)
        if problem and event == SUBMITTED:
            with self._lock:
                self.unrecorded[task_uuid] = problem


class Ledgers:
    """Several ledgers told the same (the batch: its journal and the user's task ledger)."""

    def __init__(self, *ledgers):
        self.ledgers = ledgers

    def __getattr__(self, name):
        def tell_all(*arguments):
            for ledger in self.ledgers:
                getattr(ledger, name)(*arguments)

        return tell_all
