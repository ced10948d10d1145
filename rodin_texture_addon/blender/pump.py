"""The main-thread pump: the workers' snapshots written onto objects by a timer, within a small
budget a tick; finished jobs handed to ``results``; and, headless (no timers), the same run in a
loop until the jobs end."""

import math
import queue
import time

from ..jobs import Phase
from . import results, session, timers, together, translations
from .errors import UserError
from .screen import redraw_sidebars

PUMP_INTERVAL = 0.2
# Seconds of writing one tick may spend; what is left waits for the next tick, so a tick stays
# short however many jobs post at once (each job's latest snapshot keeps its place in line).
PUMP_BUDGET = 0.001
HEADLESS_POLL_INTERVAL = 0.05
# A redraw of the sidebar for a job's progress alone waits at least this long after the last
# (in software OpenGL one costs tens of milliseconds); a change of stage redraws at once.
PROGRESS_REDRAW_INTERVAL = 0.5


def ensure_pump():
    timers.run_on_main_thread(pump)


@timers.timer
def pump(budget: float = PUMP_BUDGET) -> float | None:
    """Write the workers' latest snapshots onto objects, for about ``budget`` seconds (at least
    one snapshot); the rest waits for the next tick. Cheap: no network, no disk, no import."""
    runtime = session.current()
    if runtime is None:
        return None
    deadline = time.perf_counter() + budget
    while True:
        try:
            snapshot = runtime.manager.updates.get_nowait()
        except queue.Empty:
            break
        runtime.unwritten[snapshot.job_id] = snapshot
    taken = 0
    stage_changed = False
    for job_id in list(runtime.unwritten):
        if taken and time.perf_counter() > deadline:
            break
        taken += 1
        snapshot = runtime.unwritten.pop(job_id)
        if job_id in runtime.variant_jobs:
            if snapshot.phase in (Phase.DONE, Phase.FAILED):
                group = runtime.variant_jobs.pop(job_id)
                if snapshot.phase is Phase.FAILED and not snapshot.submitted:
                    runtime.refused_variants.setdefault(group, []).append(snapshot.message)
                stage_changed = True  # the job panel shows the variants as they arrive
            continue
        obj = session.find_job_object(job_id)
        if obj is None:
            continue
        state = obj.rodin_texture
        stage_changed |= (state.status, state.message) != (snapshot.phase.value, snapshot.message)
        for member in together.members(obj):  # each mesh textured together shows the task
            member.rodin_texture.write(snapshot)
        if job_id in runtime.followed:
            runtime.followed[job_id].written = snapshot
        if snapshot.phase is Phase.DONE:
            runtime.finished.put(job_id)
            timers.run_on_main_thread(results.finish_done_jobs)
    balance_arrived = runtime.balance_fetch is not None and not runtime.balance_fetch.is_alive()
    if balance_arrived:
        runtime.balance_fetch = None
    runtime.redraw_due |= bool(taken)
    now = time.monotonic()
    if (
        stage_changed
        or balance_arrived
        or (runtime.redraw_due and now - runtime.last_redraw >= PROGRESS_REDRAW_INTERVAL)
    ):
        runtime.last_redraw, runtime.redraw_due = now, False
        redraw_sidebars()
    busy = (
        runtime.manager.running_count
        or not runtime.manager.updates.empty()
        or runtime.unwritten
        or runtime.redraw_due
        or runtime.balance_fetch is not None
    )
    return PUMP_INTERVAL if busy else None


# --- headless ---------------------------------------------------------------------------------


def wait_for(job_ids: list[str], timeout: float | None = None, log=print) -> None:
    """Run jobs to completion on this thread (background mode, where timers never fire)."""
    runtime = session.get()
    shown: dict[str, str] = {}
    updates = runtime.manager.drain(job_ids, wait=HEADLESS_POLL_INTERVAL, timeout=timeout)
    try:
        for snapshot in updates:
            if snapshot is not None:
                runtime.unwritten[snapshot.job_id] = snapshot
            pump(budget=math.inf)
            results.finish_done_jobs()
            for job_id in job_ids:
                obj = session.find_job_object(job_id)
                line = None if obj is None else describe(obj)
                if line is not None and shown.get(job_id) != line:
                    shown[job_id] = line
                    log(f"Rodin: {obj.name}: {line}")
    except TimeoutError:
        raise UserError("timed out waiting for the texture jobs") from None
    pump(budget=math.inf)
    results.finish_done_jobs()


def failures(job_ids: list[str]) -> list[str]:
    """``object: why`` for each of the jobs that did not end done (for each mesh, when several
    were textured together: the result may have failed to go onto one of them)."""
    failed = []
    for job_id in job_ids:
        obj = session.find_job_object(job_id)
        for member in [] if obj is None else together.members(obj):
            if member.rodin_texture.phase is not Phase.DONE:
                failed.append(f"{member.name}: {translations.rpt(describe(member))}")
    return failed


def refused_variants(obj) -> str:
    """What to say of the variants made with ``obj``'s task that the service refused."""
    runtime = session.current()
    group = obj.rodin_texture.variant_group
    refused = runtime.refused_variants.get(group, []) if runtime is not None and group else []
    if not refused:
        return ""
    reasons = "; ".join(dict.fromkeys(translations.rpt(text) for text in refused))  # each
    return f"{len(refused)} variant(s) could not be submitted: {reasons}"


def unrecorded(job_ids: list[str]) -> list[str]:
    """What to say of each of the jobs' paid tasks that the task history could not take."""
    said = []
    for job_id in job_ids:
        obj = session.find_job_object(job_id)
        problem = "" if obj is None else session.unrecorded(obj.rodin_texture.task_uuid)
        if problem:
            said.append(problem)
    return said


def describe(obj) -> str:
    """One line for a job's state, as the panel and the headless log show it."""
    state = obj.rodin_texture
    phase = state.phase
    if phase is Phase.UPLOADING:
        return f"uploading {state.progress:.0%}"
    if phase is Phase.DOWNLOADING:
        return f"downloading {state.progress:.0%}"
    if phase is Phase.WAITING and state.queue_length >= 0:
        return f"waiting (queue {state.queue_length})"
    if phase is Phase.FAILED:
        return f"failed: {state.message}"
    return phase.value
