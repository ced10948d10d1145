"""The task history: every task kept the moment it is paid for, shown for 7 days, applied again
onto any object at no cost, and recovered when the file never kept it."""

import time
from pathlib import Path

import bpy
import pytest

from . import scenes
from . import test_addon_flow as flow
from .test_addon_flow import add_suzanne, module, submitted_job
from .test_panel import draw

pytestmark = pytest.mark.blender
rodin, reference = flow.rodin, flow.reference  # fixtures
DAY = 24 * 3600.0


def history_tasks(rodin):
    return rodin.session.ledger().tasks()


def downloads(emulator) -> int:
    return sum(request.path.endswith("/download") for request in emulator.requests)


def test_a_generated_task_is_in_the_history_with_where_it_went(rodin, emulator, reference):
    source = add_suzanne()
    assert bpy.ops.rodin_texture.generate(prompt="old bronze", seed=7) == {"FINISHED"}

    (task,) = history_tasks(rodin)

    assert task.task_uuid == source.rodin_texture.task_uuid
    assert (task.object_name, task.file_path, task.applied_to) == ("Suzanne", "", "Suzanne")
    assert task.settings["prompt"] == "old bronze" and task.seed == 7
    assert Path(task.model_path).is_file() and task.cost == 0.5
    assert "test-key" not in rodin.session.ledger().path.read_text()


def test_apply_to_active_object_from_the_history_costs_nothing(rodin, emulator, reference):
    first = add_suzanne("First")
    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
    (task,) = history_tasks(rodin)
    other = add_suzanne("Other", location=(4.0, 0.0, 0.0))
    before = len(emulator.requests)

    assert bpy.ops.rodin_texture.history_apply(task_uuid=task.task_uuid) == {"FINISHED"}

    assert other.rodin_texture.task_uuid == task.task_uuid
    assert other.rodin_texture.result_object.name == "Other_rodin"
    flow.assert_aligned(other.rodin_texture.result_object, other)
    assert len(emulator.requests) == before, "the result file on disk was used"
    assert first.rodin_texture.result_object.name == "First_rodin", "the first keeps its own"

    Path(task.model_path).unlink()  # gone from disk: fetched again, never submitted
    third = add_suzanne("Third", location=(-4.0, 0.0, 0.0))
    assert bpy.ops.rodin_texture.history_apply(task_uuid=task.task_uuid) == {"FINISHED"}
    assert third.rodin_texture.result_object.name == "Third_rodin"
    assert downloads(emulator) == 2 and emulator.submit_count == 1
    assert history_tasks(rodin)[0].applied_to == "Third"


def test_follow_from_the_history_picks_up_an_unfinished_task(rodin, emulator, reference):
    source = submitted_job(rodin, emulator, generating_seconds=1)
    rodin.following.clear_job(source)  # as if the file had forgotten it
    (task,) = history_tasks(rodin)
    assert task.state == "submitted"

    assert bpy.ops.rodin_texture.history_follow(task_uuid=task.task_uuid) == {"FINISHED"}

    assert source.rodin_texture.status == "done"
    assert source.rodin_texture.result_object is not None
    assert emulator.submit_count == 1


def test_the_history_shows_seven_days_of_this_file_or_of_all_files(rodin, addon, tmp_path):
    panel = module(addon, "blender.panel")
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "here.blend"))
    here = bpy.data.filepath
    ledger, now = rodin.session.ledger(), time.time()
    for task, days, file_path in (("today", 0.1, here), ("other", 1, "/elsewhere/there.blend"),
                                  ("old", 7.5, here)):  # fmt: skip
        ledger.record("submitted", task, submitted_at=now - days * DAY, file_path=file_path,
                      object_name=f"Object-{task}")  # fmt: skip

    shown = draw(panel.RODIN_TEXTURE_PT_history).texts()
    assert "Object-today" in shown and "Object-other" not in shown and "Object-old" not in shown
    assert "From here.blend, 0.5 credits" in shown

    bpy.context.scene.rodin_texture_settings.history_all_files = True
    shown = draw(panel.RODIN_TEXTURE_PT_history).texts()
    assert "Object-today" in shown and "Object-other" in shown and "Object-old" not in shown
    assert "From there.blend, 0.5 credits" in shown


def test_recovery_offers_only_results_no_object_holds(rodin, addon, emulator, reference):
    panel = module(addon, "blender.panel")
    held = add_suzanne("Held")
    template = flow.module_request(rodin, bpy.context.scene.rodin_texture_settings)
    (job_id,) = rodin.following.start_generation(bpy.context, [held], template, [1])
    rodin.session.get().followed[job_id].apply = False  # Import Automatically off, in a window
    rodin.pump.wait_for([job_id])
    assert held.rodin_texture.status == "done" and held.rodin_texture.result_object is None
    assert rodin.session.ledger().tasks()[0].state == "downloaded"
    assert module(addon, "blender.history").to_recover() == [], "its object holds it"

    held.rodin_texture.forget()  # the file lost it (closed without saving, say)
    scenes.select_only(held, active=held)
    assert "1 paid result(s) never applied" in draw(panel.RODIN_TEXTURE_PT_main).texts()

    assert bpy.ops.rodin_texture.recover() == {"FINISHED"}

    assert held.rodin_texture.result_object.name == "Held_rodin"
    assert module(addon, "blender.history").to_recover() == []
    assert "rodin_texture.recover" not in draw(panel.RODIN_TEXTURE_PT_main).operators()


def test_a_task_not_in_the_history_is_refused_by_name(rodin, emulator):
    add_suzanne()
    with pytest.raises(RuntimeError, match="No task nope in the history"):
        bpy.ops.rodin_texture.history_apply(task_uuid="nope")
    assert emulator.requests == []
