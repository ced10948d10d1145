"""Apply: from the result file on disk to the textured object in the scene, against Blender's
bare glTF import of the same file.

    .venv/bin/python scripts/bench_apply.py [--runs 9] [--triangles 1000 100000]

For each mesh size, the emulator's own result builder turns the add-on's upload into the GLB
the service would send (welded, box-projected UVs, PBR maps of 2048 px: Basic resolution),
from a reference picture with photo-like detail so that the maps weigh what real ones do.
Each run then times, in alternating order: ``bpy.ops.import_scene.gltf`` with its defaults,
and ``bpy.ops.rodin_texture.apply`` (import, join, fit over the source, link, material fix-up),
removing what each made before the next. The ratio is taken per run; the median is reported.
"""

import argparse

import bench_common as bench
import numpy as np
from PIL import Image
from rodin_emulator.results import ResultOptions, build_files, load_model

DATA_KINDS = ("objects", "meshes", "materials", "images", "textures", "node_groups", "collections")


def datablocks(bpy) -> dict[str, set]:
    return {kind: set(getattr(bpy.data, kind)) for kind in DATA_KINDS}


def remove_new(bpy, before: dict[str, set]):
    """Remove every datablock made since ``before`` (outside the timings)."""
    for kind in DATA_KINDS:
        created = set(getattr(bpy.data, kind)) - before[kind]
        if created:
            bpy.data.batch_remove(created)


def bare_import(bpy, path):
    bpy.ops.import_scene.gltf(filepath=str(path))


def addon_apply(bpy):
    bpy.ops.rodin_texture.apply(apply_mode="NEW_OBJECT")


def textured(result) -> bool:
    material = result.data.materials[0]
    return any(node.type == "TEX_IMAGE" and node.image for node in material.node_tree.nodes)


def photo_like(size: int = 512) -> Image.Image:
    """A reference with detail at every scale, so that the result's maps compress like real
    ones (a smooth gradient would make unrealistically small PNGs)."""
    rng = np.random.default_rng(1)
    ramp = np.linspace(0, 255, size)
    base = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None], 128.0), axis=-1)
    noise = rng.normal(0, 24, (size, size, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def result_file(bpy, export, source, folder, image):
    """The GLB the emulator would send back for ``source``."""
    upload = export.export_geometry_glb(bpy.context, source, folder / "upload.glb", max_bytes=2**40)
    options = ResultOptions("glb", "PBR", "Basic", None, False, seed=1)
    files = build_files(load_model(upload.path.read_bytes()), image, options)
    path = folder / "base_basic_pbr.glb"
    path.write_bytes(files[path.name])
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--triangles", type=int, nargs="+", default=[1_000, 100_000])
    arguments = parser.parse_args()

    addon = bench.blender_with_addon()
    import bpy

    export = addon("blender.export")
    folder = bench.scratch_folder("bench-apply-")
    image = photo_like()
    rows = []
    for triangles in arguments.triangles:
        bpy.ops.wm.read_homefile(use_empty=True)
        source = bench.make_grid_object("Grid", triangles)
        path = result_file(bpy, export, source, folder, image)
        before = datablocks(bpy)
        bare_import(bpy, path)  # loads the importer
        remove_new(bpy, before)
        bare, ratios = [], []
        for run in range(arguments.runs):
            timings = {}
            steps = [("bare", bare_import, (bpy, path)), ("apply", addon_apply, (bpy,))]
            for name, step, step_arguments in steps[:: 1 if run % 2 else -1]:
                source.rodin_texture.model_path = str(path)
                bench.select_only(source)
                before = datablocks(bpy)
                timings[name], _ = bench.timed(step, *step_arguments)
                if name == "apply" and not textured(source.rodin_texture.result_object):
                    raise RuntimeError("the applied result has no texture")
                remove_new(bpy, before)
            bare.append(timings["bare"])
            ratios.append(timings["apply"] / timings["bare"])
        rows.append([
            f"{triangles:,}", bench.megabytes(path.stat().st_size),
            f"{bench.median(bare) * 1000:.0f} ms", f"{bench.median(ratios):.3f}",
            f"{min(ratios):.2f} to {max(ratios):.2f}",
        ])  # fmt: skip
    bench.print_table(
        f"Apply: time to the textured object / bare glTF import, median of {arguments.runs} runs",
        ["triangles", "result file", "bare import", "apply / import", "range"],
        rows,
    )


if __name__ == "__main__":
    main()
