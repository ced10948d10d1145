"""The smallest GLB that carries a triangle mesh's geometry (positions, normals, indices), and
nothing else: no names, materials or extras. No bpy: the exporter writes it on the main thread,
the proxy builder on a worker thread."""

import json
import struct
from pathlib import Path

import numpy as np

GLB_MAGIC, GLB_VERSION = 0x46546C67, 2
JSON_CHUNK, BINARY_CHUNK = 0x4E4F534A, 0x004E4942
FLOAT, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


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


def _shortest(values: np.ndarray) -> list[float]:
    """Each float32 value in the fewest digits that read back as the same float32."""
    return [float(np.format_float_positional(value, unique=True)) for value in values]
