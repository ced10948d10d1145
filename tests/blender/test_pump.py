"""The main-thread pump: each tick writes the workers' latest snapshots within its budget, and
what it leaves waits its turn for the next tick (nothing lost, nothing written out of date)."""

import math

import bpy
import pytest

from . import scenes

pytestmark = pytest.mark.blender


@pytest.fixture
def pump(addon_module):
    """The add-on's pump module; the session it starts is shut down afterwards."""
    yield addon_module("blender.pump")
    addon_module("blender.session").shutdown()


@pytest.fixture
def jobs(addon_module):
    return addon_module("jobs")


def objects_with_jobs(count):
    objects = []
    for index in range(count):
        obj = scenes.link(bpy.data.objects.new(f"Job {index}", None))
        obj.rodin_texture.job_id = f"job-{index}"
        objects.append(obj)
    return objects


def post(pump, jobs, job_id, message, phase="WAITING"):
    pump.session.get().manager.updates.put(
        jobs.JobSnapshot(job_id, jobs.Phase[phase], message=message)
    )


def test_a_tick_over_its_budget_leaves_the_rest_for_the_next_ticks(pump, jobs):
    objects = objects_with_jobs(3)
    for index in range(3):
        post(pump, jobs, f"job-{index}", f"first {index}")
    post(pump, jobs, "job-0", "second 0")

    assert pump.pump(budget=0.0) == pump.PUMP_INTERVAL  # more to write: call again
    assert [obj.rodin_texture.message for obj in objects] == ["second 0", "", ""]

    post(pump, jobs, "job-2", "second 2")  # replaces the unwritten one, keeps its place
    post(pump, jobs, "job-0", "third 0")  # after the others, who waited longer
    pump.pump(budget=0.0)
    assert [obj.rodin_texture.message for obj in objects] == ["second 0", "first 1", ""]
    pump.pump(budget=0.0)
    assert [obj.rodin_texture.message for obj in objects] == ["second 0", "first 1", "second 2"]
    assert pump.pump(budget=0.0) is None  # the last one written, no job running: stop
    assert [obj.rodin_texture.message for obj in objects] == ["third 0", "first 1", "second 2"]
    assert all(obj.rodin_texture.status == "waiting" for obj in objects)


def test_an_unlimited_tick_writes_everything(pump, jobs):
    objects = objects_with_jobs(20)
    for index, obj in enumerate(objects):
        post(pump, jobs, obj.rodin_texture.job_id, f"message {index}", phase="GENERATING")

    assert pump.pump(budget=math.inf) is None

    assert [obj.rodin_texture.message for obj in objects] == [f"message {i}" for i in range(20)]
    assert {obj.rodin_texture.status for obj in objects} == {"generating"}


def test_jobs_finishing_in_one_tick_leave_one_timer_that_shutdown_removes(pump, jobs, monkeypatch):
    """Blender keeps duplicate timers; one left registered would hang Blender at exit."""
    objects_with_jobs(2)
    post(pump, jobs, "job-0", "Done", phase="DONE")
    post(pump, jobs, "job-1", "Done", phase="DONE")
    monkeypatch.setattr(pump.timers, "TIMERS_FIRE", True)  # as in Blender's interface
    try:
        pump.pump(budget=math.inf)
        assert bpy.app.timers.is_registered(pump.results.finish_done_jobs)

        pump.session.shutdown()

        assert not bpy.app.timers.is_registered(pump.results.finish_done_jobs)
    finally:
        while bpy.app.timers.is_registered(pump.results.finish_done_jobs):
            bpy.app.timers.unregister(pump.results.finish_done_jobs)
