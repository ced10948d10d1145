"""The batch journal: states folded from records, durable appends, a torn last line dropped."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rodin_texture_addon.batch.journal import AssetState, Journal, JournalError, JournalInUse
from rodin_texture_addon.batch.plan import Action, plan
from rodin_texture_addon.rodin import SubmittedTask
from rodin_texture_addon.rodin.errors import InsufficientFunds

TASK = SubmittedTask("task-1", "subscription-1", ("job-1",))


def test_records_fold_into_each_assets_state(tmp_path):
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.expect("a", "hash-a", {"material": "PBR"})
        journal.intent("a")
        assert journal.entry("a").state is AssetState.UNCONFIRMED
        journal.submitted("a", TASK, 100.0)
        journal.intent("b")
        journal.refused("b", InsufficientFunds("no credits", code="INSUFFICIENT_FUND"))
        journal.intent("c")
    with Journal(path) as journal:  # read back from disk
        a, b, c = journal.entry("a"), journal.entry("b"), journal.entry("c")
        assert (a.state, a.input_hash) == (AssetState.SUBMITTED, "hash-a")
        assert a.settings == {"material": "PBR"}
        assert (a.task_uuid, a.subscription_key, a.job_uuids, a.submitted_at) == (
            "task-1",
            "subscription-1",
            ("job-1",),
            100.0,
        )
        assert b.state is AssetState.NEW and "INSUFFICIENT_FUND" in b.message
        assert c.state is AssetState.UNCONFIRMED
        journal.downloaded("a", str(tmp_path / "model.glb"), "")
        journal.written("a", [tmp_path / "out.glb"])
        assert journal.entry("a").state is AssetState.WRITTEN
        assert journal.entry("a").outputs == (str(tmp_path / "out.glb"),)


def test_a_torn_last_line_is_dropped_and_cut_off(tmp_path):
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.expect("a", "hash-a", {})
        journal.intent("a")
        journal.submitted("a", TASK, 1.0)
    whole = path.read_bytes()
    last = json.dumps({"event": "downloaded", "asset": "a", "model_path": "/m.glb"}) + "\n"
    for cut in range(len(last)):  # a crash after any number of the record's bytes
        path.write_bytes(whole + last[:cut].encode())
        with Journal(path) as journal:
            assert journal.entry("a").state is AssetState.SUBMITTED
            journal.generation_failed("a", "Failed")
        lines = path.read_bytes().splitlines()
        assert [json.loads(line)["event"] for line in lines] == [
            "intent", "submitted", "generation_failed"
        ]  # fmt: skip


SHORT_WRITE = """
import resource, signal, sys
from rodin_texture_addon.batch.journal import Journal, JournalError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the size limit: a short write, not a kill
journal = Journal(sys.argv[1])
journal.append("intent", "a")
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (journal.path.stat().st_size + 20, hard))
try:
    journal.append("intent", "b")
except JournalError as error:
    print(error)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
journal.append("intent", "c")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="file size limits are POSIX")
def test_after_a_short_write_the_next_record_starts_a_line_of_its_own(tmp_path):
    path = tmp_path / "journal.jsonl"
    repo = Path(__file__).resolve().parents[2]
    writer = subprocess.run(
        [sys.executable, "-c", SHORT_WRITE, str(path)], cwd=repo, capture_output=True, text=True
    )
    assert writer.returncode == 0, writer.stderr
    assert "only 20 of" in writer.stdout, "the limit made the second write short"
    lines = path.read_bytes().splitlines()
    assert [json.loads(line)["asset"] for line in lines] == ["a", "c"]
    with Journal(path) as journal:
        assert {entry.asset for entry in journal.entries()} == {"a", "c"}


def test_a_whole_record_joined_onto_a_torn_one_is_read(tmp_path):
    path = tmp_path / "journal.jsonl"
    record = json.dumps({"asset": "a", "event": "submitted", "task_uuid": "t"})
    path.write_text('{"asset": "a", "event": "intent"}\n{"asset": "a", "ev' + record + "\n")
    with Journal(path) as journal:
        assert journal.entry("a").state is AssetState.SUBMITTED
    path.write_text(record[:-1] + '}{"asset": \n')  # a whole record, then damage: not dropped
    with pytest.raises(JournalError, match="line 1"):
        Journal(path)


def test_a_damaged_record_before_the_last_is_an_error_not_silence(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text('{"event": "intent", "asset": "a"}\n{"event": "subm\n{"event": "x"}\n')
    with pytest.raises(JournalError, match="line 2"):
        Journal(path)


WRITER = """
import sys
from rodin_texture_addon.batch.journal import Journal
from rodin_texture_addon.rodin import SubmittedTask
journal = Journal(sys.argv[1])
print("ready", flush=True)
for number in range(1_000_000):
    name = f"asset-{number}-" + "x" * 2000
    journal.expect(name, "h" * 64, {"prompt": "y" * 4000})
    journal.intent(name)
    journal.submitted(name, SubmittedTask(f"task-{number}", "key", ("job",)), 1.0)
"""


def test_a_writer_killed_at_any_moment_leaves_a_readable_journal(tmp_path):
    path = tmp_path / "journal.jsonl"
    repo = Path(__file__).resolve().parents[2]
    for _ in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], cwd=repo, stdout=subprocess.PIPE
        )
        assert writer.stdout.readline() == b"ready\n"
        size = path.stat().st_size
        while path.stat().st_size < size + 200_000:
            time.sleep(0.005)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        with Journal(path) as journal:
            states = {entry.state for entry in journal.entries()}
        assert states <= {AssetState.UNCONFIRMED, AssetState.SUBMITTED}
        assert path.read_bytes().endswith(b"\n")


WRITTEN = ["intent", "submitted", "downloaded", "written"]


@pytest.mark.parametrize(
    ("events", "flags", "action"),
    [
        ([], {}, Action.SUBMIT),
        (["intent"], {}, Action.UNCONFIRMED),
        (["intent"], {"resubmit_unconfirmed": True}, Action.SUBMIT),
        (["intent", "refused"], {}, Action.SUBMIT),
        (["intent", "submitted"], {}, Action.RESUME),
        (["intent", "submitted", "generation_failed"], {}, Action.FAILED_BEFORE),
        (["intent", "submitted", "generation_failed"], {"retry_failed": True}, Action.SUBMIT),
        (["intent", "submitted", "downloaded"], {}, Action.WRITE),
        (WRITTEN, {"outputs_exist": True}, Action.ALREADY_DONE),
        (WRITTEN, {}, Action.WRITE),
    ],
)
def test_the_plan_never_submits_what_may_have_been_paid_for(tmp_path, events, flags, action):
    model = tmp_path / "model.glb"
    model.write_bytes(b"glTF")
    with Journal(tmp_path / "journal.jsonl") as journal:
        journal.expect("a", "hash-a", {})
        for event in events:
            fields = {"model_path": str(model)} if event == "downloaded" else {}
            fields |= {"input_hash": "hash-a"} if event == "intent" else {}
            journal.append(event, "a", **fields)
        entry = journal.entry("a")
    outputs_exist = flags.pop("outputs_exist", False)
    assert plan(entry, "hash-a", outputs_exist=outputs_exist, **flags) is action
    if entry.state is not AssetState.NEW:
        assert plan(entry, "changed", outputs_exist=outputs_exist) is Action.SUBMIT


HOLDER = """
import sys, time
from rodin_texture_addon.batch.journal import Journal
journal = Journal(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


def test_one_process_at_a_time_holds_a_journal(tmp_path):
    path = tmp_path / "journal.jsonl"
    repo = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], cwd=repo, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(JournalInUse, match=rf"another batch \(process {holder.pid}\)"):
            Journal(path)
    finally:
        holder.kill()  # the system lets go of a dead process's lock
        holder.wait()
    with Journal(path) as journal:
        journal.append("intent", "a")
    with Journal(path) as journal:  # and of a closed journal's
        assert journal.entry("a").state is AssetState.UNCONFIRMED
