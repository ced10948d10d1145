"""Main-thread time of a submit, with the emulator answering every request after 2 seconds.

    .venv/bin/python scripts/bench_submit.py [--runs 5] [--latency 2]

For meshes of 1k, 100k and 1M triangles, each run measures, one after the other:
- the bare export: Blender's glTF exporter writing the mesh, geometry only;
- the add-on: ``bpy.ops.rodin_texture.generate`` as it runs in Blender's interface (it returns
  once the job is handed to a worker thread; background mode would wait for the job);
- a synchronous client, the pattern other integrations use: the same bare export, then
  ``requests.post`` of the submit on the main thread.
Each figure is the main thread's time divided by that run's bare export; the table gives the
median over the runs. The add-on's task is then awaited (off the clock) to show it was sent.
"""

import argparse
import time
from types import SimpleNamespace

import bench_common as bench
import requests


def synchronous_submit(obj, path, image, base_url) -> int:
    """Export, then send on this thread and wait for the answer; returns its HTTP status."""
    bench.blender_export(obj, path)
    with path.open("rb") as model, image.open("rb") as picture:
        answer = requests.post(
            f"{base_url}/rodin_texture_only",
            headers={"Authorization": f"Bearer {bench.API_KEY}"},
            files={"image": ("reference.png", picture, "image/png"),
                   "model": ("model.glb", model, "model/gltf-binary")},
            data={"material": "PBR", "resolution": "Basic"},
            timeout=600,
        )  # fmt: skip
    return answer.status_code


def addon_submit(bpy, live, obj, image) -> str:
    """Run the operator; return how it ended (refusals are reported as errors). A mesh over
    the limit is refused, not sent as a proxy: scripts/bench_proxy.py measures those."""
    bench.select_only(obj)
    try:
        bpy.ops.rodin_texture.generate(image_path=str(image), seed=1, use_proxy=False)
    except RuntimeError as error:  # an operator's ERROR report, in background mode
        return "refused: " + str(error).strip().splitlines()[-1][:60]
    return "started"


def await_task(live, obj, timeout=120.0) -> str:
    """Pump until the service's task id (or a failure) is on the object."""
    start = time.perf_counter()
    state = obj.rodin_texture
    while time.perf_counter() - start < timeout:
        live.pump.pump()
        if state.task_uuid:
            return f"task id after {time.perf_counter() - start:.1f} s"
        if state.status == "failed":
            return f"failed: {state.message[:50]}"
        time.sleep(0.02)
    return "no task id in time"


def forget_job(bpy, live, obj):
    live.session.shutdown()
    bench.select_only(obj)
    if bpy.ops.rodin_texture.clear.poll():
        bpy.ops.rodin_texture.clear()
    live.session.get().client(bpy.context)  # a warm live, as in a session that has submitted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per answer")
    arguments = parser.parse_args()

    addon = bench.blender_with_addon()
    import bpy

    live = SimpleNamespace(session=addon("blender.session"), pump=addon("blender.pump"))
    operators = addon("blender.operators")
    # As in Blender's interface: return once the job is started (background mode waits).
    operators.finish_headless = lambda operator, job_ids: {"FINISHED"}
    folder = bench.scratch_folder("bench-submit-")
    image = bench.reference_image(folder)
    rows = []
    with bench.EmulatorProcess("--waiting", "3600", "--balance", "1000") as emulator:
        emulator.delay_every_answer(arguments.latency)
        bench.use_emulator(emulator.base_url)
        for triangles in bench.TRIANGLE_COUNTS:
            bpy.ops.wm.read_homefile(use_empty=True)
            obj = bench.make_grid_object("Grid", triangles)
            forget_job(bpy, live, obj)
            bench.blender_export(obj, folder / "warm-up.glb")  # loads the exporter
            bare, addon_ratios, sync_ratios, outcomes, answers = [], [], [], set(), set()
            for _ in range(arguments.runs):
                seconds, _ = bench.timed(bench.blender_export, obj, folder / "bare.glb")
                bare.append(seconds)
                addon_seconds, outcome = bench.timed(addon_submit, bpy, live, obj, image)
                if outcome == "started":
                    outcome = await_task(live, obj)
                outcomes.add(outcome.split(" after ")[0])
                forget_job(bpy, live, obj)
                sync_seconds, status = bench.timed(
                    synchronous_submit, obj, folder / "sync.glb", image, emulator.base_url
                )
                answers.add(f"HTTP {status}")
                addon_ratios.append(addon_seconds / seconds)
                sync_ratios.append(sync_seconds / seconds)
            rows.append([
                f"{triangles:,}",
                f"{bench.median(bare) * 1000:.0f} ms",
                f"{bench.median(addon_ratios):.3f}",
                f"{max(addon_ratios):.3f}",
                f"{bench.median(sync_ratios):.2f}",
                "; ".join(sorted(outcomes)),
                ", ".join(sorted(answers)),
            ])  # fmt: skip
    bench.print_table(
        f"Submit: main-thread time / bare GLB export, emulator answering after "
        f"{arguments.latency:g} s, median of {arguments.runs} runs",
        ["triangles", "bare export", "add-on", "add-on max", "synchronous client",
         "add-on outcome", "synchronous answer"],
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    main()
