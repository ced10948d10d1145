"""The task history: every task kept the moment it is paid for, shown for 7 days, applied again
onto any object at no cost, and recovered when the file never kept it."""

import importlib
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


@pytest.fixture
def history_shown():
    yield bpy.context.scene.rodin_texture_settings
    settings = bpy.context.scene.rodin_texture_settings
    settings.show_history = settings.history_all_files = False


def test_the_history_shows_seven_days_of_this_file_or_of_all_files(
    rodin, addon, tmp_path, history_shown
):
    panel = module(addon, "blender.panel")
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "here.blend"))
    here = bpy.data.filepath
    ledger, now = rodin.session.ledger(), time.time()
    for task, days, file_path in (("today", 0.1, here), ("other", 1, "/elsewhere/there.blend"),
                                  ("old", 7.5, here)):  # fmt: skip
        ledger.record("submitted", task, submitted_at=now - days * DAY, file_path=file_path,
                      object_name=f"Object-{task}")  # fmt: skip

    settings = history_shown
    assert "Object-today" not in draw(panel.RODIN_TEXTURE_PT_main).texts(), "closed at first"
    settings.show_history = True
    shown = draw(panel.RODIN_TEXTURE_PT_main).texts()
    assert "Object-today" in shown and "Object-other" not in shown and "Object-old" not in shown
    assert "From here.blend, 0.5 credits" in shown

    settings.history_all_files = True
    shown = draw(panel.RODIN_TEXTURE_PT_main).texts()
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


def submitted_elsewhere(addon, emulator, request_files):
    """A task submitted outside this Blender (the web app, a colleague): only its ids are known."""
    rodin_module = module(addon, "rodin")
    client = rodin_module.RodinClient(
        rodin_module.ClientSettings(api_key="test-key", base_url=emulator.base_url)
    )
    try:
        return client.submit(rodin_module.TextureRequest(*request_files))
    finally:
        client.close()


def test_a_task_attached_by_its_id_is_checked_then_followed_onto_the_object(
    rodin, addon, emulator, request_files
):
    emulator.configure(generating_seconds=0.5)
    task = submitted_elsewhere(addon, emulator, request_files)
    obj = add_suzanne("Target")

    outcome = bpy.ops.rodin_texture.attach_task(
        task_uuid=task.task_uuid, subscription_key=f"  {task.subscription_key} "
    )

    assert outcome == {"FINISHED"}
    state = obj.rodin_texture
    assert (state.task_uuid, state.status) == (task.task_uuid, "done")
    assert state.result_object.name == "Target_rodin"
    (remembered,) = history_tasks(rodin)
    assert (remembered.task_uuid, remembered.source, remembered.applied_to) == (
        task.task_uuid,
        "attached",
        "Target",
    )
    assert emulator.submit_count == 1, "only the submit made elsewhere"


def test_a_finished_task_attaches_by_its_id_alone(rodin, addon, emulator, request_files):
    emulator.configure(generating_seconds=0)
    task = submitted_elsewhere(addon, emulator, request_files)
    obj = add_suzanne("Target")
    deadline = time.monotonic() + 10
    while emulator.tasks[task.task_uuid].phase(time.time()) != "Done":
        assert time.monotonic() < deadline
        time.sleep(0.05)

    assert bpy.ops.rodin_texture.attach_task(task_uuid=task.task_uuid) == {"FINISHED"}
    assert obj.rodin_texture.result_object.name == "Target_rodin"


@pytest.mark.parametrize(
    ("task_uuid", "key", "words"),
    [
        ("not a task", "", "'not a task' is not a task id"),
        ("00000000-0000-4000-8000-000000000000", "", "The service"),
        ("00000000-0000-4000-8000-000000000000", "eyJ-not-a-known-key", "The service"),
    ],
    ids=["malformed", "unknown task", "unknown key"],
)
def test_a_task_the_service_does_not_know_is_refused_and_nothing_is_stored(
    rodin, emulator, task_uuid, key, words
):
    obj = add_suzanne("Target")
    before = flow.object_state(obj)

    with pytest.raises(RuntimeError, match=words):
        bpy.ops.rodin_texture.attach_task(task_uuid=task_uuid, subscription_key=key)

    assert flow.object_state(obj) == before
    assert history_tasks(rodin) == []
    assert emulator.submit_count == 0


@pytest.fixture
def three_variants():
    bpy.context.scene.rodin_texture_settings.variants = 3
    yield
    # Looked up again: a test that restarts the add-on frees the settings it had.
    bpy.context.scene.rodin_texture_settings.variants = 1


def test_variants_give_three_seeds_to_choose_from_and_switching_costs_nothing(
    rodin, addon, emulator, reference, three_variants
):
    panel = module(addon, "blender.panel")
    source = add_suzanne()
    scenes.select_only(source, active=source)
    assert "Generate Texture (1.5 credits)" in draw(panel.RODIN_TEXTURE_PT_main).texts()

    assert bpy.ops.rodin_texture.generate(seed=100) == {"FINISHED"}

    assert emulator.submit_count == 3
    variants = module(addon, "blender.history").variants(source.rodin_texture.variant_group)
    assert [task.seed for task in variants] == [100, 100 + 7919, 100 + 2 * 7919]
    assert all(Path(task.model_path).is_file() for task in variants)
    assert source.rodin_texture.task_uuid == variants[0].task_uuid
    assert source.rodin_texture.result_object.name == "Suzanne_rodin"
    shown = draw(panel.RODIN_TEXTURE_PT_job)
    assert [t for t in shown.texts() if t.startswith("Seed ")] == [
        "Seed 100", "Seed 8019", "Seed 15938"
    ]  # fmt: skip
    assert shown.texts().count("Use") == 2 and "In use" in shown.texts()
    requests = len(emulator.requests)

    for chosen in (variants[2], variants[1]):
        assert bpy.ops.rodin_texture.history_apply(task_uuid=chosen.task_uuid) == {"FINISHED"}
        assert source.rodin_texture.task_uuid == chosen.task_uuid
        assert source.rodin_texture.variant_group == variants[0].group
        result = source.rodin_texture.result_object
        assert result.name == "Suzanne_rodin" and result.rodin_texture.source_object == source
        assert [o.name for o in bpy.data.objects if o.name.startswith("Suzanne_rodin")] == [
            "Suzanne_rodin"
        ], "the variant chosen before makes way"

    assert len(emulator.requests) == requests, "choosing a variant asks the service nothing"
    assert emulator.submit_count == 3


@pytest.mark.parametrize("variants", [0, 5])
def test_a_number_of_variants_out_of_range_is_refused(rodin, emulator, reference, variants):
    add_suzanne()
    with pytest.raises(
        RuntimeError, match=f"variants: must be a whole number from 1 to 4, not {variants}"
    ):
        bpy.ops.rodin_texture.generate(variants=variants)
    assert emulator.requests == []


def test_variants_unfinished_when_the_add_on_stopped_are_followed_again_by_resume(
    rodin, addon, emulator, reference, three_variants
):
    import addon_utils

    emulator.configure(generating_seconds=3)
    source = add_suzanne()
    template = flow.module_request(rodin, bpy.context.scene.rodin_texture_settings)
    job_ids = rodin.following.start_generation(bpy.context, [source], template, [5], variants=3)
    deadline = time.monotonic() + 30
    while len(history_tasks(rodin)) < 3 or not source.rodin_texture.task_uuid:  # none done
        assert time.monotonic() < deadline, "the three tasks were not accepted"
        rodin.pump.pump()
        time.sleep(0.02)
    assert len(job_ids) == 3
    addon_utils.disable(addon.__name__)  # Blender closed, say
    addon_utils.enable(addon.__name__, default_set=True)
    rodin.session.get().manager.schedule = module(addon, "jobs").PollSchedule(
        first_delay=0.05, max_interval=0.2
    )
    assert {task.state for task in history_tasks(rodin)} == {"submitted"}

    assert bpy.ops.rodin_texture.resume() == {"FINISHED"}

    assert {task.state for task in history_tasks(rodin)} <= {"downloaded", "applied"}
    assert all(Path(task.model_path).is_file() for task in history_tasks(rodin))
    assert source.rodin_texture.status == "done"
    assert emulator.submit_count == 3, "resuming never submits"


BAD_LEDGER_LINES = [
    b'{"event": "submitted", "task_uuid": "t1", "submitted_at": "yesterday"}',
    b'{"event": "submitted", "task_uuid": "t2", "submitted_at": Infinity}',
    b'{"event": "submitted", "task_uuid": "t3", "group": ["a", "b"]}',
    b'{"event": "submitted", "task_uuid": "t4", "file_path": 42}',
    b'{"event": "submitted", "task_uuid": "t5", "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
]


def test_lines_written_by_hand_into_the_ledger_are_skipped_and_said_and_recovery_works(
    rodin, addon, emulator, reference, history_shown
):
    panel = module(addon, "blender.panel")
    held = add_suzanne("Held")
    template = flow.module_request(rodin, bpy.context.scene.rodin_texture_settings)
    (job_id,) = rodin.following.start_generation(bpy.context, [held], template, [1])
    rodin.session.get().followed[job_id].apply = False
    rodin.pump.wait_for([job_id])
    held.rodin_texture.forget()  # the file lost it
    path = rodin.session.ledger().path
    with path.open("ab") as ledger_file:  # by hand, at the path the README gives
        ledger_file.write(b"\n".join(BAD_LEDGER_LINES) + b"\n")
    history_shown.show_history = history_shown.history_all_files = True
    scenes.select_only(held, active=held)

    shown = draw(panel.RODIN_TEXTURE_PT_main).texts()

    assert "1 paid result(s) never applied" in shown
    assert f"5 unreadable entries in {path} were skipped" in " ".join(shown)
    assert "Held" in shown
    assert bpy.ops.rodin_texture.recover() == {"FINISHED"}
    assert held.rodin_texture.result_object.name == "Held_rodin"
    assert emulator.submit_count == 1


def test_a_ledger_path_that_is_a_folder_is_said_in_the_history(rodin, addon, history_shown):
    panel = module(addon, "blender.panel")
    path = rodin.session.ledger().path
    path.unlink(missing_ok=True)
    path.mkdir()
    try:
        history_shown.show_history = True
        shown = " ".join(draw(panel.RODIN_TEXTURE_PT_main).texts())
        assert "The task history cannot be read" in shown and str(path) in shown
        assert "Move it away or make it readable" in shown
        assert module(addon, "blender.history").to_recover() == []
    finally:
        path.rmdir()


def test_a_paid_task_the_history_cannot_take_is_said_at_once_with_its_id(
    rodin, addon, emulator, reference, capfd
):
    panel = module(addon, "blender.panel")
    path = rodin.session.ledger().path
    path.unlink(missing_ok=True)
    path.mkdir()  # the ledger cannot be written (as a folder without write permission)
    try:
        source = add_suzanne()
        assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
        task_uuid = source.rodin_texture.task_uuid
        reported = capfd.readouterr().out
        shown = " ".join(draw(panel.RODIN_TEXTURE_PT_job).texts())
    finally:
        path.rmdir()

    said = f"Task {task_uuid} is not in the task history ({path}: Is a directory)"
    assert said in reported, reported
    assert said in shown and "copy its id and keep it" in shown
    assert "rodin_texture.copy_task_id" in draw(panel.RODIN_TEXTURE_PT_job).operators()
    assert source.rodin_texture.status == "done", "the task itself goes on"


def test_a_result_path_the_ledger_names_outside_the_results_folders_is_not_read(
    rodin, emulator, reference, tmp_path
):
    add_suzanne("First")
    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
    (task,) = history_tasks(rodin)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    planted = elsewhere / "model.glb"
    planted.write_bytes(Path(task.model_path).read_bytes())
    rodin.session.ledger().record("downloaded", task.task_uuid, model_path=str(planted))
    other = add_suzanne("Other", location=(4.0, 0.0, 0.0))
    with pytest.raises(RuntimeError, match="This task's result is not on this computer"):
        bpy.ops.rodin_texture.history_open_folder(task_uuid=task.task_uuid)

    assert bpy.ops.rodin_texture.history_apply(task_uuid=task.task_uuid) == {"FINISHED"}

    assert other.rodin_texture.result_object.name == "Other_rodin"
    assert Path(other.rodin_texture.result_folder) != elsewhere
    assert not Path(other.rodin_texture.model_path).is_relative_to(elsewhere)
    assert downloads(emulator) == 2, "fetched again through fresh links instead"
    assert emulator.submit_count == 1


def test_a_damaged_result_file_applied_from_the_history_is_fetched_again(
    rodin, emulator, reference
):
    add_suzanne("First")
    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
    (task,) = history_tasks(rodin)
    Path(task.model_path).write_bytes(b"glTF" + bytes(range(256)) * 4)  # damaged on disk
    other = add_suzanne("Other", location=(4.0, 0.0, 0.0))

    assert bpy.ops.rodin_texture.history_apply(task_uuid=task.task_uuid) == {"FINISHED"}

    assert other.rodin_texture.status == "done", other.rodin_texture.message
    assert other.rodin_texture.result_object.name == "Other_rodin"
    assert downloads(emulator) == 2 and emulator.submit_count == 1


def test_variants_the_service_refuses_are_said_with_their_count_and_reason(
    rodin, addon, emulator, reference, capfd
):
    panel = module(addon, "blender.panel")
    emulator.balance = 1.0  # two tasks
    source = add_suzanne()

    try:
        outcome = str(bpy.ops.rodin_texture.generate(variants=4))
    except RuntimeError as error:  # the object's own variant was among those refused
        outcome = str(error)

    assert emulator.submit_count == 2, "the service took two; the others were refused"
    made_first = source.rodin_texture.status == "done"
    assert made_first or "Suzanne: failed: INSUFFICIENT_FUND" in outcome
    # Which two the service takes depends on which submit arrives first.
    said = f"{2 if made_first else 1} variant(s) could not be submitted: INSUFFICIENT_FUND"
    assert said in capfd.readouterr().out + outcome
    scenes.select_only(source, active=source)
    assert said in " ".join(draw(panel.RODIN_TEXTURE_PT_job).texts())


def test_an_id_attached_with_another_tasks_key_is_refused_and_nothing_is_stored(
    rodin, addon, emulator, request_files
):
    emulator.configure(generating_seconds=0)
    finished = submitted_elsewhere(addon, emulator, request_files)
    emulator.configure(generating_seconds=60)
    running = submitted_elsewhere(addon, emulator, request_files)
    deadline = time.monotonic() + 10
    while emulator.tasks[finished.task_uuid].phase(time.time()) != "Done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    obj = add_suzanne("Target")
    before = flow.object_state(obj)

    with pytest.raises(RuntimeError, match="That subscription key is not task"):
        bpy.ops.rodin_texture.attach_task(
            task_uuid=finished.task_uuid, subscription_key=running.subscription_key
        )

    assert flow.object_state(obj) == before
    assert history_tasks(rodin) == []
    emulator.finish_generating()
    rodin.session.ledger().record(  # both finished: only the history can tell them apart
        "submitted", running.task_uuid, subscription_key=running.subscription_key
    )
    with pytest.raises(RuntimeError, match="That subscription key is not task"):
        bpy.ops.rodin_texture.attach_task(
            task_uuid=finished.task_uuid, subscription_key=running.subscription_key
        )
    assert flow.object_state(obj) == before
    assert emulator.submit_count == 2


@pytest.mark.parametrize("kind", ["empty", "camera", "missing"])
def test_history_apply_onto_an_object_that_is_not_a_mesh_is_refused_changing_nothing(
    rodin, emulator, reference, kind
):
    add_suzanne()
    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
    (task,) = history_tasks(rodin)
    if kind == "empty":
        target = bpy.data.objects.new("Target", None)
    elif kind == "camera":
        target = bpy.data.objects.new("Target", bpy.data.cameras.new("Lens"))
    if kind != "missing":
        bpy.context.collection.objects.link(target)
    names = sorted(obj.name for obj in bpy.data.objects)
    said = "No object is named Target" if kind == "missing" else f"Target is an? {kind}, not a"

    with pytest.raises(RuntimeError, match=said):
        bpy.ops.rodin_texture.history_apply(task_uuid=task.task_uuid, object_name="Target")

    assert sorted(obj.name for obj in bpy.data.objects) == names, "nothing imported"
    if kind != "missing":
        assert (target.rodin_texture.task_uuid, target.rodin_texture.status) == ("", "idle")


def test_applying_an_applied_task_again_replaces_its_result_and_ends_done(
    rodin, emulator, reference, tmp_path
):
    source = add_suzanne("A")
    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
    (task,) = history_tasks(rodin)
    assert task.state == "applied"

    for _ in range(2):
        assert bpy.ops.rodin_texture.history_apply(task_uuid=task.task_uuid) == {"FINISHED"}
        assert source.rodin_texture.status == "done"
        assert [obj.name for obj in bpy.data.objects if obj.name.startswith("A_rodin")] == [
            "A_rodin"
        ]

    path = tmp_path / "again.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    rodin.session.shutdown()
    objects = flow.reopen(path)
    assert bpy.ops.rodin_texture.resume() in ({"FINISHED"}, {"CANCELLED"})
    assert [obj.name for obj in objects if obj.name.startswith("A_rodin")] == ["A_rodin"]
    assert downloads(emulator) == 1 and emulator.submit_count == 1


def paid_and_lost(rodin, objects, template=None) -> list[str]:
    """Tasks submitted and downloaded for ``objects``, never applied, then forgotten by the
    objects (as in a file closed without saving); their task ids, in order."""
    template = template or flow.module_request(rodin, bpy.context.scene.rodin_texture_settings)
    job_ids = rodin.following.start_generation(bpy.context, objects, template, [1] * len(objects))
    for job_id in job_ids:
        rodin.session.get().followed[job_id].apply = False
    rodin.pump.wait_for(job_ids)
    task_uuids = [obj.rodin_texture.task_uuid for obj in objects]
    for obj in objects:
        obj.rodin_texture.forget()
    return task_uuids


def test_recover_after_save_as_gives_each_task_to_its_own_object(
    rodin, emulator, reference, tmp_path
):
    template = flow.module_request(rodin, bpy.context.scene.rodin_texture_settings)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "a.blend"))
    first, second = add_suzanne("A"), add_suzanne("B", location=(4.0, 0.0, 0.0))
    first_task, second_task = paid_and_lost(rodin, [first, second], template)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "b.blend"))
    scenes.select_only(first, active=first)

    assert bpy.ops.rodin_texture.recover() == {"FINISHED"}

    assert first.rodin_texture.task_uuid == first_task
    assert second.rodin_texture.task_uuid == second_task
    assert first.rodin_texture.result_object.name == "A_rodin"
    assert second.rodin_texture.result_object.name == "B_rodin"
    assert emulator.submit_count == 2


def test_recover_in_an_unrelated_new_file_gives_no_task_to_a_mesh_of_the_same_name(
    rodin, emulator, reference, tmp_path
):
    source = add_suzanne("A")
    (task_uuid,) = paid_and_lost(rodin, [source])
    bpy.ops.wm.read_homefile(use_empty=True)  # another, unsaved file
    namesake, other = add_suzanne("A"), add_suzanne("Other", location=(4.0, 0.0, 0.0))
    scenes.select_only(other, active=other)

    assert bpy.ops.rodin_texture.recover() == {"FINISHED"}

    assert namesake.rodin_texture.task_uuid == "", "a namesake in another file is not its own"
    assert other.rodin_texture.task_uuid == task_uuid, "the active mesh was asked for"


def test_recover_with_no_mesh_to_take_it_says_so_and_changes_nothing(rodin, emulator, reference):
    source = add_suzanne("A")
    paid_and_lost(rodin, [source])
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.object.camera_add()

    with pytest.raises(RuntimeError, match="belong to no object of this file: select the mesh"):
        bpy.ops.rodin_texture.recover()
    assert len(module_history(rodin).to_recover()) == 1


def module_history(rodin):
    return importlib.import_module(rodin.session.__name__.replace("session", "history"))


def test_using_another_variant_baked_onto_the_original_rebakes_into_the_same_material(
    rodin, addon, emulator, reference, three_variants
):
    source = add_suzanne()
    settings = bpy.context.scene.rodin_texture_settings
    settings.apply_mode = "ORIGINAL"
    try:
        assert bpy.ops.rodin_texture.generate(seed=100) == {"FINISHED"}
        variants = module(addon, "blender.history").variants(source.rodin_texture.variant_group)
        baked = source.rodin_texture.baked_material
        slots = [slot.material for slot in source.material_slots]
        images = sorted(image.name for image in bpy.data.images if image.users)
        objects = sorted(obj.name for obj in bpy.data.objects)
        assert baked is not None and baked.name == "Suzanne_rodin"

        for chosen, panel_mode in ((variants[2], "ORIGINAL"), (variants[1], "NEW_OBJECT")):
            settings.apply_mode = panel_mode  # Use applies as the variant shown was applied
            assert bpy.ops.rodin_texture.history_apply(task_uuid=chosen.task_uuid) == {"FINISHED"}
            assert source.rodin_texture.task_uuid == chosen.task_uuid
            assert [slot.material for slot in source.material_slots] == slots
            assert source.rodin_texture.baked_material == baked
            assert sorted(image.name for image in bpy.data.images if image.users) == images
            assert sorted(obj.name for obj in bpy.data.objects) == objects, "no new object"
            files = {Path(node.image.filepath).parent for node in baked.node_tree.nodes
                     if node.type == "TEX_IMAGE"}  # fmt: skip
            assert files == {Path(chosen.model_path).parent}, "the chosen variant's maps"
    finally:
        settings.apply_mode = "NEW_OBJECT"
    assert emulator.submit_count == 3
