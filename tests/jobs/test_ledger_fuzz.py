"""The task ledger against lines no add-on wrote: edited by hand, cut off, written by a bug or by
another program. No line may break the history for the Blender sessions and batch runs that
share the file; every readable task in it is still read."""

import json
import random
import time

import pytest

from rodin_texture_addon.jobs.ledger import (
    MAX_RECORD_BYTES,
    SUBMITTED,
    TaskLedger,
    read_record,
)

RECORDS = 10_000
TEXT_FIELDS = ("object_name", "file_path", "model_path", "message", "group", "source")
NUMBER_FIELDS = ("submitted_at", "cost", "time")


def valid_record(rng: random.Random, index: int, now: float) -> dict:
    return {
        "event": rng.choice(["submitted", "downloaded", "failed", "applied"]),
        "task_uuid": f"task-{index}",
        "time": now - rng.uniform(0, 3600),
        "submitted_at": now - rng.uniform(0, 3 * 24 * 3600),
        "object_name": rng.choice(["Suzanne", "Crate", "雕像", 'a"quoted\\name', ""]),
        "file_path": rng.choice(["", "/p/a.blend", "C:\\p\\b.blend"]),
        "settings": {"seed": str(rng.randrange(65536)), "prompt": "{[" * rng.randrange(5)},
        "job_uuids": [f"job-{index}"],
        "variant": rng.randrange(4),
        "proxy": rng.choice([{}, {"triangles": 400_000, "mean_deviation": 0.0001}]),
    }


def wrong_value(rng: random.Random):
    """A value that fits none of the fields it replaces."""
    return rng.choice([None, [1, 2], {"a": [1]}, [{"deep": {}}], {"x": None}])


def damaged_line(rng: random.Random, record: dict) -> bytes:
    """``record`` made unreadable in one of the ways a ledger gets damaged."""
    line = json.dumps(record).encode()
    kind = rng.randrange(11)
    if kind == 0:  # a text field holding something else
        record[rng.choice(TEXT_FIELDS)] = rng.choice([7, 1.5, True, *[wrong_value(rng)] * 3])
    elif kind == 1:  # a number field holding text, or no number at all
        record[rng.choice(NUMBER_FIELDS)] = rng.choice(["yesterday", "", True, wrong_value(rng)])
    elif kind == 2:  # numbers no float holds, and JSON's non-standard ones
        field = rng.choice(NUMBER_FIELDS)
        huge = rng.choice([b"1e999", b"-1e999", b"9" * 400, b"Infinity", b"-Infinity", b"NaN"])
        return json.dumps({**record, field: 0}).encode().replace(f'"{field}": 0'.encode(), (
            f'"{field}": '.encode() + huge
        ))  # fmt: skip
    elif kind == 3:  # nested far deeper than any record
        depth = rng.choice([50, 5_000, 100_000])
        return line[:-1] + b', "settings": ' + b"[" * depth + b"]" * depth + b"}"
    elif kind == 4:  # bytes that are not UTF-8, inside a string
        return line.replace(b"task-", b"task-\xff\xfe", 1)
    elif kind == 5:  # torn: a crash in the middle of the write
        return line[: rng.randrange(1, len(line) - 1)]
    elif kind == 6:  # not an object
        return rng.choice([b"[1, 2, 3]", b"42", b'"text"', b"null", b"true"])
    elif kind == 7:  # the key fields wrong
        field = rng.choice(["task_uuid", "event"])
        record[field] = rng.choice(["", 3, None, [], *(["finished"] if field == "event" else [])])
    elif kind == 8:  # lists and tables of the wrong things
        record[rng.choice(["job_uuids", "settings", "proxy"])] = rng.choice(
            ["job", [1, 2], {"a": {"b": 1}}, {"a": [1]}, 5]
        )
    elif kind == 9:  # longer than any record
        record["message"] = "x" * (MAX_RECORD_BYTES + 1)
    else:  # the variant's place, wrong
        record["variant"] = rng.choice([-1, 1.5, "2", 10**30, True])
    return json.dumps(record).encode()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    """A ledger of 10,000 lines, a third of them damaged; the tasks of the valid ones."""
    rng = random.Random(20261208)
    now = time.time()
    path = tmp_path_factory.mktemp("ledger") / "tasks.jsonl"
    lines, valid = [], {}
    for index in range(RECORDS):
        record = valid_record(rng, index, now)
        if rng.random() < 1 / 3:
            lines.append(damaged_line(rng, record))
        else:
            lines.append(json.dumps(record).encode())
            valid[record["task_uuid"]] = record
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, valid, RECORDS - len(valid)


def test_no_line_breaks_the_reader_and_every_valid_task_is_read(fuzzed):
    path, valid, damaged = fuzzed
    ledger = TaskLedger(path)

    tasks = {task.task_uuid: task for task in ledger.tasks()}

    assert tasks.keys() == valid.keys()
    assert ledger.unreadable == damaged and damaged > 3000
    for task_uuid, record in valid.items():
        task = tasks[task_uuid]
        assert (task.state, task.object_name, task.variant) == (
            record["event"],
            record["object_name"],
            record["variant"],
        )


def test_compaction_keeps_every_valid_task_and_puts_the_damaged_lines_aside(fuzzed, tmp_path):
    source, valid, damaged = fuzzed
    path = tmp_path / "tasks.jsonl"
    path.write_bytes(source.read_bytes())
    ledger = TaskLedger(path)

    assert ledger.compact() is True

    assert {task.task_uuid for task in TaskLedger(path).tasks()} == valid.keys()
    assert TaskLedger(path).unreadable == 0
    assert ledger.rejected_path.read_bytes().count(b"\n") == damaged


def test_a_task_written_after_a_damaged_line_is_read_in_the_same_session(tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_bytes(b'{"event": "submitted", "task_uuid": "deep", "x": ' + b"[" * 200_000 + b"\n")
    ledger = TaskLedger(path)
    assert ledger.tasks() == [] and ledger.unreadable == 1

    ledger.record(SUBMITTED, "after", submitted_at=time.time())

    assert [task.task_uuid for task in ledger.tasks()] == ["after"]


def test_a_ledger_that_is_a_folder_is_said_not_raised(tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.mkdir()
    ledger = TaskLedger(path)

    assert ledger.tasks() == []
    assert "cannot be read" in ledger.problem and str(path) in ledger.problem
    assert ledger.compact() is False  # nothing to compact, nothing raised


@pytest.mark.parametrize(
    "line",
    [
        b'{"event": "submitted", "task_uuid": "t", "submitted_at": "yesterday"}',
        b'{"event": "submitted", "task_uuid": "t", "submitted_at": Infinity}',
        b'{"event": "submitted", "task_uuid": "t", "group": ["a"]}',
        b'{"event": "submitted", "task_uuid": "t", "file_path": 3}',
        b'{"event": "submitted", "task_uuid": ["t"]}',
    ],
    ids=["text-time", "infinite-time", "list-group", "number-path", "list-id"],
)
def test_the_records_seen_breaking_the_history_are_unreadable(line):
    assert read_record(line) is None
    assert read_record(b'{"event": "submitted", "task_uuid": "t"}') is not None
