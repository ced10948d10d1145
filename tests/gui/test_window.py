"""The add-on as a person meets it in Blender's window: the sidebar, a job followed by timers,
the result arriving, and what the panel says at each stage."""

import re

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
    assert all(size == [1, 1] for size in facts["redo_panel"]), "Generate offers to redo (pay)"

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
    assert first["jobs"] == {"started": 4, "completed": 4}, "each map is Blender's bake job"
    # The main loop runs while Cycles bakes. Here (software OpenGL, 2 cores) it runs about once
    # a second, each viewport redraw Blender makes for the bake's progress taking that long;
    # before, it stood still from the first map to the last.
    assert first["beats"] >= 2 * len(first["steps"]), "the main loop stood still while baking"
    for step, seen in first["steps"].items():
        # The panel is read just after the step is: a quick map may be over by then.
        shown = re.search(r"Baking [\w ]+ \((\d) of 4\)", " ".join(seen["texts"]))
        assert shown and int(shown[1]) >= int(step), seen["texts"]
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
    stopped = cancelled["watched"]["steps"]["2"]
    if stopped["still_baking"]:  # else map 2 was done before the panel was read again
        assert "Stopping once this map is baked" in " ".join(stopped["after_cancel"])


def chinese_share(texts) -> float:
    """How much of the panel's text (letters and CJK characters, not ids or numbers) is CJK."""
    words = [text for text in texts if not re.fullmatch(r"[0-9a-f-]+", text)]  # task ids
    letters = [c for text in words for c in text if c.isalpha()]
    return sum("\u4e00" <= c <= "\u9fff" for c in letters) / max(1, len(letters))


def test_the_panel_in_simplified_chinese_and_a_user_who_moved_on(window, emulator):
    report = window("chinese")
    facts = report.facts

    assert chinese_share(facts["start_texts"]) > 0.8, facts["start_texts"]
    for status, seen in facts["stages"].items():
        assert chinese_share(seen["texts"]) > 0.8, f"{status}: {seen['texts']}"
        assert not seen["too_wide"], f"{status}: cut off: {seen['too_wide']}"

    arrived = facts["arrived"]
    assert arrived["active"] == facts["other"] and arrived["selected"] == [facts["other"]]
    assert "Suzanne" not in arrived["visible"] and "Suzanne_rodin" in arrived["visible"]

    replaced = facts["replaced"]
    assert replaced["mesh"].startswith("Suzanne_rodin"), "Replace Mesh kept the old mesh"
    assert not replaced["too_wide"]
    english = facts["english_texts"]
    assert english and chinese_share(english) == 0, f"kept translations outlived: {english}"


def test_variants_the_history_and_recovery_in_the_window(window, emulator):
    report = window("history")
    facts = report.facts

    assert facts["generate_button"] == ["Generate Texture (1.5 credits)"]
    variants = facts["variants"]
    seeds = variants["seeds"]
    assert len(set(seeds)) == 3
    assert [text for text in variants["texts"] if text.startswith("Seed ")] == [
        f"Seed {seed}" for seed in seeds
    ]
    assert variants["previews"] == 3, "each variant's preview, side by side"
    assert variants["texts"].count("Use") == 2 and "In use" in variants["texts"]
    assert not variants["too_wide"]

    chosen = facts["chosen"]
    assert chosen["visible"] == ["Suzanne_rodin"] and chosen["result"] == "Suzanne_rodin"
    assert chosen["active"] == "Suzanne_rodin", "the variants stay in view"
    assert chosen["texts"].count("Use") == 2 and "In use" in chosen["texts"]
    assert emulator.submit_count == 4, "three variants, then one task; choosing paid nothing"
    assert "From an unsaved file, 0.5 credits" in facts["history_texts"]

    assert "1 paid result(s) never applied" in facts["offered"]["texts"]
    assert "rodin_texture.recover" in facts["offered"]["operators"]
    recovered = facts["recovered"]
    assert recovered["task_uuid"] == recovered["lost"]
    assert recovered["result"] == "Cube_rodin" and recovered["status"] == "done"
    assert "rodin_texture.recover" not in recovered["main_operators"]
    assert emulator.submit_count == 4, "recovery never submits"


def test_a_mesh_over_the_limit_goes_as_a_proxy_built_while_the_window_runs(window, emulator):
    report = window("upload_proxy")
    facts = report.facts

    announced = " ".join(facts["announced"]["texts"])
    assert re.search(r"Dense: 460 k triangles, sent as a 3\d0 k triangle proxy", announced)
    assert "Its textures are baked back onto your mesh" in announced
    assert not facts["announced"]["too_wide"], facts["announced"]["too_wide"]
    assert "Replace Mesh cannot take a proxy" in " ".join(facts["announced_replace"])
    assert "upload proxy is being built" in facts["second_generate"]
    building = " ".join(facts["while_building"]["texts"])
    assert "Dense's upload proxy is being built: wait for its submit" in building, building
    assert emulator.submit_count == 1
    # The proxy takes seconds to build; the main loop ran on through it (here, with software
    # OpenGL redrawing a 460,000-triangle viewport, about once a second).
    gaps = facts["build_gaps"]
    assert len(gaps) >= 3 and max(gaps) < sum(gaps) / 2, gaps
    assert facts["final"] == "done"
    assert facts["materials"][-1] == "Dense_rodin"
    assert facts["objects"] == ["Dense"], "the imported proxy result was left behind"
    (task,) = emulator.tasks.values()
    assert len(task.model_bytes) <= 10 * 1024 * 1024
    proxy = facts["proxy"]
    assert proxy["source_triangles"] == 2 * 480 * 480 and proxy["triangles"] < 400_000
    shown = " ".join(facts["job_texts"])
    assert re.search(r"Sent as a 3\d0 k triangle proxy of 460 k", shown), shown
    assert re.search(r"Deviation: [\d.]+% mean, [\d.]+% worst", shown), shown
    assert not facts["job_too_wide"], facts["job_too_wide"]


def test_undo_or_a_new_file_while_a_proxy_is_built_sends_nothing(window, emulator):
    report = window("proxy_interrupted")
    facts = report.facts

    assert emulator.submit_count == 0
    undo = facts["undo"]
    said = undo["reports"]
    assert "Undo was used while the upload was made ready: nothing was submitted" in said, said
    assert undo["job_id"] == "" and undo["uploads"] == []
    assert not undo["smooth"], "the Undo took its step back"
    assert "being built" not in " ".join(undo["texts"])
    assert not facts["new_file"]["building"], "the panel of the new file says no proxy is built"
    assert "being built" not in " ".join(facts["new_file"]["texts"])


def test_texture_together_sends_one_task_and_bakes_each_mesh_in_turn(window, emulator):
    report = window("together")
    facts = report.facts
    names = ["Bare", "Modified", "Child"]

    before = " ".join(facts["before"]["texts"])
    assert "Generate Texture (1.5 credits)" in before and "one task" not in before
    assert facts["together_on"], "the checkbox click turned Texture Together on"
    announced = " ".join(facts["announced"]["texts"])
    assert "Generate Texture (0.5 credits)" in announced
    assert "3 meshes in one task: 0.5 credits, not 1.5" in announced
    assert "They share one texture's resolution" in announced
    assert "The result is baked onto each mesh's own UVs" in announced
    assert not facts["announced"]["too_wide"], facts["announced"]["too_wide"]
    assert emulator.submit_count == 1
    assert facts["final"] == "done"
    assert sorted(facts["baked_onto"]) == sorted(names), "one of Blender's bake jobs after another"
    for turn, name in enumerate(facts["baked_onto"]):  # the meshes still to bake say so
        in_line = facts["in_line"][name]
        waiting = facts["baked_onto"][turn + 1 :]
        assert in_line["after"] == {n: name if n in waiting else "" for n in names}, in_line
        job_texts = " ".join(in_line["job_texts"])
        if "Modified" in waiting:  # the active mesh, whose Job panel shows
            assert f"To be baked after {name}" in job_texts, job_texts
        else:
            assert "To be baked" not in job_texts, job_texts
    (task_uuid,) = set(facts["task_uuids"])
    for name in names:
        baked = facts["baked"][name]
        assert baked["materials"][-1] == f"{name}_rodin", baked
        assert baked["objects"] == sorted([*names, "Holder"]), "a bake left something behind"
    assert facts["baked"]["Bare"]["uv_maps"] == ["UVMap"], "the mesh without UVs was unwrapped"
    shown = " ".join(facts["job_texts"])
    assert "One task with Bare, Child" in shown or "One task with Child, Bare" in shown, shown
    assert not facts["job_too_wide"], facts["job_too_wide"]
    # The bakes ran as Blender's jobs: the main loop went on between and during them.
    gaps = facts["gaps"]
    assert len(gaps) > 20 and max(gaps) < sum(gaps) / 4, gaps
    print(f"longest main-loop gap over the three bakes: {max(gaps):.2f} s of {sum(gaps):.1f} s")
    for name in names:  # one undo step for the three bakes; the task stays on each
        assert f"{name}_rodin" not in facts["undone"][name]["materials"], facts["undone"][name]
    assert facts["undone"]["Bare"]["uv_maps"] == [], "undo takes the unwrap back too"
    assert facts["undone_jobs"] == [["done", task_uuid]] * 3
