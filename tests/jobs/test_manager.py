"""The job manager against the emulator: whole flows, failures, resume, pacing, shutdown."""

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from rodin_emulator import Fault

from rodin_texture_addon.jobs import JobManager, JobSnapshot, Phase, PollSchedule
from rodin_texture_addon.jobs import manager as manager_module
from rodin_texture_addon.rodin import RetryPolicy, RodinClient, TextureRequest

FAST = PollSchedule(
    first_delay=0.05,
    growth=1.5,
    max_interval=0.2,
    deadline=30.0,
    download_retry_delay=0.05,
    retry_delay=0.1,
)


@pytest.fixture
def manager():
    manager = JobManager(schedule=FAST)
    yield manager
    manager.shutdown()


def run_to_end(manager, job_ids, timeout=15.0) -> dict[str, list[JobSnapshot]]:
    """Every snapshot posted for the jobs, until none of them is running."""
    history = {job_id: [] for job_id in job_ids}
    for snapshot in manager.drain(job_ids, timeout=timeout):
        if snapshot is not None:
            history[snapshot.job_id].append(snapshot)
    return history


def upload_copy(request_files, tmp_path):
    """A throw-away copy of the model in its own folder, as the add-on stages uploads."""
    folder = tmp_path / "upload"
    folder.mkdir()
    model = folder / "model.glb"
    model.write_bytes(request_files[1].read_bytes())
    return TextureRequest(request_files[0], model), folder


def test_a_job_runs_from_upload_to_downloaded_files(
    manager, client, emulator, request_files, tmp_path
):
    request, upload_folder = upload_copy(request_files, tmp_path)
    manager.submit("job-1", client, request, tmp_path / "results", cleanup=upload_folder)
    history = run_to_end(manager, ["job-1"])["job-1"]

    phases = [snapshot.phase for snapshot in history]
    assert phases[0] is Phase.UPLOADING
    assert Phase.WAITING in phases and Phase.GENERATING in phases
    assert phases.index(Phase.WAITING) < phases.index(Phase.GENERATING) < phases.index(Phase.DONE)
    assert any(s.queue_length is not None for s in history if s.phase is Phase.WAITING)
    final = history[-1]
    assert final.phase is Phase.DONE and final.submitted
    assert final.task_uuid in emulator.tasks
    model = tmp_path / "results" / final.task_uuid / "base_basic_pbr.glb"
    assert final.model_path == str(model) and model.read_bytes()[:4] == b"glTF"
    assert final.preview_path.endswith("preview.webp")
    assert not upload_folder.exists(), "the upload's folder is removed once the upload is over"
    assert emulator.submit_count == 1


def test_a_failed_generation_fails_the_job_but_keeps_the_task(
    manager, client, emulator, request_files, tmp_path
):
    emulator.fail_next_task()
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    final = run_to_end(manager, ["job-1"])["job-1"][-1]
    assert final.phase is Phase.FAILED
    assert "Failed" in final.message
    assert final.task_uuid and final.submitted
    assert final.hint.startswith("Generate again (a new task, 0.5 credits)")


def test_a_refused_submit_fails_with_what_to_do(manager, client, emulator, request_files, tmp_path):
    emulator.balance = 0
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    final = run_to_end(manager, ["job-1"])["job-1"][-1]
    assert final.phase is Phase.FAILED
    assert "INSUFFICIENT_FUND" in final.message
    assert "credits" in final.hint
    assert not final.submitted


def test_at_the_parallelism_limit_a_job_waits_for_a_free_slot(
    manager, client, emulator, request_files, tmp_path
):
    emulator.configure(max_parallel_tasks=1)
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    manager.submit("job-2", client, TextureRequest(*request_files), tmp_path)
    history = run_to_end(manager, ["job-1", "job-2"])
    assert [history[j][-1].phase for j in ("job-1", "job-2")] == [Phase.DONE, Phase.DONE]
    waited = [s.message for j in history for s in history[j] if "free slot" in s.message]
    assert waited, "one job should have waited for the account's limit"
    assert emulator.submit_count == 2


def submitted_elsewhere(client, request_files, phase, submitted_at) -> JobSnapshot:
    """A task submitted straight through the client, as a saved file or another session
    holds it: its ids, a phase and a submit time (0: unknown)."""
    task = client.submit(TextureRequest(*request_files))
    return JobSnapshot(
        "job-1",
        phase,
        task_uuid=task.task_uuid,
        subscription_key=task.subscription_key,
        submitted_at=submitted_at,
        submitted=True,
    )


def test_resume_follows_a_submitted_task_without_submitting_again(
    manager, client, emulator, request_files, tmp_path
):
    stored = submitted_elsewhere(client, request_files, Phase.GENERATING, time.time())
    manager.follow("job-1", client, tmp_path, stored)
    final = run_to_end(manager, ["job-1"])["job-1"][-1]
    assert final.phase is Phase.DONE
    assert emulator.submit_count == 1


def test_download_again_uses_fresh_links(manager, client, emulator, request_files, tmp_path):
    emulator.configure(link_lifetime=1.0)
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path / "first")
    done = run_to_end(manager, ["job-1"])["job-1"][-1]
    emulator.configure(link_lifetime=600.0)
    time.sleep(1.2)  # every link the first download was given has expired
    manager.follow("job-1", client, tmp_path / "again", replace(done, model_path=""), download=True)
    final = run_to_end(manager, ["job-1"])["job-1"][-1]
    assert final.phase is Phase.DONE
    assert final.model_path.startswith(str(tmp_path / "again"))
    listings = [r for r in emulator.requests if r.server == "api" and r.path.endswith("/download")]
    assert len(listings) == 2


def test_polling_survives_passing_service_errors(
    manager, client, emulator, request_files, tmp_path
):
    emulator.inject("status", Fault.server_error(500, "oops"), times=6)
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    history = run_to_end(manager, ["job-1"])["job-1"]
    assert history[-1].phase is Phase.DONE
    assert any("retrying" in s.message for s in history)


def test_an_empty_list_right_after_done_is_asked_again(
    manager, client, emulator, request_files, tmp_path
):
    emulator.inject("download", Fault.empty_list(), times=2)
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    assert run_to_end(manager, ["job-1"])["job-1"][-1].phase is Phase.DONE


def test_a_cut_off_or_expired_download_is_fetched_again_through_fresh_links(
    manager, client, emulator, request_files, tmp_path
):
    emulator.inject("files", Fault.truncate(0.5))
    emulator.inject("files", Fault.server_error(403, "expired"))
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    history = run_to_end(manager, ["job-1"])["job-1"]
    assert history[-1].phase is Phase.DONE
    assert any("Download problem, retrying" in s.message for s in history)
    lists = [r for r in emulator.requests if r.path.endswith("/download")]
    assert len(lists) >= 3, "each try asks for fresh links"


def test_downloads_give_up_after_a_few_tries(manager, client, emulator, request_files, tmp_path):
    emulator.inject("download", Fault.empty_list(), times=10)
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    final = run_to_end(manager, ["job-1"])["job-1"][-1]
    assert final.phase is Phase.FAILED
    assert "no result model" in final.message
    assert "Download again" in final.hint
    lists = [r for r in emulator.requests if r.path.endswith("/download")]
    assert len(lists) == 1 + FAST.download_retries


def test_a_task_past_the_deadline_fails_with_a_way_forward(
    client, emulator, request_files, tmp_path
):
    emulator.configure(generating_seconds=60)
    manager = JobManager(schedule=replace(FAST, deadline=0.3))
    try:
        manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
        final = run_to_end(manager, ["job-1"])["job-1"][-1]
    finally:
        manager.shutdown()
    assert final.phase is Phase.FAILED
    assert "no result after" in final.message
    assert "Check Now" in final.hint


def test_check_now_polls_at_once(client, emulator, request_files, tmp_path):
    manager = JobManager(schedule=replace(FAST, first_delay=60, max_interval=60))
    try:
        manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
        while not any(s.submitted for s in _drain(manager)):
            time.sleep(0.01)
        time.sleep(0.5)  # the emulated task is done by now; the next poll is a minute away
        assert manager.check_now("job-1")
        final = run_to_end(manager, ["job-1"], timeout=5)["job-1"][-1]
    finally:
        manager.shutdown()
    assert final.phase is Phase.DONE


def _drain(manager):
    items = []
    while not manager.updates.empty():
        items.append(manager.updates.get())
    return items


def test_shutdown_with_jobs_in_flight_is_quick(client, emulator, request_files, tmp_path):
    emulator.configure(generating_seconds=60)
    manager = JobManager(schedule=FAST)
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    time.sleep(0.2)
    manager.shutdown()
    assert not manager.is_running("job-1")
    assert all(not thread.is_alive() for thread in manager._threads)


def test_draining_gives_up_after_its_timeout_and_the_job_goes_on(
    manager, client, emulator, request_files, tmp_path
):
    emulator.configure(generating_seconds=60)
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    seen = []
    with pytest.raises(TimeoutError):
        for snapshot in manager.drain(["job-1"], timeout=0.5):
            seen.append(snapshot)
    assert seen[0].phase is Phase.UPLOADING, "the first snapshot posted comes first"
    assert None in seen, "a turn for the caller while nothing arrives"
    assert manager.is_running("job-1")


def test_a_job_id_cannot_run_twice(manager, client, emulator, request_files, tmp_path):
    emulator.configure(generating_seconds=60)
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    with pytest.raises(RuntimeError, match="already running"):
        manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)


def test_the_client_and_job_layers_and_the_batch_bookkeeping_never_import_bpy():
    code = (
        "import sys, rodin_texture_addon.rodin, rodin_texture_addon.jobs;"
        "import rodin_texture_addon.batch.plan, rodin_texture_addon.batch.journal;"
        "import rodin_texture_addon.jobs.ledger, rodin_texture_addon.geometry.proxy;"
        "assert 'bpy' not in sys.modules, 'bpy imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_no_error_text_puts_the_key_in_a_job(
    manager, emulator, client_for, request_files, tmp_path
):
    """A bug whose exception quotes the key (as the HTTP stack's encoding error once did):
    the job fails with the error, and the key is not in any of its states."""
    secret = "sk-IN-A-BUG-0123456789"
    emulator.configure(api_key=secret)
    client = client_for(api_key=secret)

    def status_with_a_bug(subscription_key):
        raise ValueError(f"header Bearer {secret} could not be sent")

    client.status = status_with_a_bug
    request, upload_folder = upload_copy(request_files, tmp_path)
    manager.submit("job-1", client, request, tmp_path / "results", cleanup=upload_folder)
    history = run_to_end(manager, ["job-1"])["job-1"]
    assert history[-1].phase is Phase.FAILED
    assert "internal error: ValueError('header Bearer *** could not" in history[-1].message
    assert not [state for state in history if secret in state.message + state.hint]


def test_a_results_folder_that_cannot_hold_files_fails_the_download_with_a_way_out(
    manager, client, emulator, request_files, tmp_path
):
    request, upload_folder = upload_copy(request_files, tmp_path)
    a_file = tmp_path / "results"
    a_file.write_text("a file where the folder should be")
    manager.submit("job-1", client, request, a_file, cleanup=upload_folder)
    final = run_to_end(manager, ["job-1"])["job-1"][-1]

    assert final.phase is Phase.FAILED and final.task_uuid in emulator.tasks
    assert final.message == f"cannot save the result in {a_file}: Not a directory"
    assert final.hint == "Choose a results folder you can write to, then press Download Again."

    folder = tmp_path / "elsewhere"
    manager.follow("job-1", client, folder, final, download=True)
    final = run_to_end(manager, ["job-1"])["job-1"][-1]
    assert final.phase is Phase.DONE and Path(final.model_path).parent.parent == folder
    assert emulator.submit_count == 1


FAILED_SUBMITS = {
    "HTTP 500": (
        lambda emulator: (Fault.server_error(500, "oops"), {}),
        "HTTP 500",
        "The service may have taken the task",
    ),
    "no such page": (
        lambda emulator: (None, {"base_url": emulator.base_url.removesuffix("/api/v2")}),
        "the Service URL looks wrong",
        "ending in /api/v2",
    ),
    "nothing listening": (
        lambda emulator: (None, {"base_url": "http://127.0.0.1:9/api/v2"}),
        "could not reach the service",
        "Check the internet connection",
    ),
    "proxy not listening": (
        lambda emulator: (None, {"proxy_url": "http://127.0.0.1:9"}),
        "could not reach the proxy",
        "Check the internet connection",
    ),
}


@pytest.mark.parametrize("case", FAILED_SUBMITS)
def test_a_failed_submit_says_what_to_do(
    manager, client_for, emulator, request_files, tmp_path, case
):
    make, message, hint = FAILED_SUBMITS[case]
    fault, settings = make(emulator)
    if fault is not None:
        emulator.inject("rodin_texture_only", fault)
    client = client_for(**settings)
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    final = run_to_end(manager, ["job-1"])["job-1"][-1]

    assert final.phase is Phase.FAILED and not final.submitted
    assert message in final.message, final.message
    assert hint in final.hint, final.hint


def test_a_task_the_service_forgot_says_to_clear_and_generate_again(
    manager, client, emulator, tmp_path
):
    forgotten = JobSnapshot(
        "job-1", Phase.WAITING, task_uuid="gone", subscription_key="gone", submitted=True
    )
    manager.follow("job-1", client, tmp_path, forgotten, download=True)
    final = run_to_end(manager, ["job-1"])["job-1"][-1]

    assert final.phase is Phase.FAILED and "NO_SUCH_TASK" in final.message, final.message
    assert "press Clear Job, then Generate again" in final.hint


def test_a_long_rate_limit_wait_is_shown_on_the_job(
    manager, client_for, emulator, request_files, tmp_path, monkeypatch
):
    monkeypatch.setattr(manager_module, "RETRY_NOTICE_SECONDS", 0.5)
    emulator.inject("status", Fault.rate_limit(retry_after=1))
    settings = client_for(retry=RetryPolicy(attempts=3, base_delay=0.01)).settings
    client = RodinClient(settings, retry_notice=manager.retry_notice)
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    try:
        history = run_to_end(manager, ["job-1"])["job-1"]
    finally:
        client.close()

    messages = [snapshot.message for snapshot in history]
    assert "Rate limited by the service: retrying in 1 s" in messages
    assert messages.index("Submitted") < messages.index(
        "Rate limited by the service: retrying in 1 s"
    )
    assert history[-1].phase is Phase.DONE


@pytest.mark.parametrize(
    "submitted_ago", [None, 3600.0], ids=["no submit time", "submitted an hour ago"]
)
def test_the_deadline_counts_from_when_this_session_follows_the_task(
    manager, client, emulator, request_files, tmp_path, submitted_ago
):
    emulator.configure(waiting_seconds=0.2, generating_seconds=0.5)
    submitted_at = 0.0 if submitted_ago is None else time.time() - submitted_ago
    stored = submitted_elsewhere(client, request_files, Phase.WAITING, submitted_at)
    # The deadline is 30 s: an hour-old task is still followed to its end.
    manager.follow("job-1", client, tmp_path, stored)
    history = run_to_end(manager, ["job-1"])["job-1"]

    assert Phase.GENERATING in [snapshot.phase for snapshot in history]
    assert history[-1].phase is Phase.DONE, history[-1].message
    assert emulator.submit_count == 1


def test_following_a_task_again_starts_its_clock_again(
    manager, client, emulator, request_files, tmp_path
):
    manager.submit("job-1", client, TextureRequest(*request_files), tmp_path)
    done = run_to_end(manager, ["job-1"])["job-1"][-1]
    earlier = replace(done, finished_at=done.finished_at - 600)

    manager.follow("job-1", client, tmp_path, earlier, download=True)
    history = run_to_end(manager, ["job-1"])["job-1"]

    assert history[0].finished_at == 0.0, "no finish time while it runs again"
    assert history[-1].finished_at > earlier.finished_at + 500
