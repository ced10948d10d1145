"""The shared scheduler: the request budget against the emulator's account limit, task slots
and the back-off on the parallelism limit, early stop on lasting refusals, ranked polling."""

import random
import time

import pytest
from conftest import FAST_RETRIES, TEST_KEY
from rodin_emulator import Fault, most_in_window
from test_manager import FAST, run_to_end

from rodin_texture_addon.jobs import JobManager, Phase, RequestBudget
from rodin_texture_addon.jobs.scheduler import PollPlanner, TaskSlots
from rodin_texture_addon.rodin import ClientSettings, RodinClient, TextureRequest

UNLIMITED = RequestBudget(per_minute=60_000, burst=100)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.01)


def test_the_budget_never_allows_more_than_its_limit_in_any_window():
    clock = FakeClock()
    budget = RequestBudget(per_minute=120, burst=10, clock=clock)
    granted, generator = [], random.Random(7)
    while clock.now < 600:
        if budget.try_acquire() == 0.0:
            granted.append(clock.now)
        clock.now += generator.choice((0.0, 0.01, 0.1, 0.5))
    assert most_in_window(granted, 61.0) <= 120, "a token bucket alone would allow 130"
    assert len(granted) >= 120 * 9, "and still about the full rate over ten minutes"


def test_status_checks_go_first_to_the_task_most_likely_finished():
    planner = PollPlanner(FAST)
    assert planner.likelihood(10.0, 20.0) == 0.0, "nothing learned: plain round robin"
    for age in (30.0, 32.0, 34.0, 36.0):
        planner.finished(age)
    young, due, overdue = (
        planner.likelihood(5.0, 10.0),
        planner.likelihood(29.0, 33.0),
        planner.likelihood(30.0, 40.0),
    )
    assert young == 0.0 and 0.0 < due < overdue == 1.0
    assert planner.next_interval(10.0, 0.1) == FAST.next_interval(0.1), "young: backs off"
    assert planner.next_interval(31.0, FAST.max_interval) == FAST.first_delay, "likely: often"


def test_a_learned_task_cap_is_forgotten_after_a_while():
    slots = TaskSlots(cap=5, memory=60.0)
    assert slots.free(4, now=0.0) and not slots.free(5, now=0.0)
    slots.refused(2, now=10.0)
    assert not slots.free(2, now=20.0) and slots.free(1, now=20.0)
    assert slots.free(4, now=71.0), "back to the configured cap"


def test_many_jobs_stay_within_the_accounts_request_limit(emulator, request_files, tmp_path):
    limit, window = 8, 1.0
    emulator.configure(requests_per_window=limit, rate_window=window, generating_seconds=2.0)
    # The add-on's margin is 1 s a minute; a test's second-long window needs more than 1/60 of
    # it for a busy machine's delay between a request leaving and the emulator seeing it.
    budget = RequestBudget(limit, burst=3, window=window, margin=window / 10)
    manager = JobManager(schedule=FAST, budget=budget)
    settings = ClientSettings(TEST_KEY, base_url=emulator.base_url, retry=FAST_RETRIES)
    client = RodinClient(settings, request_gate=manager.request_gate)
    try:
        assert run_jobs(manager, client, request_files, tmp_path, 8) == [Phase.DONE] * 8
    finally:
        client.close()
    api = [request for request in emulator.requests if request.server == "api"]
    assert len(api) > 3 * limit, "polling every 0.05 s would have gone far over the limit"
    assert emulator.most_requests_in(window) <= limit
    assert emulator.rate_limited_count == 0


def overlapping(emulator) -> int:
    """The most tasks the emulator ran at once (by their fixed timelines)."""
    tasks = list(emulator.tasks.values())

    def end(task):
        return task.submit_time + task.waiting_seconds + task.generating_seconds

    return max(sum(o.submit_time <= t.submit_time < end(o) for o in tasks) for t in tasks)


def run_jobs(manager, client, request_files, folder, count: int) -> list[Phase]:
    """Submit ``count`` jobs, run them to the end, shut down; their final phases."""
    try:
        job_ids = [f"job-{index}" for index in range(count)]
        for job_id in job_ids:
            manager.submit(job_id, client, TextureRequest(*request_files), folder)
        history = run_to_end(manager, job_ids, timeout=60)
    finally:
        manager.shutdown()
    return [history[job_id][-1].phase for job_id in job_ids]


def test_no_more_tasks_in_flight_than_the_cap(client, emulator, request_files, tmp_path):
    manager = JobManager(schedule=FAST, budget=UNLIMITED, max_in_flight=2)
    assert run_jobs(manager, client, request_files, tmp_path, 5) == [Phase.DONE] * 5
    assert emulator.submit_count == 5
    assert overlapping(emulator) == 2


def test_the_parallelism_limit_is_learned_not_hammered(client, emulator, request_files, tmp_path):
    emulator.configure(max_parallel_tasks=2)
    manager = JobManager(schedule=FAST, budget=UNLIMITED, workers=1)
    assert run_jobs(manager, client, request_files, tmp_path, 6) == [Phase.DONE] * 6
    submits = [r for r in emulator.requests if r.path.endswith("/rodin_texture_only")]
    refused = len(submits) - emulator.submit_count
    assert emulator.submit_count == 6
    assert refused == 1, "after the first refusal, a submit waits for one of ours to finish"


def plan_too_low(code: str, status: int):
    """The next submit only is refused: any submit after it would be taken."""
    fault = Fault.app_error(code, "Your plan does not include this API", status)
    return lambda emulator: emulator.inject("rodin_texture_only", fault)


@pytest.mark.parametrize(
    ("refuse", "code"),
    [
        (lambda emulator: emulator.configure(balance=0.0), "INSUFFICIENT_FUND"),
        (lambda emulator: emulator.configure(api_key="another-key"), "UNAUTHORIZED"),
        (plan_too_low("SUBSCRIPTION_PLAN_TOO_LOW", 403), "SUBSCRIPTION_PLAN_TOO_LOW"),
        (plan_too_low("API_SUBSCRIPTION_PLAN_TOO_LOW", 201), "API_SUBSCRIPTION_PLAN_TOO_LOW"),
    ],
)
def test_a_lasting_refusal_stops_submits_but_not_the_tasks_already_paid_for(
    refuse, code, client, emulator, request_files, tmp_path
):
    manager = JobManager(schedule=FAST, budget=UNLIMITED, workers=1, max_in_flight=2)
    try:
        job_ids = [f"job-{index}" for index in range(6)]
        for job_id in job_ids[:2]:
            manager.submit(job_id, client, TextureRequest(*request_files), tmp_path)
        wait_until(lambda: emulator.submit_count == 2)
        refuse(emulator)
        for job_id in job_ids[2:]:
            manager.submit(job_id, client, TextureRequest(*request_files), tmp_path)
        history = run_to_end(manager, job_ids, timeout=30)
    finally:
        manager.shutdown()
    finals = [history[job_id][-1] for job_id in job_ids]
    submits = [r for r in emulator.requests if r.path.endswith("/rodin_texture_only")]
    if code != "UNAUTHORIZED":  # a bad key cannot ask for results either
        assert [final.phase for final in finals[:2]] == [Phase.DONE, Phase.DONE]
    assert len(submits) == 3, "one refusal, then no more submits"
    assert code in str(manager.lasting_refusal)
    assert all(final.phase is Phase.FAILED for final in finals[2:])
    assert all(final.message.startswith("Not submitted") for final in finals[3:])
