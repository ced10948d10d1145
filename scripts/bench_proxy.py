"""Upload proxies: for scans of 1, 3 and 10 million triangles, the proxy's build time, upload size,
deviation and peak memory, beside Blender's own Decimate modifier brought to the same triangle
count; then the result baked back onto the original (time, and PSNR of the baked original
against the result from the same cameras), and Smart UV Project's time on the original.

    .venv/bin/python scripts/bench_proxy.py [--triangles 1000000 3000000 10000000] [--no-bake]

Each size runs in a process of its own, so that its peak RSS is its own. The scan is the tests'
bumpy UV sphere (tests/blender/scenes.py, ``make_scan``). Deviation is measured the same way
for both methods, with Blender's BVH trees: from 50,000 of the original's vertices to the
simplified surface and back, as shares of the bounding-box diagonal (mean, and the worst of
both directions: a sampled Hausdorff distance). The result is what the emulator's result builder
makes of the proxy upload (welded, box-projected UVs, PBR maps from a photo-like reference).
"""

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import bench_common as bench
import numpy as np

sys.path.insert(0, str(bench.REPO / "tests"))  # the scan and the fidelity renders of the tests

SAMPLES = 50_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def deviation(bpy, original, simplified, diagonal: float) -> tuple[float, float]:
    """(mean, worst) distance between the two meshes' surfaces, sampled both ways, as shares of
    ``diagonal``."""
    from mathutils.bvhtree import BVHTree

    def vertices(mesh):
        points = np.empty(len(mesh.vertices) * 3, np.float32)
        mesh.vertices.foreach_get("co", points)
        return points.reshape(-1, 3)

    distances = []
    for source, target in ((original, simplified), (simplified, original)):
        tree = BVHTree.FromObject(target, bpy.context.evaluated_depsgraph_get())
        points = vertices(source.evaluated_get(bpy.context.evaluated_depsgraph_get()).data)
        chosen = np.random.default_rng(0).choice(len(points), min(SAMPLES, len(points)), False)
        distances.append([tree.find_nearest(points[i])[3] for i in chosen])
    forth, back = (np.array(d) / diagonal for d in distances)
    return float(forth.mean()), float(max(forth.max(), back.max()))


def object_of(bpy, scenes, name: str, path):
    """A mesh object of a geometry GLB's triangles (glTF's axes back to Blender's)."""
    gltf, binary = scenes.read_glb(path)
    points = scenes.gltf_to_blender(scenes.accessor_array(gltf, binary, 0).astype(np.float64))
    triangles = scenes.accessor_array(gltf, binary, 2).reshape(-1, 3).astype(np.int64)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(points, [], triangles)
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def measure_one(triangles: int, bake: bool, channels: list[str] | None) -> dict:
    """One size's figures; with ``bake``, the bake and its PSNR in ``channels`` (None: those of
    the bake tests' fidelity check)."""
    addon = bench.blender_with_addon()
    import bpy
    from blender import scenes

    export = addon("blender.export")
    folder = bench.scratch_folder("bench-proxy-")
    segments = round(math.sqrt(triangles))
    scan = scenes.make_scan("Scan", segments=segments, rings=triangles // (2 * segments))
    scan.data.shade_smooth()
    bpy.context.view_layer.update()
    row = {"triangles": export.mesh_counts(scan.data)[1], "rss_mesh": peak_rss_mb()}
    low, high = scenes.evaluated_world_box(scan)
    diagonal = float(np.linalg.norm(high - low))

    row["read"], pending = bench.timed(export.export_upload, bpy.context, [scan], folder / "u.glb")
    row["build"], model = bench.timed(pending.build)
    row["rss_proxy"] = peak_rss_mb()
    row["bytes"], row["proxy_triangles"] = model.size_bytes, model.triangle_count
    row["own_mean"], row["own_worst"] = model.deviation.mean, model.deviation.hausdorff
    proxied = object_of(bpy, scenes, "Proxy", model.path)
    row["mean"], row["worst"] = deviation(bpy, scan, proxied, diagonal)
    bpy.data.objects.remove(proxied)

    decimated = scan.copy()
    decimated.data = scan.data.copy()
    bpy.context.scene.collection.objects.link(decimated)
    modifier = decimated.modifiers.new("Decimate", "DECIMATE")
    modifier.ratio = model.triangle_count / row["triangles"]
    started = time.perf_counter()
    bpy.context.view_layer.update()
    depsgraph = bpy.context.evaluated_depsgraph_get()
    row["decimate_triangles"] = export.mesh_counts(decimated.evaluated_get(depsgraph).data)[1]
    row["decimate"] = time.perf_counter() - started
    row["decimate_mean"], row["decimate_worst"] = deviation(bpy, scan, decimated, diagonal)
    bpy.data.objects.remove(decimated)

    if bake:
        row.update(bake_back(bpy, addon, scan, model, folder, channels))
    unwrapped = scan.copy()
    unwrapped.data = scan.data.copy()
    bpy.context.scene.collection.objects.link(unwrapped)
    while unwrapped.data.uv_layers:
        unwrapped.data.uv_layers.remove(unwrapped.data.uv_layers[0])
    row["unwrap"], _ = bench.timed(addon("blender.bake").unwrap, bpy.context, unwrapped)
    return row


def bake_back(bpy, addon, scan, model, folder, channels) -> dict:
    """Apply to Original of the result the emulator makes of the proxy; its time and PSNR."""
    from bench_apply import photo_like
    from blender.fidelity import CHANNELS, channel_psnr, prepare_flat_renders
    from rodin_emulator.results import ResultOptions, build_files, load_model

    apply = addon("blender.apply")
    options = ResultOptions("glb", "PBR", "Basic", None, False, seed=1)
    files = build_files(load_model(model.path.read_bytes()), photo_like(), options)
    path = folder / "base_basic_pbr.glb"
    path.write_bytes(files[path.name])
    state = scan.rodin_texture
    state.job_id, state.model_path = "bench", str(path)
    state.proxy_json = json.dumps(addon("blender.export").proxy_record(model))
    bench.select_only(scan)
    seconds, _ = bench.timed(
        bpy.ops.rodin_texture.apply, apply_mode="ORIGINAL", bake_material="REPLACE"
    )
    rss = peak_rss_mb()
    result = apply.import_result(bpy.context, path)
    apply.place_over(result, scan)
    prepare_flat_renders()
    scores = channel_psnr(result, scan, folder, channels or CHANNELS)
    bpy.data.objects.remove(result)
    return {
        "bake": seconds,
        "rss_bake": rss,
        "psnr": {channel: min(views) for channel, views in scores.items()},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triangles", type=int, nargs="+", default=[1_000_000, 3_000_000, 10**7])
    parser.add_argument("--no-bake", action="store_true", help="proxies and Decimate only")
    parser.add_argument(
        "--channels", nargs="+", help="the channels compared (default: the bake tests' four)"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child's size
    arguments = parser.parse_args()
    if arguments.one:
        row = measure_one(arguments.one, not arguments.no_bake, arguments.channels)
        print("ROW " + json.dumps(row))
        return
    rows = []
    for triangles in arguments.triangles:
        command = [sys.executable, __file__, "--one", str(triangles)]
        command += ["--no-bake"] if arguments.no_bake else []
        command += ["--channels", *arguments.channels] if arguments.channels else []
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("ROW ")), None)
        if line is None:
            sys.exit(f"the {triangles:,} run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        rows.append(json.loads(line[4:]))
    print_tables(rows, bake=not arguments.no_bake)


def print_tables(rows: list[dict], *, bake: bool):
    def share(value):
        return f"{value:.4%}"

    bench.print_table(
        "Upload proxy (quadric-error clustering) against Blender's Decimate (collapse) at the "
        "same triangle count; deviation as shares of the bounding-box diagonal",
        ["mesh", "read", "build", "upload", "proxy", "mean", "worst", "peak RSS",
         "Decimate", "its mean", "its worst"],
        [
            [f"{row['triangles']:,}", f"{row['read']:.2f} s", f"{row['build']:.1f} s",
             bench.megabytes(row["bytes"]), f"{row['proxy_triangles']:,}", share(row["mean"]),
             share(row["worst"]), f"{row['rss_mesh']:.0f} → {row['rss_proxy']:.0f} MB",
             f"{row['decimate']:.1f} s", share(row["decimate_mean"]),
             share(row["decimate_worst"])]
            for row in rows
        ],
    )  # fmt: skip
    bench.print_table(
        "The proxy's own deviation check (what the job shows)",
        ["mesh", "mean", "worst"],
        [[f"{r['triangles']:,}", share(r["own_mean"]), share(r["own_worst"])] for r in rows],
    )
    if bake:
        channels = list(rows[0]["psnr"])
        bench.print_table(
            "The result baked back onto the original (Apply to Original, result-size maps): "
            "time, peak RSS, lowest PSNR of three views (dB) per channel",
            ["mesh", "bake", "peak RSS", *channels],
            [
                [f"{r['triangles']:,}", f"{r['bake']:.1f} s", f"{r['rss_bake']:.0f} MB",
                 *(f"{r['psnr'][c]:.1f}" for c in channels)]
                for r in rows
            ],
        )  # fmt: skip
    bench.print_table(
        "Smart UV Project on the original (what Unwrap Meshes Without UVs runs)",
        ["mesh", "time"],
        [[f"{r['triangles']:,}", f"{r['unwrap']:.1f} s"] for r in rows],
    )


if __name__ == "__main__":
    main()
