"""The task ledger: durable, shared between processes, tolerant of a torn last record."""

import json
import subprocess
import sys
import time
from pathlib import Path

from rodin_texture_addon.jobs import JobManager, PollSchedule
from rodin_texture_addon.jobs import ledger as ledger_module
from rodin_texture_addon.jobs.ledger import (
    APPLIED,
    DOWNLOADED,
    SUBMITTED,
    LedgerWriter,
    TaskLedger,
    never_applied,
    recent,
)
from rodin_texture_addon.rodin import TextureRequest

FAST = PollSchedule(first_delay=0.05, max_interval=0.1)
REPO = Path(__file__).parents[2]
DAY = 24 * 3600.0


def test_a_task_is_folded_from_its_records_newest_first(tmp_path):
    ledger = TaskLedger(tmp_path / "tasks.jsonl")
    ledger.record(SUBMITTED, "old", submitted_at=100.0, object_name="Cube", settings={"seed": "3"})
    ledger.record(SUBMITTED, "new", submitted_at=200.0, object_name="Suzanne", file_path="/a.blend")
    ledger.record(DOWNLOADED, "old", model_path="/r/old.glb", preview_path="/r/old.webp")
    ledger.record(APPLIED, "old", applied_to="Cube")

    new, old = ledger.tasks()

    assert (new.task_uuid, new.state, new.file_path) == ("new", SUBMITTED, "/a.blend")
    assert (old.state, old.object_name, old.model_path, old.applied_to) == (
        APPLIED,
        "Cube",
        "/r/old.glb",
        "Cube",
    )
    assert old.seed == 3 and new.seed is None
    assert never_applied(ledger.tasks(), now=300.0) == [new]


def test_the_history_keeps_seven_days_and_filters_by_file(tmp_path):
    ledger = TaskLedger(tmp_path / "tasks.jsonl")
    now = 100 * DAY
    for name, age, file_path in (("today", 0.5, "/a.blend"), ("week", 6.9, "/b.blend"),
                                 ("gone", 7.1, "/a.blend")):  # fmt: skip
        ledger.record(SUBMITTED, name, submitted_at=now - age * DAY, file_path=file_path)

    tasks = ledger.tasks()
    assert [task.task_uuid for task in recent(tasks, now)] == ["today", "week"]
    assert [task.task_uuid for task in recent(tasks, now, file_path="/a.blend")] == ["today"]


def test_a_torn_last_record_is_dropped_and_the_next_starts_a_line_of_its_own(tmp_path):
    path = tmp_path / "tasks.jsonl"
    ledger = TaskLedger(path)
    ledger.record(SUBMITTED, "whole", submitted_at=1.0)
    with path.open("ab") as file:  # a crash in the middle of the next write
        file.write(b'{"event": "submitted", "task_uu')

    assert [task.task_uuid for task in ledger.tasks()] == ["whole"]
    ledger.record(SUBMITTED, "after", submitted_at=2.0)
    assert [task.task_uuid for task in ledger.tasks()] == ["after", "whole"]
    assert path.read_bytes().count(b"\n") == 3


def test_reading_again_takes_what_was_appended_and_a_replaced_file_whole(tmp_path):
    path = tmp_path / "tasks.jsonl"
    reader, writer = TaskLedger(path), TaskLedger(path)  # two sessions, say
    writer.record(SUBMITTED, "a", submitted_at=1.0)
    assert [task.task_uuid for task in reader.tasks()] == ["a"]

    writer.record(DOWNLOADED, "a", model_path="/r/a.glb")
    writer.record(SUBMITTED, "b", submitted_at=2.0)
    assert [(task.task_uuid, task.state) for task in reader.tasks()] == [
        ("b", SUBMITTED),
        ("a", DOWNLOADED),
    ]

    replacement = tmp_path / "restored.jsonl"  # a backup put back, say
    TaskLedger(replacement).record(SUBMITTED, "c", submitted_at=3.0)
    replacement.replace(path)
    assert [task.task_uuid for task in reader.tasks()] == ["c"]
    path.unlink()
    assert reader.tasks() == []


def test_a_large_ledger_is_compacted_to_a_line_per_task_of_the_last_month(tmp_path, monkeypatch):
    monkeypatch.setattr(ledger_module, "COMPACT_ABOVE", 500)
    path = tmp_path / "tasks.jsonl"
    ledger, now = TaskLedger(path), 100 * DAY
    for name, age in (("recent", 1), ("last-month", 29), ("older", 31)):
        ledger.record(SUBMITTED, name, submitted_at=now - age * DAY, object_name=name,
                      settings={"seed": "7"}, job_uuids=["j"],
                      proxy={"triangles": 400_000, "source_triangles": 10**6})  # fmt: skip
        ledger.record(DOWNLOADED, name, model_path=f"/r/{name}.glb")
        ledger.record(APPLIED, name, applied_to=name)
    before = {task.task_uuid: task for task in ledger.tasks()}
    size = path.stat().st_size

    assert ledger.compact(now=now)

    after = TaskLedger(path).tasks()
    assert [task.task_uuid for task in after] == ["recent", "last-month"]
    assert all(task == before[task.task_uuid] for task in after), "each task as it was"
    assert after[0].proxy == {"triangles": 400_000, "source_triangles": 10**6}
    assert len(path.read_bytes().splitlines()) == 2 and path.stat().st_size < size / 2
    assert [task.task_uuid for task in ledger.tasks()] == ["recent", "last-month"]


def test_a_writer_that_waited_while_the_ledger_was_compacted_writes_to_the_new_file(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(ledger_module, "COMPACT_ABOVE", 0)
    path = tmp_path / "tasks.jsonl"
    writer, compactor = TaskLedger(path), TaskLedger(path)
    writer.record(SUBMITTED, "first", submitted_at=time.time())
    real_lock = ledger_module.records.lock
    compacted = []

    def lock_after_a_compaction(fd, *, wait):
        if not compacted:  # the writer has the old file open: it is compacted meanwhile
            compacted.append("under way")
            compacted[0] = compactor.compact()
        real_lock(fd, wait=wait)

    monkeypatch.setattr(ledger_module.records, "lock", lock_after_a_compaction)
    writer.record(SUBMITTED, "second", submitted_at=time.time())

    assert compacted == [True]
    assert {task.task_uuid for task in TaskLedger(path).tasks()} == {"first", "second"}


WRITER = """
import sys
from rodin_texture_addon.jobs.ledger import SUBMITTED, TaskLedger
ledger = TaskLedger(sys.argv[1])
for number in range(int(sys.argv[3])):
    ledger.record(SUBMITTED, f"{sys.argv[2]}-{number}", submitted_at=float(number),
                  settings={"prompt": "x" * 6000})
"""


def test_two_processes_writing_at_once_leave_every_task(tmp_path):
    path = tmp_path / "tasks.jsonl"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "300"], cwd=REPO)
        for name in ("a", "b")
    ]
    assert [writer.wait(60) for writer in writers] == [0, 0]

    tasks = TaskLedger(path).tasks()

    assert len(tasks) == 600
    assert {task.task_uuid for task in tasks} == {f"{n}-{i}" for n in "ab" for i in range(300)}
    lines = path.read_bytes().splitlines()
    assert all(json.loads(line)["settings"]["prompt"] == "x" * 6000 for line in lines)


SUBMITTER = """
import sys
from pathlib import Path
from rodin_texture_addon.jobs import JobManager, PollSchedule
from rodin_texture_addon.jobs import ledger as ledger_module
from rodin_texture_addon.jobs.ledger import LedgerWriter, TaskLedger
from rodin_texture_addon.rodin import ClientSettings, RodinClient, TextureRequest
ledger, url, image, model, name = sys.argv[1:6]
writer = LedgerWriter(TaskLedger(ledger))
manager = JobManager(PollSchedule(first_delay=0.05, max_interval=0.1), ledger=writer)
client = RodinClient(ClientSettings("test-key", base_url=url), request_gate=manager.request_gate)
jobs = [f"{name}-{number}" for number in range(6)]
for job in jobs:
    writer.expect(job, object_name=job, file_path=f"/{name}.blend")
    manager.submit(job, client, TextureRequest(image, model), Path(ledger).parent / job)
for _ in manager.drain(jobs, timeout=60):
    pass
manager.shutdown()
"""


def test_two_processes_submitting_at_once_leave_a_ledger_with_every_task(
    emulator, request_files, tmp_path
):
    path = tmp_path / "tasks.jsonl"
    arguments = [str(path), emulator.base_url, *map(str, request_files)]
    submitters = [
        subprocess.Popen([sys.executable, "-c", SUBMITTER, *arguments, name], cwd=REPO)
        for name in ("first", "second")
    ]
    assert [submitter.wait(120) for submitter in submitters] == [0, 0]

    tasks = TaskLedger(path).tasks()

    assert {task.task_uuid for task in tasks} == set(emulator.tasks)
    assert len(tasks) == emulator.submit_count == 12
    assert {task.state for task in tasks} == {DOWNLOADED}
    assert sorted(task.object_name for task in tasks) == sorted(
        f"{name}-{number}" for name in ("first", "second") for number in range(6)
    )


def test_the_manager_writes_a_task_before_anyone_hears_of_it(
    client, emulator, request_files, tmp_path
):
    ledger = TaskLedger(tmp_path / "tasks.jsonl")
    writer = LedgerWriter(ledger)
    manager = JobManager(schedule=FAST, ledger=writer)
    writer.expect("job-1", object_name="Suzanne", file_path="/scene.blend", settings={"a": "1"})
    try:
        manager.submit("job-1", client, TextureRequest(*request_files), tmp_path / "results")
        seen_in_ledger = {}
        for snapshot in manager.drain(["job-1"], timeout=30):
            if snapshot is not None and snapshot.task_uuid and not seen_in_ledger:
                seen_in_ledger = {"task": ledger.task(snapshot.task_uuid)}
    finally:
        manager.shutdown()

    task = seen_in_ledger["task"]
    assert task is not None, "the first snapshot with a task id came before the ledger had it"
    assert (task.object_name, task.file_path, task.settings) == (
        "Suzanne",
        "/scene.blend",
        {"a": "1"},
    )
    assert task.subscription_key and task.submitted_at > time.time() - 60
    done = ledger.task(task.task_uuid)
    assert done.state == DOWNLOADED and Path(done.model_path).is_file()
    assert "test-key" not in (tmp_path / "tasks.jsonl").read_text()
    assert emulator.submit_count == 1
