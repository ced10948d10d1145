"""Mesh → GLB for the upload: one object, modifiers applied, in world space, geometry only.

Runs on the main thread. Rodin only needs the shape, so materials, UVs, names and the rest stay
home: they would cost upload size and could leak what the user did not mean to send.

The GLB is written here with numpy rather than by Blender's glTF exporter: the file is the
smallest that carries the geometry (one vertex per distinct position and normal, 16-bit indices
when they fit, no names), and writing it holds the main thread for a fraction of the
exporter's time, without touching the scene, the selection or the mode.
"""

import contextlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..rodin import contract

MEGABYTE = 1024 * 1024
GLB_MAGIC, GLB_VERSION = 0x46546C67, 2
JSON_CHUNK, BINARY_CHUNK = 0x4E4F534A, 0x004E4942
FLOAT, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
# Blender is Z-up, glTF Y-up: Blender's (x, y, z) is glTF's (x, z, -y).
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


class ExportError(Exception):
    """Why an object cannot be uploaded, in words that tell the user what to do."""


@dataclass(frozen=True)
class ExportedModel:
    """What was written: the file for the upload, and its size and counts to show the user."""

    path: Path
    size_bytes: int
    triangle_count: int
    vertex_count: int
    bbox_min: tuple[float, float, float]
    bbox_max: tuple[float, float, float]


def export_geometry_glb(
    context, obj, path, *, max_bytes: int = contract.MAX_MODEL_BYTES
) -> ExportedModel:
    """Write ``obj`` alone to ``path`` as a geometry-only GLB in world space. Changes nothing in
    the scene (in Edit Mode, the edits are synced to the mesh first, as saving does)."""
    name = _check_exportable(obj)
    path = Path(path)
    if obj.mode == "EDIT":
        obj.update_from_editmode()
    evaluated = obj.evaluated_get(context.evaluated_depsgraph_get())
    mesh = evaluated.to_mesh()
    try:
        if not mesh.polygons and any(m.show_viewport for m in obj.modifiers):
            raise ExportError(
                f"{name} has no faces after its modifiers: Rodin textures surfaces, "
                "so give it faces or turn off the modifiers that remove them"
            )
        if not mesh.polygons:
            raise ExportError(f"{name} has no faces: Rodin textures surfaces, so give it faces")
        geometry = world_geometry(mesh, np.array(obj.matrix_world))
        vertex_count = len(mesh.vertices)
    finally:
        evaluated.to_mesh_clear()
    glb = GeometryGlb(*geometry)
    if glb.size > max_bytes:
        raise ExportError(
            f"{name} makes a {glb.size / MEGABYTE:.1f} MB upload, over Rodin's "
            f"{max_bytes / MEGABYTE:.0f} MB limit: add a Decimate modifier or reduce its "
            "subdivision levels, then try again"
        )
    try:
        glb.write(path)
    except OSError as error:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        raise ExportError(f"Blender could not export {name}: {error}") from error
    low, high = Z_UP_TO_Y_UP.T @ glb.minimum, Z_UP_TO_Y_UP.T @ glb.maximum
    return ExportedModel(
        path=path,
        size_bytes=glb.size,
        triangle_count=len(glb.indices) // 3,
        vertex_count=vertex_count,
        bbox_min=tuple(float(v) for v in np.minimum(low, high)),
        bbox_max=tuple(float(v) for v in np.maximum(low, high)),
    )


def world_geometry(mesh, matrix_world: np.ndarray):
    """(positions, normals, indices) of ``mesh``'s triangles in world space and glTF's axes:
    one vertex per distinct (mesh vertex, corner normal), so smooth surfaces share vertices
    and sharp edges split them, as a glTF mesh needs."""
    # Attributes are read whole; the vertex and loop collections would copy item by item.
    mesh.calc_loop_triangles()
    triangle_corners = _read(mesh.loop_triangles, "loops", 3, np.int32).ravel()
    corner_vertices = _read(mesh.attributes[".corner_vert"].data, "value", 1, np.int32)
    corner_vertices = corner_vertices[triangle_corners]
    corner_normals = _read(mesh.corner_normals, "vector", 3, np.float32)[triangle_corners]
    local_positions = _read(mesh.attributes["position"].data, "vector", 3, np.float32)
    # A corner whose normal is its vertex's usual one shares that vertex; the others (sharp
    # edges, custom normals) get a vertex per distinct (vertex, normal).
    usual_corner = np.zeros(len(local_positions), dtype=np.int64)
    usual_corner[corner_vertices] = np.arange(len(corner_vertices))
    usual = (corner_normals == corner_normals[usual_corner[corner_vertices]]).all(axis=1)
    keys = corner_vertices.astype(np.int64)
    split = np.flatnonzero(~usual)
    split_vertices, split_normals = np.empty(0, np.int64), np.empty((0, 3), np.float32)
    if len(split):
        rows = np.column_stack([corner_vertices[split], corner_normals[split].view(np.int32)])
        unique_rows, inverse = np.unique(rows, axis=0, return_inverse=True)
        keys[split] = len(local_positions) + inverse.ravel()
        split_vertices = unique_rows[:, 0].astype(np.int64)
        split_normals = unique_rows[:, 1:].copy().view(np.float32)
    used = np.zeros(len(local_positions) + len(split_vertices), dtype=bool)
    used[keys] = True
    new_index = np.cumsum(used) - 1
    key_vertices = np.concatenate([np.arange(len(local_positions)), split_vertices])[used]
    usual_normals = corner_normals[usual_corner]
    key_normals = np.concatenate([usual_normals, split_normals])[used]

    linear, translation = matrix_world[:3, :3], matrix_world[:3, 3]
    positions = local_positions[key_vertices] @ (Z_UP_TO_Y_UP @ linear).T
    positions += Z_UP_TO_Y_UP @ translation
    # Normals go through the inverse transpose; a mirroring matrix also turns the winding.
    normals = key_normals @ (Z_UP_TO_Y_UP @ np.linalg.pinv(linear).T).T
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, lengths, out=np.tile([0.0, 1.0, 0.0], (len(normals), 1)),
                        where=lengths > 0)  # fmt: skip
    triangles = new_index[keys].reshape(-1, 3)
    if np.linalg.det(linear) < 0:
        triangles = triangles[:, ::-1]
    return positions.astype(np.float32), normals.astype(np.float32), triangles.ravel()


class GeometryGlb:
    """The smallest GLB holding an indexed triangle list with normals, laid out as Blender's
    exporter lays it out (a buffer view each for positions, normals and indices, which every
    reader takes), with no names, materials or extras."""

    def __init__(self, positions: np.ndarray, normals: np.ndarray, indices: np.ndarray):
        count = len(positions)
        # The largest value of the index type is reserved (primitive restart).
        wide = count >= np.iinfo(np.uint16).max
        self.indices = indices.astype(np.uint32 if wide else np.uint16)
        self.vertices = np.concatenate([positions, normals])
        # Column by column: numpy's reduction over the first axis of (n, 3) is far slower.
        self.minimum = np.array([column.min() for column in positions.T])
        self.maximum = np.array([column.max() for column in positions.T])
        vertex_bytes, index_bytes = self.vertices.nbytes, self.indices.nbytes
        self.padding = b"\0" * (-index_bytes % 4)
        binary_length = vertex_bytes + index_bytes + len(self.padding)
        gltf = {
            "asset": {"version": "2.0"},
            "buffers": [{"byteLength": binary_length}],
            "bufferViews": [
                {"buffer": 0, "byteLength": vertex_bytes // 2, "target": ARRAY_BUFFER},
                {"buffer": 0, "byteOffset": vertex_bytes // 2, "byteLength": vertex_bytes // 2,
                 "target": ARRAY_BUFFER},
                {"buffer": 0, "byteOffset": vertex_bytes, "byteLength": index_bytes,
                 "target": ELEMENT_ARRAY_BUFFER},
            ],
            "accessors": [
                {"bufferView": 0, "componentType": FLOAT, "count": count, "type": "VEC3",
                 "min": _shortest(self.minimum), "max": _shortest(self.maximum)},
                {"bufferView": 1, "componentType": FLOAT, "count": count, "type": "VEC3"},
                {"bufferView": 2, "componentType": UNSIGNED_INT if wide else UNSIGNED_SHORT,
                 "count": len(self.indices), "type": "SCALAR"},
            ],
            "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1},
                                        "indices": 2}]}],
            "nodes": [{"mesh": 0}],
            "scenes": [{"nodes": [0]}],
            "scene": 0,
        }  # fmt: skip
        text = json.dumps(gltf, separators=(",", ":")).encode()
        self.json = text + b" " * (-len(text) % 4)
        self.size = 12 + 8 + len(self.json) + 8 + binary_length

    def write(self, path: Path):
        with path.open("wb") as file:
            file.write(struct.pack("<III", GLB_MAGIC, GLB_VERSION, self.size))
            file.write(struct.pack("<II", len(self.json), JSON_CHUNK))
            file.write(self.json)
            binary_length = self.vertices.nbytes + self.indices.nbytes + len(self.padding)
            file.write(struct.pack("<II", binary_length, BINARY_CHUNK))
            file.write(self.vertices.data)
            file.write(self.indices.data)
            file.write(self.padding)


def _check_exportable(obj) -> str:
    """The object's name, or an ExportError saying why it cannot be sent."""
    try:
        name, kind = obj.name, obj.type
    except (AttributeError, ReferenceError):
        raise ExportError("The object to texture no longer exists: select a mesh") from None
    if kind != "MESH":
        raise ExportError(
            f"{name} is {kind_of(obj)}, not a mesh: convert it to a mesh or select a mesh object"
        )
    return name


# Blender's object types as a sentence names them.
KINDS = {
    "CURVE": "a curve", "SURFACE": "a surface", "META": "a metaball", "FONT": "a text object",
    "CURVES": "a hair curves object", "POINTCLOUD": "a point cloud", "VOLUME": "a volume",
    "GPENCIL": "a Grease Pencil object", "GREASEPENCIL": "a Grease Pencil object",
    "ARMATURE": "an armature", "LATTICE": "a lattice", "EMPTY": "an empty", "LIGHT": "a light",
    "LIGHT_PROBE": "a light probe", "CAMERA": "a camera", "SPEAKER": "a speaker",
}  # fmt: skip


def kind_of(obj) -> str:
    """What the object is, with its article ("an empty", "a text object")."""
    return KINDS.get(obj.type, "an object of another kind")


def _read(collection, attribute: str, width: int, dtype) -> np.ndarray:
    values = np.empty(len(collection) * width, dtype=dtype)
    collection.foreach_get(attribute, values)
    return values.reshape(-1, width) if width > 1 else values


def _shortest(values: np.ndarray) -> list[float]:
    """Each float32 value in the fewest digits that read back as the same float32."""
    return [float(np.format_float_positional(value, unique=True)) for value in values]
