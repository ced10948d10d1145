"""Which part of a joined mesh a point lies on, told by cells (no Blender)."""

import numpy as np

from rodin_texture_addon.geometry.parts import cell_owners


def grid(columns: int, offset, size=1.0):
    """A flat square of ``2 * columns ** 2`` triangles, (vertices, triangles), at ``offset``."""
    steps = np.linspace(0, size, columns + 1)
    x, y = np.meshgrid(steps, steps)
    vertices = np.stack([x.ravel(), y.ravel(), np.zeros(x.size)], axis=1) + offset
    corner = (np.arange(columns)[:, None] * (columns + 1) + np.arange(columns)).ravel()
    triangles = np.concatenate([
        np.stack([corner, corner + 1, corner + columns + 2], axis=1),
        np.stack([corner, corner + columns + 2, corner + columns + 1], axis=1),
    ])  # fmt: skip
    return vertices, triangles


def centres(vertices, triangles):
    return vertices[triangles].mean(axis=1)


def test_points_on_parts_apart_are_each_their_own_parts():
    parts = [grid(20, (0, 0, 0)), grid(30, (3, 0, 0)), grid(10, (0, 3, 1))]
    points = np.concatenate([centres(*part) for part in parts])
    expected = np.concatenate([np.full(len(p[1]), i) for i, p in enumerate(parts)])

    owners = cell_owners(points, [p[0] for p in parts], [p[1] for p in parts])

    assert (owners == expected).all()


def test_where_parts_touch_or_nothing_is_near_the_cells_do_not_tell():
    left, right = grid(20, (0, 0, 0)), grid(20, (1.0, 0, 0))  # they share an edge at x = 1
    points = np.array([[0.5, 0.5, 0.0], [1.0, 0.5, 0.0], [1.5, 0.5, 0.0], [0.5, 0.5, 0.6]])

    owners = cell_owners(points, [left[0], right[0]], [left[1], right[1]])

    assert owners.tolist() == [0, -1, 1, -1]


def test_a_result_remeshed_near_the_surface_is_still_told():
    """Rodin keeps the shape, not the triangles: points a little off the surface, between the
    parts' own vertices, fall in their part's cells."""
    parts = [grid(40, (0, 0, 0)), grid(40, (2, 0, 0))]
    rng = np.random.default_rng(5)
    points = np.concatenate([
        rng.uniform((0, 0, -0.005), (1, 1, 0.005), (500, 3)),
        rng.uniform((2, 0, -0.005), (3, 1, 0.005), (500, 3)),
    ])  # fmt: skip

    owners = cell_owners(points, [p[0] for p in parts], [p[1] for p in parts])

    told = owners >= 0
    assert told.mean() > 0.95
    assert (owners[:500][told[:500]] == 0).all() and (owners[500:][told[500:]] == 1).all()
