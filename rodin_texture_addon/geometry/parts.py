"""Which part of a joined mesh a point lies on (Texture Together cuts its result so), without
Blender."""

import numpy as np


def cell_owners(points, positions, triangles) -> np.ndarray:
    """For each of ``points`` (on the surface of the parts, or near it), the index of the part
    it lies on, told by cells about two of the parts' edges wide: a point whose cell holds
    points of one part only (its vertices and triangle centres) is that part's; -1 where the
    cell does not tell (it holds several parts, where they touch, or none). ``positions`` and
    ``triangles`` are each part's vertices and their indices, in the space of ``points``."""
    samples = [np.concatenate([vertices, vertices[corners].mean(axis=1)])
               for vertices, corners in zip(positions, triangles, strict=True)]  # fmt: skip
    labels = np.concatenate([np.full(len(s), index) for index, s in enumerate(samples)])
    samples = np.concatenate(samples)
    low, high = samples.min(axis=0), samples.max(axis=0)
    pairs = zip(positions, triangles, strict=True)
    edges = np.concatenate([np.linalg.norm(v[c[:, 1]] - v[c[:, 0]], axis=1) for v, c in pairs])
    cell = max(2 * float(np.median(edges)), float(np.linalg.norm(high - low)) / 200_000, 1e-12)
    # Half a cell more than a margin: flat faces on the parts' box (as they often are) lie in
    # the middle of their cells, so that the points a little off them are told too.
    low = low - 1.5 * cell
    cells = np.floor((high - low) / cell).astype(np.int64) + 3

    def keys(at):
        """Each point's cell, and whether it is inside the cells' box."""
        index = np.floor((at - low) / cell).astype(np.int64)
        inside = ((index >= 0) & (index < cells)).all(axis=1)
        return (index[:, 0] * cells[1] + index[:, 1]) * cells[2] + index[:, 2], inside

    sample_keys, _ = keys(samples)
    order = np.argsort(sample_keys, kind="stable")
    sample_keys, labels = sample_keys[order], labels[order]
    unique, starts = np.unique(sample_keys, return_index=True)
    lowest, highest = np.minimum.reduceat(labels, starts), np.maximum.reduceat(labels, starts)
    cell_owner = np.where(lowest == highest, lowest, -1)
    point_keys, inside = keys(points)
    found = np.minimum(np.searchsorted(unique, point_keys), len(unique) - 1)
    known = inside & (unique[found] == point_keys)
    return np.where(known, cell_owner[found], -1)
