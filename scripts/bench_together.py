"""Texture Together: what sending several meshes as one task costs on the main thread, against
a task for each.

    .venv/bin/python scripts/bench_together.py [--runs 5] [--meshes 3 10] [--triangles 30000]

For each count of meshes (grids of ``--triangles`` each, side by side), the emulator's own
result builder makes the result the service would send for the joined upload and for each
mesh's own. Each run times, in alternating order: the joined export against the exports one by
one, and the joined result cut into one piece per mesh (``apply.apply_joined``: import, fit,
each face to its nearest mesh, the pieces) against each result applied to its mesh
(``apply.apply_result``), removing what each made before the next. Ratios per run; medians.
"""

import argparse

import bench_common as bench
from bench_apply import datablocks, photo_like, remove_new
from rodin_emulator.results import ResultOptions, build_files, load_model


def result_for(upload, image, folder, name):
    """The GLB the emulator would send back for ``upload``."""
    options = ResultOptions("glb", "PBR", "Basic", None, False, seed=1)
    files = build_files(load_model(upload.read_bytes()), image, options)
    path = folder / f"{name}.glb"
    path.write_bytes(files["base_basic_pbr.glb"])
    return path


def measure(bpy, addon, count: int, triangles: int, runs: int, folder, image) -> list[str]:
    """One row: ``count`` grids of ``triangles`` each, side by side."""
    export, apply = addon("blender.export"), addon("blender.apply")
    bpy.ops.wm.read_homefile(use_empty=True)
    objects = []
    for index in range(count):
        obj = bench.make_grid_object(f"Grid{index}", triangles)
        obj.location = (3.0 * index, 0.0, 0.0)
        objects.append(obj)
    bpy.context.view_layer.update()

    def joined_export():
        return export.export_upload(bpy.context, objects, folder / "joined.glb")

    def separate_exports():
        return [export.export_upload(bpy.context, [obj], folder / f"{obj.name}.glb")
                for obj in objects]  # fmt: skip

    joined = joined_export()
    joined_result = result_for(joined.path, image, folder, "joined-result")
    own_results = [result_for(model.path, image, folder, f"{model.path.stem}-result")
                   for model in separate_exports()]  # fmt: skip
    box = (joined.bbox_min, joined.bbox_max)
    parts = [(obj, obj.matrix_world.copy()) for obj in objects]

    def cut():
        pieces = apply.apply_joined(bpy.context, parts, box, joined_result)
        if [len(piece.data.polygons) for piece in pieces] != [
            2 * len(obj.data.polygons) for obj in objects
        ]:
            raise RuntimeError("a piece does not hold exactly its mesh's faces")

    def one_by_one():
        for obj, path in zip(objects, own_results, strict=True):
            apply.apply_result(bpy.context, obj, path)

    before = datablocks(bpy)
    cut()  # loads the importer
    remove_new(bpy, before)
    ratios, times = {"export": [], "apply": []}, {"joined": [], "cut": []}
    steps = {"joined": joined_export, "separate": separate_exports, "cut": cut,
             "one_by_one": one_by_one}  # fmt: skip
    for run in range(runs):
        timings = {}
        for name in list(steps)[:: 1 if run % 2 else -1]:
            before = datablocks(bpy)
            timings[name], _ = bench.timed(steps[name])
            remove_new(bpy, before)
        ratios["export"].append(timings["joined"] / timings["separate"])
        ratios["apply"].append(timings["cut"] / timings["one_by_one"])
        times["joined"].append(timings["joined"])
        times["cut"].append(timings["cut"])
    return [
        f"{count} × {triangles:,}",
        f"{bench.median(times['joined']) * 1000:.0f} ms",
        f"{bench.median(ratios['export']):.2f}",
        f"{bench.median(times['cut']) * 1000:.0f} ms",
        f"{bench.median(ratios['apply']):.2f}",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--meshes", type=int, nargs="+", default=[3, 10])
    parser.add_argument("--triangles", type=int, default=30_000)
    arguments = parser.parse_args()

    addon = bench.blender_with_addon()
    import bpy

    folder = bench.scratch_folder("bench-together-")
    image = photo_like()
    rows = [
        measure(bpy, addon, count, arguments.triangles, arguments.runs, folder, image)
        for count in arguments.meshes
    ]
    bench.print_table(
        f"Texture Together on the main thread, median of {arguments.runs} runs",
        ["meshes", "joined export", "/ one by one", "result cut into pieces", "/ one by one"],
        rows,
    )


if __name__ == "__main__":
    main()
