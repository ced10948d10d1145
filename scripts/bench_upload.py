"""Upload size: the add-on's upload against the smallest GLB carrying the same geometry.

    .venv/bin/python scripts/bench_upload.py

For meshes of 1k, 100k and 1M triangles (a smooth grid with UVs and a material, transformed),
writes the upload with the add-on's exporter and, independently with numpy, the smallest GLB
that carries the same geometry (world-space positions and normals of each distinct corner,
indices of the narrowest type, the shortest JSON a valid file can have), checks both with the
Khronos validator and lists what the upload holds besides geometry. Then measures what Draco
(Blender's exporter) and meshopt (gltfpack, installed from npm by ``scripts/setup-env``) would
save.
"""

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import bench_common as bench
import numpy as np

sys.path.insert(0, str(bench.REPO / "tests"))
from gltf_validator import validate  # (tests/ is put on the path just above)

GLB_MAGIC, JSON_CHUNK, BIN_CHUNK = 0x46546C67, 0x4E4F534A, 0x004E4942
GEOMETRY_KEYS = {"asset", "buffers", "bufferViews", "accessors", "meshes", "nodes", "scenes"}
GEOMETRY_ATTRIBUTES = {"POSITION", "NORMAL"}


def world_geometry(obj):
    """(positions, normals, indices) of ``obj`` as a glTF file must carry them: one vertex per
    distinct (position, normal) corner, in world space and glTF's Y-up axes."""
    import bpy

    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        mesh.calc_loop_triangles()
        corners = np.empty(len(mesh.loop_triangles) * 3, dtype=np.int32)
        mesh.loop_triangles.foreach_get("loops", corners)
        loop_vertices = np.empty(len(mesh.loops), dtype=np.int32)
        mesh.loops.foreach_get("vertex_index", loop_vertices)
        coordinates = np.empty(len(mesh.vertices) * 3, dtype=np.float64)
        mesh.vertices.foreach_get("co", coordinates)
        corner_normals = np.empty(len(mesh.corner_normals) * 3, dtype=np.float64)
        mesh.corner_normals.foreach_get("vector", corner_normals)
    finally:
        evaluated.to_mesh_clear()
    matrix = np.array(obj.matrix_world)
    linear = matrix[:3, :3]
    points = coordinates.reshape(-1, 3)[loop_vertices[corners]] @ linear.T + matrix[:3, 3]
    normals = corner_normals.reshape(-1, 3)[corners] @ np.linalg.inv(linear)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    to_gltf = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=np.float64)  # Z-up to Y-up
    corner_data = np.hstack([points @ to_gltf.T, normals @ to_gltf.T]).astype(np.float32)
    unique, indices = np.unique(corner_data, axis=0, return_inverse=True)
    return unique[:, :3], unique[:, 3:], indices.ravel()


def smallest_glb(positions, normals, indices) -> bytes:
    """The smallest valid GLB holding this indexed triangle list with normals."""
    index_type = next(
        (code, dtype)
        for code, dtype in ((5121, np.uint8), (5123, np.uint16), (5125, np.uint32))
        if len(positions) <= np.iinfo(dtype).max  # the largest value is reserved
    )
    vertex_bytes = positions.astype(np.float32).tobytes() + normals.astype(np.float32).tobytes()
    index_bytes = indices.astype(index_type[1]).tobytes()
    binary = vertex_bytes + index_bytes + b"\0" * (-len(index_bytes) % 4)
    shortest = [[float(np.format_float_positional(value, unique=True)) for value in values]
                for values in (positions.min(axis=0), positions.max(axis=0))]  # fmt: skip
    count = len(positions)
    gltf = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteLength": len(vertex_bytes), "byteStride": 12, "target": 34962},
            {
                "buffer": 0,
                "byteOffset": len(vertex_bytes),
                "byteLength": len(index_bytes),
                "target": 34963,
            },
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": count,
                "type": "VEC3",
                "min": shortest[0],
                "max": shortest[1],
            },
            {
                "bufferView": 0,
                "byteOffset": 12 * count,
                "componentType": 5126,
                "count": count,
                "type": "VEC3",
            },
            {
                "bufferView": 1,
                "componentType": index_type[0],
                "count": len(indices),
                "type": "SCALAR",
            },
        ],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2}]}],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
    }
    text = json.dumps(gltf, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<II", len(text), JSON_CHUNK) + text
    body += struct.pack("<II", len(binary), BIN_CHUNK) + binary
    return struct.pack("<III", GLB_MAGIC, 2, 12 + len(body)) + body


def glb_json(path: Path) -> dict:
    data = path.read_bytes()
    (length,) = struct.unpack_from("<I", data, 12)
    return json.loads(data[20 : 20 + length])


def non_geometry(gltf: dict) -> list[str]:
    """What a GLB holds besides positions, normals and indices (names count: they are the
    user's words, not geometry)."""
    found = [f"top-level {key}" for key in sorted(set(gltf) - GEOMETRY_KEYS - {"scene"})]
    for mesh in gltf.get("meshes", []):
        for primitive in mesh["primitives"]:
            found += [f"attribute {a}" for a in set(primitive["attributes"]) - GEOMETRY_ATTRIBUTES]
            found += ["material"] * ("material" in primitive)
    for kind in ("scenes", "nodes", "meshes"):
        found += [f"{kind} name {item['name']!r}" for item in gltf.get(kind, []) if "name" in item]
    found += [f"{kind[:-1]} extras" for kind in gltf if isinstance(gltf[kind], list)
              for item in gltf[kind] if isinstance(item, dict) and "extras" in item]  # fmt: skip
    return found


def gltfpack_command() -> list[str] | None:
    local = bench.REPO / "node_modules" / "gltfpack" / "cli.js"
    if local.is_file():
        return ["node", str(local)]
    found = shutil.which("gltfpack")
    return [found] if found else None


def meshopt_size(gltfpack, source: Path, *options: str) -> int:
    target = source.with_name(f"{source.stem}-meshopt{''.join(options)}.glb")
    subprocess.run([*gltfpack, "-i", str(source), "-o", str(target), *options], check=True,
                   capture_output=True)  # fmt: skip
    return target.stat().st_size


def errors(path: Path) -> int:
    return validate(path)["issues"]["numErrors"]


def main():
    addon = bench.blender_with_addon()
    import bpy

    export = addon("blender.export")
    folder = bench.scratch_folder("bench-upload-")
    gltfpack = gltfpack_command()
    sizes, contents, compression = [], [], []
    for triangles in bench.TRIANGLE_COUNTS:
        bpy.ops.wm.read_homefile(use_empty=True)
        obj = bench.make_grid_object(f"Grid{triangles}", triangles)
        upload = folder / f"upload-{triangles}.glb"
        model = export.export_geometry_glb(bpy.context, obj, upload, max_bytes=2**40)
        smallest = folder / f"smallest-{triangles}.glb"
        positions, normals, indices = world_geometry(obj)
        smallest.write_bytes(smallest_glb(positions, normals, indices))
        upload_json = glb_json(upload)
        sizes.append([
            f"{triangles:,}",
            f"{model.size_bytes:,}",
            f"{smallest.stat().st_size:,}",
            f"{model.size_bytes / smallest.stat().st_size:.4f}",
            f"{upload_json['accessors'][0]['count']:,} / {len(positions):,}",
            f"{errors(upload)} / {errors(smallest)}",
            "yes" if model.size_bytes <= 10 * 2**20 else "NO (over 10 MB)",
        ])  # fmt: skip
        contents.append([f"{triangles:,}", "; ".join(non_geometry(upload_json)) or "nothing"])

        draco = bench.blender_export(
            obj, folder / f"draco-{triangles}.glb", export_draco_mesh_compression_enable=True
        )
        row = [f"{triangles:,}", f"{model.size_bytes:,}",
               f"{draco:,} ({model.size_bytes / draco:.1f}x)"]  # fmt: skip
        if gltfpack:
            lossless = meshopt_size(gltfpack, upload, "-c", "-noq")
            quantized = meshopt_size(gltfpack, upload, "-cc")
            row += [f"{lossless:,} ({model.size_bytes / lossless:.1f}x)",
                    f"{quantized:,} ({model.size_bytes / quantized:.1f}x)"]  # fmt: skip
        else:
            row += ["gltfpack not installed"] * 2
        compression.append(row)

    bench.print_table(
        "Upload size: the add-on's GLB against the smallest GLB of the same geometry",
        ["triangles", "upload bytes", "smallest bytes", "ratio", "vertices (upload / smallest)",
         "validator errors", "within 10 MB"],
        sizes,
    )  # fmt: skip
    bench.print_table("What the upload holds besides geometry", ["triangles", "found"], contents)
    bench.print_table(
        "Compression the service is not documented to accept (measured, not used)",
        ["triangles", "upload bytes", "Draco (Blender, 14-bit positions)",
         "meshopt, float attributes (gltfpack -c -noq)", "meshopt + quantized (gltfpack -cc)"],
        compression,
    )  # fmt: skip


if __name__ == "__main__":
    main()
