"""Apply to original: time to bake a 2K PBR set (base colour, roughness, metallic, normal) from a
result onto a 50,000-triangle original, and how close the baked original looks to the result.

    .venv/bin/python scripts/bench_bake.py [--runs 3] [--triangles 50000] [--size 2048]

The original is a UV sphere of exactly ``--triangles`` triangles with its own UV map. The
emulator's result builder turns the add-on's upload of it into the GLB the service would send
(welded, box-projected UVs, 2K PBR maps from a photo-like reference). Each run times
``bpy.ops.rodin_texture.apply(apply_mode="ORIGINAL")`` as a whole (import, bake, material,
clean-up) with the time of each map's bake from its progress lines. Then the result is imported
beside the baked original and both are rendered from three cameras (Cycles, one channel at a
time as emission): PSNR per view and channel.
"""

import argparse
import math
import resource
import sys
import time

import bench_common as bench
from bench_apply import photo_like, result_file

sys.path.insert(0, str(bench.REPO / "tests"))  # the fidelity renders the bake test uses


def make_sphere(bpy, triangles: int):
    """A UV sphere of exactly ``triangles`` triangles (segments × (rings - 1) × 2), with UVs."""
    segments = 200
    rings = triangles // (2 * segments) + 1
    bpy.ops.mesh.primitive_uv_sphere_add(segments=segments, ring_count=rings, radius=1.0)
    sphere = bpy.context.active_object
    sphere.name = "Sphere"
    sphere.rotation_euler = (0.3, 0.0, 0.7)
    sphere.data.shade_smooth()
    bpy.context.view_layer.update()
    return sphere


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def triangle_count(mesh) -> int:
    return sum(len(polygon.vertices) - 2 for polygon in mesh.polygons)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--triangles", type=int, default=50_000)
    parser.add_argument("--size", choices=["1024", "2048", "4096"], default="2048")
    arguments = parser.parse_args()

    addon = bench.blender_with_addon()
    import bpy
    from blender.fidelity import channel_psnr, prepare_flat_renders

    export, apply, bake = addon("blender.export"), addon("blender.apply"), addon("blender.bake")
    folder = bench.scratch_folder("bench-bake-")
    source = make_sphere(bpy, arguments.triangles)
    path = result_file(bpy, export, source, folder, photo_like())
    state = source.rodin_texture
    state.job_id, state.status, state.model_path = "bench", "done", str(path)  # as downloaded
    before_bakes = peak_rss_mb()
    totals = []
    for _ in range(arguments.runs):
        bench.select_only(source)
        seconds, _ = bench.timed(
            bpy.ops.rodin_texture.apply,
            apply_mode="ORIGINAL",
            bake_material="REPLACE",
            bake_size=arguments.size,
        )
        totals.append(seconds)

    # Where the time goes: the same steps called one by one (the window runs them between
    # Blender's bake jobs). Then the result is imported again, to compare the baked original with.
    options = bake.BakeOptions(size=int(arguments.size), replace_material=True)
    steps = bake.OriginalBake(bpy.context, source, path, "PBR", options, log=print)
    started = time.perf_counter()
    steps.start()
    marks = [("import the result, make the copies", started, time.perf_counter())]
    while not steps.all_baked:
        begun = time.perf_counter()
        steps.bake_next(invoke=False)
        baked = time.perf_counter()
        steps.save_baked()
        label = steps.maps[len(steps.images) - 1].label
        marks += [(f"bake {label}", begun, baked), (f"save {label}", baked, time.perf_counter())]
    begun = time.perf_counter()
    steps.finish()
    marks.append(("material and clean-up", begun, time.perf_counter()))
    result = apply.import_result(bpy.context, path)
    apply.place_over(result, source)
    samples = bake.samples_per_texel(bake.result_texture_size(result), int(arguments.size))
    rows = [
        ["apply (whole operator)", f"{bench.median(totals):.1f} s", f"median of {len(totals)}"],
        *([name, f"{end - begun:.2f} s", ""] for name, begun, end in marks),
        ["peak memory (RSS) of the process", f"{peak_rss_mb():.0f} MB",
         f"{before_bakes:.0f} MB before the first bake"],
    ]  # fmt: skip
    bench.print_table(
        f"Apply to original: {triangle_count(source.data):,} triangles, {arguments.size} px maps"
        f" (Cycles, CPU, {samples} sample(s) per texel)",
        ["step", "time", ""],
        rows,
    )

    prepare_flat_renders()
    scores = channel_psnr(result, source, folder)
    rows = [
        [channel, *(f"{v:.1f}" if math.isfinite(v) else "inf" for v in views)]
        for channel, views in scores.items()
    ]
    bench.print_table(
        "Baked original against the result: PSNR per view (dB)",
        ["channel", "view 1", "view 2", "view 3"],
        rows,
    )


if __name__ == "__main__":
    main()
