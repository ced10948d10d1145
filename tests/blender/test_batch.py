"""The batch command as a user runs it: a subprocess against the emulator, killed with SIGKILL
at several points and run again, from where it was or with its inputs moved. The emulator's
counts prove that nothing is submitted twice and that finished results are not fetched twice."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import bpy
import pytest
from gltf_validator import assert_valid
from rodin_emulator import Fault, glb

from rodin_texture_addon.jobs.ledger import TaskLedger

from .scenes import assert_boxes_match, evaluated_world_box, make_grid, make_suzanne

pytestmark = pytest.mark.blender

REPO = Path(__file__).resolve().parents[2]
BATCH = REPO / "scripts" / "batch.py"
# The task history the add-on installed from the default repository keeps, in the user folder.
HISTORY = "extensions/.user/user_default/rodin_texture_addon/history/tasks.jsonl"
FAST_POLLING = ["--first-poll", "0.05", "--max-poll-interval", "0.2", "--progress-interval", "1"]
OBJ_TRIANGLE = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n"
MESHES = 5
# Each mesh's name in the batch's lines, and its outputs: a folder for each file.
OUTPUTS = {
    "a.glb::mesh": ("a_glb/mesh.glb", "a_glb/a.blend"),
    "d.blend::Grid": ("d_blend/Grid.glb", "d_blend/d.blend"),
    "d.blend::Suzanne": ("d_blend/Suzanne.glb", "d_blend/d.blend"),
    "props/a.glb::mesh": ("props/a_glb/mesh.glb", "props/a_glb/a.blend"),
    "props/a.obj::a": ("props/a_obj/a.glb", "props/a_obj/a.blend"),
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, reference_image):
    """Five meshes, in files of one name: a GLB, in a sub-folder a copy of it and an OBJ; and a
    .blend with two meshes."""
    folder = tmp_path_factory.mktemp("assets")
    (folder / "a.glb").write_bytes(glb.cube_glb())
    (folder / "props").mkdir()
    (folder / "props" / "a.glb").write_bytes(glb.cube_glb())
    (folder / "props" / "a.obj").write_text(OBJ_TRIANGLE)
    bpy.ops.wm.read_homefile(use_empty=True)
    make_suzanne()
    make_grid()
    bpy.ops.wm.save_as_mainfile(filepath=str(folder / "d.blend"), copy=True)
    (folder / "reference.png").write_bytes(reference_image.read_bytes())  # not a scene: ignored
    return folder


class Batch:
    """One run of scripts/batch.py in its own process."""

    def __init__(self, emulator, inputs, output: Path, *options: str):
        self.output, self.log = output, output.parent / f"{output.name}-{time.monotonic_ns()}.log"
        environment = {
            **os.environ,
            "RODIN_API_KEY": "test-key",
            "BLENDER_USER_RESOURCES": str(output.parent / "blender-user"),
        }
        command = [sys.executable, str(BATCH), str(inputs), "-o", str(output)]
        command += ["--image", str(inputs / "reference.png"), "--api-url", emulator.base_url]
        command += [*FAST_POLLING, *options]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=environment
            )

    @property
    def journal(self) -> list[dict]:
        path = self.output / ".rodin-batch" / "journal.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]

    def events(self, event: str) -> list[dict]:
        return [record for record in self.journal if record["event"] == event]

    def kill_when(self, condition, timeout=60.0):
        deadline = time.monotonic() + timeout
        while not condition(self):
            assert self.process.poll() is None, f"the batch ended first:\n{self.text}"
            assert time.monotonic() < deadline, f"the moment to kill never came:\n{self.text}"
            time.sleep(0.02)
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def finish(self, timeout=120.0) -> int:
        return self.process.wait(timeout)

    @property
    def text(self) -> str:
        return self.log.read_text()


def submits(emulator) -> list:
    return [r for r in emulator.requests if r.path.endswith("/rodin_texture_only")]


def settled_submits(emulator, expected: int, timeout=5.0) -> int:
    """The submits the emulator got from a killed batch: a request written just before the kill
    can still be on its way, so wait (a little) for ``expected`` of them."""
    deadline = time.monotonic() + timeout
    while len(submits(emulator)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(submits(emulator))


def outputs(folder: Path, pattern: str) -> list[str]:
    """The batch's outputs under ``folder`` (not its work folder), as sorted relative paths."""
    found = [path.relative_to(folder) for path in folder.rglob(pattern)]
    return sorted(path.as_posix() for path in found if ".rodin-batch" not in path.parts)


def table_row(text: str, label: str) -> str:
    """The summary table's row for one mesh: its result and detail."""
    return re.search(rf"^{re.escape(label)} +(.*)$", text, re.MULTILINE).group(1)


def test_textures_every_mesh_then_a_rerun_sends_nothing_even_moved(emulator, inputs, tmp_path):
    output, assets = tmp_path / "out", tmp_path / "assets"
    shutil.copytree(inputs, assets)
    (tmp_path / "other.png").write_bytes((inputs / "reference.png").read_bytes())
    (tmp_path / "mapping.csv").write_text("asset,image\nd.blend::Suzanne,other.png\n")
    options = ["--write", "both", "--seed", "7", "--mapping", str(tmp_path / "mapping.csv")]
    options += ["--escore", "2.5", "--no-texture-delight"]
    run = Batch(emulator, assets, output, *options, "--progress-interval", "0")
    assert run.finish() == 0, run.text
    assert f"{MESHES} done, 0 failed, 0 skipped" in run.text
    assert emulator.submit_count == MESHES
    forms = [submit.form for submit in submits(emulator)]
    assert {(form["seed"], form["escore"], form["texture_delight"]) for form in forms} == {
        ("7", "2.5", "false")
    }
    assert not {"prompt", "reference_scale"} & {name for form in forms for name in form}
    history = TaskLedger(tmp_path / "blender-user" / HISTORY).tasks()
    assert {task.task_uuid for task in history} == set(emulator.tasks)
    assert {(task.source, task.state) for task in history} == {("batch", "applied")}
    assert {task.object_name for task in history} >= {"Suzanne"}
    images = sorted(r.files["image"][0] for r in submits(emulator))
    assert images == ["other.png"] + ["reference.png"] * (MESHES - 1)
    glbs = outputs(output, "*.glb")
    assert glbs == sorted(glb_path for glb_path, _ in OUTPUTS.values())
    for path in glbs[::2]:
        assert_valid(output / path)
    assert outputs(output, "*.blend") == sorted({blend for _, blend in OUTPUTS.values()})
    assert re.search(r"^\[\d/5\] running: \d+ \w+", run.text, re.MULTILINE), "progress"
    for label, (glb_path, blend_path) in OUTPUTS.items():
        assert re.search(rf"^\[\d/5\] {re.escape(label)}: submitted as ", run.text, re.MULTILINE)
        assert re.search(rf"^\[\d/5\] {re.escape(label)}: downloaded$", run.text, re.MULTILINE)
        assert table_row(run.text, label) == f"done     {output / glb_path}, {output / blend_path}"
    journal_text = (output / ".rodin-batch" / "journal.jsonl").read_text()
    assert "test-key" not in journal_text
    assert str(assets) not in journal_text, "tasks are known by what they send, not their path"
    assert sorted(record["label"] for record in run.events("intent")) == sorted(OUTPUTS)

    before = len(emulator.requests)
    assets.rename(tmp_path / "moved")
    again = Batch(emulator, tmp_path / "moved", output, *options)
    assert again.finish() == 0, again.text
    assert f"0 done, 0 failed, {MESHES} skipped" in again.text
    for label in OUTPUTS:
        assert table_row(again.text, label) == "skipped  already done in an earlier run"
    assert len(emulator.requests) == before, "a finished batch asks the service nothing"


@pytest.mark.heavy  # the journal's and the lock's logic: the same on every Blender
def test_killed_with_tasks_in_flight_it_resumes_them_and_submits_nothing(
    emulator, inputs, tmp_path
):
    emulator.configure(generating_seconds=2.0)
    first = Batch(emulator, inputs, tmp_path / "out")
    first.kill_when(lambda run: len(run.events("submitted")) == MESHES)
    assert not first.events("downloaded")
    again = Batch(emulator, inputs, tmp_path / "out")
    assert again.finish() == 0, again.text
    assert f"{MESHES} done" in again.text
    assert emulator.submit_count == MESHES
    assert len(submits(emulator)) == MESHES


@pytest.mark.heavy  # the journal's and the lock's logic: the same on every Blender
def test_a_second_run_on_the_same_folder_refuses_while_the_first_runs(emulator, inputs, tmp_path):
    emulator.configure(generating_seconds=3.0)
    first = Batch(emulator, inputs, tmp_path / "out")
    deadline = time.monotonic() + 60
    while not first.events("submitted"):
        assert first.process.poll() is None and time.monotonic() < deadline, first.text
        time.sleep(0.02)

    second = Batch(emulator, inputs, tmp_path / "out")

    assert second.finish() == 2, second.text
    assert f"another batch (process {first.process.pid})" in second.text
    assert first.finish() == 0, first.text
    assert emulator.submit_count == MESHES, "each asset submitted once"


@pytest.mark.heavy  # the journal's and the lock's logic: the same on every Blender
def test_killed_after_some_downloads_then_moved_it_pays_and_fetches_nothing_twice(
    emulator, inputs, tmp_path
):
    shutil.copytree(inputs, tmp_path / "assets")
    first = Batch(emulator, tmp_path / "assets", tmp_path / "out", "--max-in-flight", "1")
    first.kill_when(lambda run: len(run.events("downloaded")) >= 2)
    fetched = {record["asset"] for record in first.events("downloaded")}
    tasks = {r["task_uuid"] for r in first.events("submitted") if r["asset"] in fetched}
    (tmp_path / "assets").rename(tmp_path / "moved")
    again = Batch(emulator, tmp_path / "moved", tmp_path / "out", "--max-in-flight", "1")
    assert again.finish() == 0, again.text
    assert emulator.submit_count == MESHES
    for task_uuid in tasks:
        lists = [r for r in emulator.requests if (r.json or {}).get("task_uuid") == task_uuid]
        assert len(lists) == 1, "a downloaded result is not listed or fetched again"


@pytest.mark.heavy  # the journal's and the lock's logic: the same on every Blender
def test_killed_between_a_submit_and_its_answer_it_reports_instead_of_resubmitting(
    emulator, inputs, tmp_path
):
    emulator.inject("rodin_texture_only", Fault.slow(1.5), times=4)
    # Four tasks at most, so the fifth mesh's intent cannot be written before the kill lands.
    first = Batch(emulator, inputs, tmp_path / "out", "--max-in-flight", "4")
    first.kill_when(lambda run: len(run.events("intent")) == 4)
    assert not first.events("submitted")
    sent = settled_submits(emulator, expected=4)

    again = Batch(emulator, inputs, tmp_path / "out")
    assert again.finish() == 1, again.text
    assert "4 failed" in again.text and again.text.count("may have taken (and charged)") == 4
    assert len(submits(emulator)) == sent + 1, "only the mesh never sent is submitted"

    forced = Batch(emulator, inputs, tmp_path / "out", "--resubmit-unconfirmed")
    assert forced.finish() == 0, forced.text
    assert len(submits(emulator)) == sent + 1 + 4


def test_out_of_credits_it_stops_submitting_and_finishes_what_was_paid_for(
    emulator, inputs, tmp_path
):
    emulator.balance = 1.0  # two tasks
    run = Batch(emulator, inputs, tmp_path / "out", "--max-in-flight", "1")
    assert run.finish() == 1, run.text
    assert "STOPPED SUBMITTING: INSUFFICIENT_FUND" in run.text
    assert "2 done, 3 failed" in run.text
    assert len(submits(emulator)) == 3, "one refusal, then nothing more is sent"
    table = run.text[run.text.index("asset  ") :]
    assert table.count("failed   Not submitted: INSUFFICIENT_FUND") == 2


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--seed", "70000"], "seed: must be a whole number from 0 to 65535"),
        (["--mapping", "missing.csv"], "cannot read the mapping"),
        (["--proxy-detail", "5"], "--proxy-detail must be from 10 to 100"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent_or_written(
    emulator, inputs, tmp_path, options, words
):
    run = Batch(emulator, inputs, tmp_path / "out", *options)
    assert run.finish() == 2, run.text
    assert words in run.text
    assert not emulator.requests
    assert not (tmp_path / "out").exists()


def test_a_file_blender_cannot_read_fails_alone_and_the_rest_are_textured(
    emulator, inputs, tmp_path
):
    """Before, a junk .glb or a corrupt .blend stopped the whole batch with a traceback."""
    assets = tmp_path / "assets"
    shutil.copytree(inputs, assets)
    (assets / "junk.glb").write_bytes(b"not a glTF file at all")
    (assets / "broken.blend").write_bytes(b"BLENDER-v402" + bytes(64))
    run = Batch(emulator, assets, tmp_path / "out")
    assert run.finish() == 1, run.text
    assert "Traceback" not in run.text
    assert f"{MESHES} done, 2 failed, 0 skipped" in run.text
    assert emulator.submit_count == MESHES
    for label in ("junk.glb", "broken.blend"):
        assert table_row(run.text, label).startswith("failed   could not read it: "), run.text


def test_a_mesh_over_the_limit_goes_as_a_proxy_unless_proxies_are_off(
    emulator, reference_image, tmp_path
):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "reference.png").write_bytes(reference_image.read_bytes())
    bpy.ops.wm.read_homefile(use_empty=True)
    make_grid("Dense", subdivisions=480)  # an 11 MB upload
    make_suzanne()
    bpy.ops.wm.save_as_mainfile(filepath=str(assets / "scene.blend"), copy=True)

    run = Batch(emulator, assets, tmp_path / "out", "--write", "both")
    assert run.finish() == 0, run.text
    assert "2 done, 0 failed" in run.text
    sizes = sorted(len(task.model_bytes) for task in emulator.tasks.values())
    assert sizes[-1] <= 10 * 1024 * 1024
    dense = tmp_path / "out" / "scene_blend" / "Dense.glb"
    assert_valid(dense)
    history = TaskLedger(tmp_path / "blender-user" / HISTORY).tasks()
    proxies = {task.object_name: task.proxy for task in history}
    assert proxies["Suzanne"] == {}
    assert proxies["Dense"]["source_triangles"] > 450_000
    assert proxies["Dense"]["triangles"] < proxies["Dense"]["source_triangles"]
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "out" / "scene_blend" / "scene.blend"))
    assert {"Dense_rodin_proxy", "Suzanne_rodin"} <= set(bpy.data.objects.keys())

    refused = Batch(emulator, assets, tmp_path / "refused", "--no-upload-proxies")
    assert refused.finish() == 1, refused.text
    assert table_row(refused.text, "scene.blend::Dense").startswith("failed   Dense makes a 1")
    assert "turn on Upload Proxies" in refused.text
    assert len(emulator.tasks) == 3, "only Suzanne is sent again"


def test_together_each_files_meshes_go_as_one_task_and_each_gets_its_piece(
    emulator, inputs, tmp_path
):
    run = Batch(emulator, inputs, tmp_path / "out", "--together", "--write", "both")
    assert run.finish() == 0, run.text
    assert emulator.submit_count == MESHES - 1, "d.blend's two meshes are one task"
    label = "d.blend::Grid + Suzanne"
    folder = tmp_path / "out" / "d_blend"
    expected = f"done     {folder / 'Grid.glb'}, {folder / 'Suzanne.glb'}, {folder / 'd.blend'}"
    assert table_row(run.text, label) == expected
    for name in ("Grid", "Suzanne"):
        assert_valid(folder / f"{name}.glb")
    history = TaskLedger(tmp_path / "blender-user" / HISTORY).tasks()
    assert [task.together for task in history if task.together] == [("Grid", "Suzanne")]
    bpy.ops.wm.open_mainfile(filepath=str(folder / "d.blend"))
    for name in ("Grid", "Suzanne"):  # each piece lies over its mesh, and holds only its faces
        piece, source = bpy.data.objects[f"{name}_rodin"], bpy.data.objects[name]
        assert_boxes_match(evaluated_world_box(piece), evaluated_world_box(source), 0.02)
    grid_faces = len(bpy.data.objects["Grid_rodin"].data.polygons)
    assert grid_faces == 2 * len(bpy.data.objects["Grid"].data.polygons)

    again = Batch(emulator, inputs, tmp_path / "out", "--together", "--write", "both")
    assert again.finish() == 0, again.text
    assert table_row(again.text, label) == "skipped  already done in an earlier run"
    assert emulator.submit_count == MESHES - 1
