"""Simple Wavefront OBJ: read the geometry of an upload, write a textured result."""

import itertools

import numpy as np

from .glb import Mesh


class ObjError(ValueError):
    """The bytes are not an OBJ this module can read; the message says why."""


def read_obj(data: bytes) -> Mesh:
    """Vertices and faces (polygons fanned into triangles); everything else is ignored."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ObjError("not a text file") from None
    positions, triangles = [], []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        try:
            if words[:1] == ["v"]:
                positions.append([float(value) for value in words[1:4]])
            elif words[:1] == ["f"]:
                corners = [_vertex_index(word, len(positions)) for word in words[1:]]
                triangles += [[corners[0], a, b] for a, b in itertools.pairwise(corners[1:])]
        except (ValueError, IndexError):
            raise ObjError(f"line {number} is not valid OBJ: {line[:80]!r}") from None
    if not triangles:
        raise ObjError("no faces")
    mesh = Mesh(np.array(positions, dtype=np.float64), np.array(triangles, dtype=np.int64))
    if mesh.positions.shape[1:] != (3,) or not np.isfinite(mesh.positions).all():
        raise ObjError("vertices need three finite coordinates")
    return mesh


def _vertex_index(word: str, count: int) -> int:
    """The 0-based vertex of a face corner ``v``, ``v/vt``, ``v//vn`` or ``v/vt/vn``."""
    index = int(word.split("/")[0])
    resolved = index - 1 if index > 0 else count + index
    if not 0 <= resolved < count:
        raise IndexError(index)
    return resolved


def write_obj(positions, normals, uvs, indices, material_file: str) -> bytes:
    """A single-object OBJ using material ``material`` from ``material_file``.

    UVs are flipped vertically: OBJ's v runs up the image, glTF's runs down.
    """
    lines = [f"mtllib {material_file}", "o root.0"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in positions]
    lines += [f"vt {u:.6f} {1 - v:.6f}" for u, v in uvs]
    lines += [f"vn {x:.6f} {y:.6f} {z:.6f}" for x, y, z in normals]
    lines.append("usemtl material")
    lines += ["f " + " ".join(f"{i}/{i}/{i}" for i in triangle + 1) for triangle in indices]
    return ("\n".join(lines) + "\n").encode()
