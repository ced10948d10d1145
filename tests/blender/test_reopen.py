"""A job survives Blender being killed mid-job: the reopened file finishes it, no second submit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.blender

SESSION = Path(__file__).with_name("blender_session.py")


def run_session(*arguments, expect_killed=False, user_folder=None):
    environment = os.environ | ({"BLENDER_USER_RESOURCES": str(user_folder)} if user_folder else {})
    process = subprocess.run(
        [sys.executable, str(SESSION), *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    if expect_killed:
        assert process.returncode == -9, process.stderr[-2000:]
    else:
        assert process.returncode == 0, process.stderr[-2000:]
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    assert lines, process.stdout[-2000:] + process.stderr[-2000:]
    return json.loads(lines[-1])


def test_a_job_saved_then_killed_completes_when_the_file_is_reopened(
    addon, emulator, reference_image, tmp_path
):
    emulator.configure(waiting_seconds=1.0, generating_seconds=1.0)
    extensions = Path(addon.__file__).parents[1]
    blend = tmp_path / "scene.blend"

    submitted = run_session(
        "submit", extensions, emulator.base_url, blend, reference_image, expect_killed=True
    )
    assert emulator.submit_count == 1

    resumed = run_session("resume", extensions, emulator.base_url, blend)

    assert resumed["resumed_on_load"], "opening the file resumes its unfinished jobs by itself"
    assert resumed["task_uuid"] == submitted["task_uuid"]
    assert resumed["status"] == "done"
    assert resumed["result"] == "Suzanne_rodin"
    assert emulator.submit_count == 1


def test_blender_exits_with_a_job_in_flight_and_loses_nothing(
    addon, emulator, reference_image, tmp_path
):
    """The interpreter ends on its own (a hang would hit run_session's timeout)."""
    emulator.configure(waiting_seconds=1.0, generating_seconds=3.0)
    extensions = Path(addon.__file__).parents[1]
    blend = tmp_path / "scene.blend"

    submitted = run_session(
        "submit_and_exit", extensions, emulator.base_url, blend, reference_image
    )
    resumed = run_session("resume", extensions, emulator.base_url, blend)

    assert resumed["task_uuid"] == submitted["task_uuid"]
    assert resumed["status"] == "done"
    assert emulator.submit_count == 1


def test_killed_before_any_save_the_paid_task_is_recovered_onto_its_object(
    addon, emulator, reference_image, tmp_path
):
    """The file was saved before the submit, never after: only the task history knows, and a
    second Blender reads it past lines damaged by hand."""
    emulator.configure(waiting_seconds=1.0, generating_seconds=1.0)
    extensions = Path(addon.__file__).parents[1]
    blend, user = tmp_path / "scene.blend", tmp_path / "user"
    arguments = (extensions, emulator.base_url, blend)

    submitted = run_session(
        "submit_unsaved", *arguments, reference_image, expect_killed=True, user_folder=user
    )
    (task_uuid,) = emulator.tasks
    assert submitted["task_uuid"] == task_uuid and emulator.submit_count == 1
    (ledger,) = user.rglob("tasks.jsonl")  # the shared history, damaged by hand meanwhile
    with ledger.open("ab") as damaged:
        damaged.write(b'{"event": "submitted", "task_uuid": "t", "submitted_at": "today"}\n')
        damaged.write(b'{"event": "applied", "task_uuid": "' + task_uuid.encode() + b'", ')
        damaged.write(b'"applied_to": ["Suzanne"]}\n' + b"[" * 100_000 + b"\n")

    recovered = run_session("recover", *arguments, user_folder=user)

    assert recovered["offered"] == [task_uuid] and recovered["outcome"] == ["FINISHED"]
    assert recovered["task_uuid"] == task_uuid
    assert (recovered["status"], recovered["result"]) == ("done", "Suzanne_rodin")
    assert recovered["left_to_recover"] == [], "an applied result is not offered again"
    assert emulator.submit_count == 1, "recovery never submits"
