"""A Blender mesh's data as numpy arrays, each read whole with one ``foreach_get``."""

import numpy as np


def read(collection, prop: str, width: int, dtype) -> np.ndarray:
    """``prop`` of every item of ``collection``: (n, width), or (n,) when ``width`` is 1."""
    values = np.empty(len(collection) * width, dtype=dtype)
    collection.foreach_get(prop, values)
    return values.reshape(-1, width) if width > 1 else values


def positions(mesh) -> np.ndarray:
    """The vertices' positions, (n, 3) float32 as Blender stores them: read from the position
    attribute (the vertex collection, or another type, would be copied item by item)."""
    return read(mesh.attributes["position"].data, "vector", 3, np.float32)


def triangle_corners(mesh):
    """The corners of ``mesh``'s triangles, three a triangle, and the vertex of each (read from
    the corner attribute: the loop collection would be copied item by item)."""
    mesh.calc_loop_triangles()
    corners = read(mesh.loop_triangles, "loops", 3, np.int32).ravel()
    return corners, read(mesh.attributes[".corner_vert"].data, "value", 1, np.int32)[corners]
