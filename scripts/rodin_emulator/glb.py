"""Minimal binary glTF (GLB) reading and writing with numpy, json and struct.

Reads what the emulator needs from an upload (triangle geometry with node transforms applied)
and writes the result models. Also makes small test meshes, so tests need no Blender.
"""

import json
import struct
from typing import NamedTuple

import numpy as np

GLB_MAGIC = b"glTF"
JSON_CHUNK = 0x4E4F534A
BIN_CHUNK = 0x004E4942
TRIANGLES = 4
ARRAY_BUFFER = 34962
ELEMENT_ARRAY_BUFFER = 34963
COMPONENT_TYPES = {
    5120: np.int8,
    5121: np.uint8,
    5122: np.int16,
    5123: np.uint16,
    5125: np.uint32,
    5126: np.float32,
}
COMPONENT_CODES = {np.dtype(dtype): code for code, dtype in COMPONENT_TYPES.items()}
TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


class Mesh(NamedTuple):
    """Triangles: positions (n, 3) float64 and indices (m, 3) int64."""

    positions: np.ndarray
    indices: np.ndarray


class GlbError(ValueError):
    """The bytes are not a GLB this module can read; the message says why."""


# ---------------------------------------------------------------------------------------------
# Reading


def split_glb(data: bytes) -> tuple[dict, bytes]:
    """The JSON document and the binary chunk (empty when absent) of a GLB file."""
    if len(data) < 20 or data[:4] != GLB_MAGIC:
        raise GlbError("not a binary glTF file (no 'glTF' header)")
    version, length = struct.unpack_from("<II", data, 4)
    if version != 2:
        raise GlbError(f"glTF version {version}, expected 2")
    if length > len(data):
        raise GlbError("the file is shorter than its header says")
    document, binary, offset = None, b"", 12
    while offset + 8 <= length:
        chunk_length, chunk_type = struct.unpack_from("<II", data, offset)
        chunk = data[offset + 8 : offset + 8 + chunk_length]
        if len(chunk) != chunk_length:
            raise GlbError("a chunk runs past the end of the file")
        if chunk_type == JSON_CHUNK and document is None:
            try:
                document = json.loads(chunk)
            except ValueError as exc:
                raise GlbError(f"the JSON chunk is not valid JSON ({exc})") from None
        elif chunk_type == BIN_CHUNK and not binary:
            binary = chunk
        offset += 8 + chunk_length
    if not isinstance(document, dict):
        raise GlbError("no JSON chunk")
    return document, binary


def read_mesh(data: bytes) -> Mesh:
    """All triangles of the default scene, in world space (node transforms applied)."""
    document, binary = split_glb(data)
    try:
        return _scene_mesh(document, binary)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise GlbError(f"unreadable glTF structure ({type(exc).__name__}: {exc})") from None


def _scene_mesh(document: dict, binary: bytes) -> Mesh:
    nodes = document.get("nodes", [])
    scenes = document.get("scenes")
    if scenes:
        roots = scenes[document.get("scene", 0)].get("nodes", [])
    else:
        children = {child for node in nodes for child in node.get("children", [])}
        roots = [index for index in range(len(nodes)) if index not in children]
    positions, indices, count = [], [], 0
    stack = [(root, np.eye(4)) for root in roots]
    while stack:
        index, parent = stack.pop()
        node = nodes[index]
        world = parent @ _local_matrix(node)
        stack.extend((child, world) for child in node.get("children", []))
        if "mesh" not in node:
            continue
        for primitive in document["meshes"][node["mesh"]]["primitives"]:
            if primitive.get("mode", TRIANGLES) != TRIANGLES:
                continue
            if "extensions" in primitive:
                raise GlbError(
                    f"compressed primitives are not supported: {primitive['extensions']}"
                )
            points = read_accessor(document, binary, primitive["attributes"]["POSITION"])
            if points.dtype != np.float32 or points.shape[1:] != (3,):
                raise GlbError("POSITION must be float VEC3")
            if "indices" in primitive:
                corners = read_accessor(document, binary, primitive["indices"]).astype(np.int64)
            else:
                corners = np.arange(len(points), dtype=np.int64)
            if len(corners) % 3 or (len(corners) and corners.max() >= len(points)):
                raise GlbError("triangle indices are out of range or incomplete")
            homogeneous = np.c_[points.astype(np.float64), np.ones(len(points))]
            positions.append((homogeneous @ world.T)[:, :3])
            indices.append(corners.reshape(-1, 3) + count)
            count += len(points)
    if not indices or not sum(len(part) for part in indices):
        raise GlbError("the model has no triangles")
    return Mesh(np.concatenate(positions), np.concatenate(indices))


def _local_matrix(node: dict) -> np.ndarray:
    """A node's transform: its column-major ``matrix``, or translation @ rotation @ scale."""
    if "matrix" in node:
        return np.array(node["matrix"], dtype=np.float64).reshape(4, 4).T
    x, y, z, w = node.get("rotation", (0.0, 0.0, 0.0, 1.0))
    rotation = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    matrix = np.eye(4)
    matrix[:3, :3] = rotation * np.array(node.get("scale", (1.0, 1.0, 1.0)))
    matrix[:3, 3] = node.get("translation", (0.0, 0.0, 0.0))
    return matrix


def read_accessor(document: dict, binary: bytes, index: int) -> np.ndarray:
    """An accessor's elements as an (count, components) array, or (count,) for scalars."""
    accessor = document["accessors"][index]
    if "sparse" in accessor or "bufferView" not in accessor:
        raise GlbError("sparse or buffer-less accessors are not supported")
    view = document["bufferViews"][accessor["bufferView"]]
    if view.get("buffer", 0) != 0:
        raise GlbError("only the GLB's own binary chunk is supported")
    dtype = np.dtype(COMPONENT_TYPES[accessor["componentType"]])
    components = TYPE_SIZES[accessor["type"]]
    count = accessor["count"]
    stride = view.get("byteStride") or dtype.itemsize * components
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    needed = start + stride * (count - 1) + dtype.itemsize * components if count else start
    if needed > min(len(binary), view.get("byteOffset", 0) + view["byteLength"]):
        raise GlbError(f"accessor {index} reads past its buffer view")
    rows = np.lib.stride_tricks.as_strided(
        np.frombuffer(binary, dtype=np.uint8, count=needed - start, offset=start),
        shape=(count, dtype.itemsize * components),
        strides=(stride, 1),
    )
    values = np.ascontiguousarray(rows).view(dtype).reshape(count, components)
    return values[:, 0] if components == 1 else values


# ---------------------------------------------------------------------------------------------
# Writing


class GlbWriter:
    """Collects binary data as buffer views and accessors, then packs a GLB."""

    def __init__(self, document: dict):
        self.document = document
        self._binary = bytearray()

    def _view(self, data: bytes, target: int | None = None) -> int:
        self._binary.extend(b"\0" * (-len(self._binary) % 4))
        view = {"buffer": 0, "byteOffset": len(self._binary), "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self._binary.extend(data)
        views = self.document.setdefault("bufferViews", [])
        views.append(view)
        return len(views) - 1

    def accessor(self, values: np.ndarray, kind: str, *, bounds: bool = False) -> int:
        """Add an array as an accessor of type ``kind`` (SCALAR for indices); its index."""
        values = np.ascontiguousarray(values)
        target = ELEMENT_ARRAY_BUFFER if kind == "SCALAR" else ARRAY_BUFFER
        accessor = {
            "bufferView": self._view(values.tobytes(), target),
            "componentType": COMPONENT_CODES[values.dtype],
            "count": len(values),
            "type": kind,
        }
        if bounds:
            accessor["min"] = values.min(axis=0).tolist()
            accessor["max"] = values.max(axis=0).tolist()
        accessors = self.document.setdefault("accessors", [])
        accessors.append(accessor)
        return len(accessors) - 1

    def image(self, data: bytes, mime_type: str) -> int:
        """Add an embedded image; its index."""
        images = self.document.setdefault("images", [])
        images.append({"bufferView": self._view(data), "mimeType": mime_type})
        return len(images) - 1

    def to_bytes(self) -> bytes:
        if self._binary:
            self.document["buffers"] = [{"byteLength": len(self._binary)}]
        text = json.dumps(self.document, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 4)
        binary = bytes(self._binary) + b"\0" * (-len(self._binary) % 4)
        chunks = struct.pack("<II", len(text), JSON_CHUNK) + text
        if binary:
            chunks += struct.pack("<II", len(binary), BIN_CHUNK) + binary
        return GLB_MAGIC + struct.pack("<II", 2, 12 + len(chunks)) + chunks


def index_array(indices: np.ndarray, vertex_count: int) -> np.ndarray:
    """Flat triangle indices in the smallest unsigned type that holds them."""
    dtype = np.uint16 if vertex_count <= 65535 else np.uint32
    return np.asarray(indices).reshape(-1).astype(dtype)


def mesh_glb(positions, indices, **node) -> bytes:
    """A GLB of one untextured mesh; ``node`` adds node properties (e.g. scale, rotation)."""
    positions = np.asarray(positions, dtype=np.float32)
    writer = GlbWriter(
        {
            "asset": {"version": "2.0", "generator": "rodin_emulator test mesh"},
            "scene": 0,
            "scenes": [{"nodes": [0]}],
            "nodes": [{"name": "mesh", "mesh": 0, **node}],
        }
    )
    primitive = {
        "attributes": {"POSITION": writer.accessor(positions, "VEC3", bounds=True)},
        "indices": writer.accessor(index_array(indices, len(positions)), "SCALAR"),
    }
    writer.document["meshes"] = [{"name": "mesh", "primitives": [primitive]}]
    return writer.to_bytes()


CUBE_POSITIONS = np.array(
    [[x, y, z] for x in (-1.0, 1.0) for y in (-1.0, 1.0) for z in (-1.0, 1.0)]
)
# Two counter-clockwise triangles per face, seen from outside; vertex i has bits (x, y, z).
CUBE_INDICES = np.array(
    [
        [0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5],  # -X, +X
        [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6],  # -Y, +Y
        [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3],  # -Z, +Z
    ]
)  # fmt: skip


def cube_glb(**node) -> bytes:
    """A GLB of a 2×2×2 cube with 8 shared vertices (so a re-indexed result has more)."""
    return mesh_glb(CUBE_POSITIONS, CUBE_INDICES, **node)
