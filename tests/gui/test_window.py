"""The add-on as a person meets it in Blender's window: the sidebar, a job followed by timers,
the result arriving, and what the panel says at each stage."""

import pytest
from PIL import Image

pytestmark = pytest.mark.gui


def test_generate_from_the_sidebar_follows_every_stage_to_a_new_object(window, emulator):
    report = window("new_object")
    facts = report.facts

    assert emulator.submit_count == 1
    assert facts["final"] == "done"
    stages = facts["stages"]
    assert {"waiting", "generating", "done"} <= set(stages)
    for status, seen in stages.items():
        texts = [text.lower() for text in seen["texts"]]
        assert len(texts) == len(set(texts)), f"{status}: a line repeats: {seen['texts']}"
        assert not seen["too_wide"], f"{status}: cut off by the sidebar: {seen['too_wide']}"
        if status in ("uploading", "waiting", "generating", "downloading"):
            assert "rodin_texture.resume" not in seen["main_operators"], status
    (task_uuid,) = emulator.tasks
    assert task_uuid in "".join(stages["generating"]["texts"]), "the task id is not all shown"
    assert facts["balance_before_generate"] == ["Balance: 100 credits"]

    arrived = facts["arrived"]
    result = arrived["result"]
    assert result == "Suzanne_rodin"
    assert arrived["visible"] == [result], "the original still shows through the result"
    assert arrived["active"] == result and arrived["selected"] == [result]
    assert arrived["shading"] == ["SOLID", "MATERIAL"], "the viewport was changed unasked"
    assert not facts["result_panel"]["too_wide"]

    assert facts["original_shown"]["visible"] == ["Suzanne"]
    assert facts["original_shown"]["active"] == "Suzanne"
    assert facts["result_shown_again"]["visible"] == [result]
    assert facts["after_undo"]["visible"] == ["Suzanne"], "Show Result is not one undo step"
    assert facts["texture_shown"]["shading"] == ["SOLID", "TEXTURE"]
    assert "Show Texture in Solid View" not in facts["final_texts"]

    undone = facts["arrival_undone"]
    assert undone["objects"] == ["Suzanne"] and undone["visible"] == ["Suzanne"]
    assert undone["status"] == "done", "undoing the result undid the job"
    assert undone["task_uuid"] == task_uuid and undone["model_path"]
    for shot in report.shots:
        assert Image.open(shot).size == (1600, 1000)


def test_apply_to_original_bakes_as_blenders_job_and_cancels_cleanly(window, emulator):
    report = window("apply_to_original", bake_size="1024")
    facts = report.facts

    assert emulator.submit_count == 1, "a refused Generate sent nothing"
    for operator, said in facts["refusals"].items():
        assert "is being baked" in said, f"{operator} during the bake: {said}"

    first = facts["first"]
    assert sorted(first["steps"]) == ["1", "2", "3", "4"]  # JSON's keys are text
    assert all(step["job_running"] for step in first["steps"].values()), "not Blender's job"
    # The main loop runs while Cycles bakes. Here (software OpenGL, 2 cores) it runs about once
    # a second, each viewport redraw Blender makes for the bake's progress taking that long;
    # before, it stood still from the first map to the last.
    assert first["beats"] >= 2 * len(first["steps"]), "the main loop stood still while baking"
    for step, seen in first["steps"].items():
        assert f"({step} of 4)" in " ".join(seen["texts"])
        assert "rodin_texture.cancel_bake" in seen["operators"]
        assert not seen["too_wide"], seen["too_wide"]

    before, baked = facts["before"], facts["baked"]
    assert baked["status"] == "done", baked["message"]
    assert baked["materials"] == [*before["materials"], "Suzanne_rodin"]
    assert baked["objects"] == before["objects"], "the imported result or a copy was left"
    assert baked["engine"] == before["engine"]
    assert {
        f"Suzanne_{name}.png" for name in ("base_color", "roughness", "metallic", "normal")
    } <= set(baked["files"])

    cancelled = facts["cancel_button"]
    assert cancelled["after"] == cancelled["before"], "Cancel left changes behind"
    assert "Stopping once this map is baked" in " ".join(
        cancelled["watched"]["steps"]["2"]["after_cancel"]
    )
