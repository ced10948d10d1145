"""Upload proxies: a simplified copy of a mesh too big for Rodin's model limit, and how far it
strays from the mesh. Plain numpy, no bpy: it runs on a worker thread, from arrays read on the
main thread.

The simplification is quadric-error vertex clustering (Lindstrom, "Out-of-core simplification
of large polygonal models", 2000): the mesh's bounding box is cut into a grid of cubic cells,
every vertex in a cell becomes one vertex, placed where the planes of the triangles around it
meet best (the point that minimises the sum of their squared distances), and the triangles
whose corners fall in three cells are kept. It takes any triangle soup (scans, unmerged STL
parts), keeps the silhouette to a fraction of a cell, and runs in a few passes over the arrays,
in chunks, so its memory is a few times the mesh's. The cell size is searched for so that the
proxy's GLB fills the budget it is given.
"""

from dataclasses import dataclass

import numpy as np

from . import glb

CHUNK = 1 << 20  # triangles or vertices per pass: bounds the temporary arrays
# A proxy fills at most this share of the budget: the written file differs by its header.
SIZE_MARGIN = 0.97
MAX_SEARCH_STEPS = 8
# How much of the mesh the deviation is measured on, and how many proxy triangles around each
# sample's own vertex are tried.
DEVIATION_SAMPLES = 400_000
NEAREST_FAN = 12
# The bake onto the original finds the result only this close to the original's surface (a
# share of its bounding box's diagonal; the bake's cage is 0.3 %, its rays reach 1 %), and at
# most this share of the surface may lie farther off or be lost in the proxy.
REACH = 0.003
MAX_UNREACHED = 0.02


class ProxyError(ValueError):
    """Why no proxy under the limit can stand for the mesh, in words for the user."""


@dataclass(frozen=True)
class Deviation:
    """How far the proxy strays from the mesh, as shares of the mesh's bounding-box diagonal:
    the area-weighted mean and the worst of the distances from the mesh's surface (its
    vertices, sampled) to the proxy's, the worst from the proxy's vertices back to the
    mesh's, and the share of the mesh's surface farther than ``REACH`` from the proxy (or in
    parts the proxy lost)."""

    mean: float
    worst: float
    worst_back: float
    unreached: float

    @property
    def hausdorff(self) -> float:
        """The symmetric worst case of the two directions measured."""
        return max(self.worst, self.worst_back)


@dataclass(frozen=True)
class Proxy:
    """The simplified mesh (positions, smooth normals, triangles) and what it cost."""

    positions: np.ndarray
    normals: np.ndarray
    triangles: np.ndarray
    source_triangles: int
    cell_size: float
    deviation: Deviation

    @property
    def triangle_count(self) -> int:
        return len(self.triangles)

    def glb(self) -> glb.GeometryGlb:
        return glb.GeometryGlb(self.positions, self.normals, self.triangles.ravel())


def glb_bytes(vertex_count: int, triangle_count: int) -> int:
    """The size of the geometry GLB of a mesh of these counts, one vertex each (a smooth mesh,
    as a proxy is; sharp edges add vertices), its JSON taken as at most 1 KB."""
    index_bytes = 2 if vertex_count < np.iinfo(np.uint16).max else 4
    return 1024 + 24 * vertex_count + 3 * index_bytes * triangle_count


def likely_triangles(max_bytes: int) -> int:
    """About how many triangles a proxy of ``max_bytes`` has (a smooth proxy has half as many
    vertices as triangles: 24 bytes a triangle; the search fills 85 to 100 % of the budget)."""
    return int(max_bytes * SIZE_MARGIN * 0.93 / 24)


def build(positions, triangles, max_bytes: int) -> Proxy:
    """The proxy of the mesh (``positions`` (n, 3) and ``triangles`` (m, 3) vertex indices,
    in any consistent space) whose GLB is at most ``max_bytes``, as detailed as fits. Raises
    ProxyError when even that cannot stand for the mesh."""
    positions = np.asarray(positions, dtype=np.float64)
    triangles = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    low, high = positions.min(axis=0), positions.max(axis=0)
    diagonal = float(np.linalg.norm(high - low))
    if not diagonal > 0 or not len(triangles):
        raise ProxyError("it has no surface to simplify")
    areas = _triangle_areas(positions, triangles)
    budget = max_bytes * SIZE_MARGIN
    # A surface of area A cut by cells of size h meets about A / h² cells, and its proxy has
    # about twice as many triangles, each with half a vertex: 48 bytes a cell (uint32 indices).
    cell = float(np.sqrt(areas.sum() * 48 / budget)) or diagonal / 1000
    best = None
    for _ in range(MAX_SEARCH_STEPS):
        clusters = _clusters(positions, low, cell)
        kept, used = _kept_triangles(clusters, triangles)
        size = glb_bytes(len(used), len(kept))
        if size <= budget:
            best = (cell, clusters, kept, used)
            if size > 0.85 * budget:
                break
        # The size goes as 1 / h²; aim a little under the budget.
        cell *= float(np.sqrt(size / (0.93 * budget))) if size else 0.5
    if best is None:
        raise ProxyError("no proxy of it fits the limit")
    cell, clusters, kept, used = best
    places = _cluster_positions(positions, triangles, areas, clusters, low, cell)
    remap = np.full(clusters.max() + 1, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    proxy_positions = places[used]
    proxy_triangles = remap[kept]
    deviation = measure(positions, triangles, areas, clusters, remap, proxy_positions,
                        proxy_triangles, diagonal)  # fmt: skip
    if deviation.unreached > MAX_UNREACHED:
        raise ProxyError(
            f"the proxy that fits would lose or move {deviation.unreached:.0%} of its surface "
            "out of the bake's reach (scattered or very fine parts simplify badly)"
        )
    return Proxy(
        positions=proxy_positions.astype(np.float32),
        normals=_smooth_normals(proxy_positions, proxy_triangles),
        triangles=proxy_triangles.astype(np.uint32),
        source_triangles=len(triangles),
        cell_size=cell,
        deviation=deviation,
    )


def _triangle_areas(positions, triangles) -> np.ndarray:
    areas = np.empty(len(triangles))
    for start in range(0, len(triangles), CHUNK):
        corners = positions[triangles[start : start + CHUNK]]
        cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        areas[start : start + CHUNK] = 0.5 * np.sqrt((cross * cross).sum(axis=1))
    return areas


def _clusters(positions, low, cell: float) -> np.ndarray:
    """The cluster (a dense number) of each vertex: the grid cell it falls in."""
    keys = np.empty(len(positions), dtype=np.int64)
    span = np.floor((positions.max(axis=0) - low) / cell).astype(np.int64) + 1
    for start in range(0, len(positions), CHUNK):
        cells = np.floor((positions[start : start + CHUNK] - low) / cell).astype(np.int64)
        keys[start : start + CHUNK] = (cells[:, 2] * span[1] + cells[:, 1]) * span[0] + cells[:, 0]
    return np.unique(keys, return_inverse=True)[1].ravel()


def _kept_triangles(clusters, triangles):
    """The triangles between three clusters, once each (as clusters), and the clusters used."""
    kept = []
    for start in range(0, len(triangles), CHUNK):
        corners = clusters[triangles[start : start + CHUNK]]
        distinct = (
            (corners[:, 0] != corners[:, 1])
            & (corners[:, 1] != corners[:, 2])
            & (corners[:, 0] != corners[:, 2])
        )
        kept.append(corners[distinct])
    kept = np.concatenate(kept)
    # One triangle per three clusters, whichever way it turns (two faces of a thin sheet
    # collapse into one).
    order = np.sort(kept, axis=1)
    _, first = np.unique(order, axis=0, return_index=True)
    kept = kept[np.sort(first)]
    return kept, np.unique(kept)


def _cluster_positions(positions, triangles, areas, clusters, low, cell):
    """Each cluster's vertex: the point nearest, in the squared-distance sense, to the planes
    of its triangles (pulled a little towards its vertices' mean, which decides where the
    planes leave it free), kept inside its cell's neighbourhood."""
    count = int(clusters.max()) + 1
    sums = [np.bincount(clusters, weights=positions[:, axis], minlength=count) for axis in range(3)]
    members = np.bincount(clusters, minlength=count)
    mean = np.column_stack(sums) / members[:, None]
    quadric = np.zeros((count, 9))  # xx yy zz xy xz yz, then the plane offsets' terms
    for start in range(0, len(triangles), CHUNK):
        block = triangles[start : start + CHUNK]
        corners = positions[block]
        normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        length = np.sqrt((normal * normal).sum(axis=1))
        unit = np.divide(normal, length[:, None], out=np.zeros_like(normal),
                         where=length[:, None] > 0)  # fmt: skip
        offset = -(unit * corners[:, 0]).sum(axis=1)
        weight = areas[start : start + CHUNK]
        x, y, z = unit.T
        terms = [x * x, y * y, z * z, x * y, x * z, y * z, x * offset, y * offset, z * offset]
        for corner in range(3):
            owner = clusters[block[:, corner]]
            for index, term in enumerate(terms):
                quadric[:, index] += np.bincount(owner, weights=term * weight, minlength=count)
    xx, yy, zz, xy, xz, yz, bx, by, bz = quadric.T
    matrix = np.stack([xx, xy, xz, xy, yy, yz, xz, yz, zz], axis=1).reshape(-1, 3, 3)
    pull = 1e-3 * (xx + yy + zz) + 1e-30
    matrix += pull[:, None, None] * np.eye(3)
    right = pull[:, None] * mean - np.column_stack([bx, by, bz])
    places = np.linalg.solve(matrix, right[:, :, None])[:, :, 0]
    cell_low = low + np.floor((mean - low) / cell) * cell
    stray = ((places < cell_low - cell / 2) | (places > cell_low + 1.5 * cell)).any(axis=1)
    places[stray] = mean[stray]
    return places


def _smooth_normals(positions, triangles) -> np.ndarray:
    corners = positions[triangles]
    face = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = np.column_stack([
        sum(np.bincount(triangles[:, corner], weights=face[:, axis], minlength=len(positions))
            for corner in range(3))
        for axis in range(3)
    ])  # fmt: skip
    lengths = np.sqrt((normals * normals).sum(axis=1))[:, None]
    up = np.tile([0.0, 1.0, 0.0], (len(normals), 1))
    return np.divide(normals, lengths, out=up, where=lengths > 0).astype(np.float32)


def measure(positions, triangles, areas, clusters, remap, proxy_positions, proxy_triangles,
            diagonal) -> Deviation:  # fmt: skip
    """The proxy's deviation from the mesh (see ``Deviation``). From the mesh: each sampled
    vertex's distance to the nearest of the proxy triangles around its cluster's vertex (an
    upper bound of its distance to the proxy); a vertex whose cluster the proxy lost counts
    as unreached. Back: each proxy vertex's distance to the nearest vertex of its cluster."""
    vertex_area = np.zeros(len(positions))
    for corner in range(3):
        vertex_area += np.bincount(triangles[:, corner], weights=areas / 3,
                                   minlength=len(positions))  # fmt: skip
    rng = np.random.default_rng(0)
    samples = np.arange(len(positions))
    if len(samples) > DEVIATION_SAMPLES:
        samples = np.sort(rng.choice(samples, DEVIATION_SAMPLES, replace=False))
    samples = samples[vertex_area[samples] > 0]  # loose vertices are no surface
    fans = _fans(proxy_triangles, len(proxy_positions))
    distance = np.full(len(samples), np.inf)
    for start in range(0, len(samples), CHUNK // 4):
        chosen = samples[start : start + CHUNK // 4]
        own = remap[clusters[chosen]]
        found = own >= 0
        fan = fans[own[found]]  # (k, NEAREST_FAN) proxy triangles, -1 for none
        points = positions[chosen[found]]
        nearest = np.full(len(points), np.inf)
        for column in range(fan.shape[1]):
            has = fan[:, column] >= 0
            corners = proxy_positions[proxy_triangles[fan[has, column]]]
            nearest[has] = np.minimum(nearest[has], _point_triangle_distance(points[has], corners))
        distance[start : start + CHUNK // 4][found] = nearest
    weights = vertex_area[samples]
    reached = np.isfinite(distance)
    mean = float((distance[reached] * weights[reached]).sum() / weights[reached].sum())
    worst = float(distance[reached].max())
    unreached = ~reached | (distance > REACH * diagonal)
    owner = remap[clusters]  # each vertex's proxy vertex, -1 where the proxy lost its cluster
    kept = owner >= 0
    back = np.linalg.norm(positions[kept] - proxy_positions[owner[kept]], axis=1)
    nearest_back = np.full(len(proxy_positions), np.inf)
    np.minimum.at(nearest_back, owner[kept], back)
    return Deviation(
        mean=mean / diagonal,
        worst=worst / diagonal,
        worst_back=float(nearest_back.max()) / diagonal,
        unreached=float(weights[unreached].sum() / weights.sum()),
    )


def _fans(triangles, vertex_count: int) -> np.ndarray:
    """(vertices, NEAREST_FAN): the first triangles around each vertex, -1 where it has fewer."""
    owners = triangles.ravel()
    order = np.argsort(owners, kind="stable")
    starts = np.searchsorted(owners[order], np.arange(vertex_count))
    ends = np.searchsorted(owners[order], np.arange(vertex_count), side="right")
    fans = np.full((vertex_count, NEAREST_FAN), -1, dtype=np.int64)
    for column in range(NEAREST_FAN):
        has = starts + column < ends
        fans[has, column] = order[starts[has] + column] // 3
    return fans


def _point_triangle_distance(points, corners) -> np.ndarray:
    """The distance from each point to its triangle (corners (n, 3, 3)), by the closest point
    on the triangle (Ericson, Real-Time Collision Detection, 5.1.5)."""
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    ab, ac, ap = b - a, c - a, points - a
    d1, d2 = _dot(ab, ap), _dot(ac, ap)
    bp = points - b
    d3, d4 = _dot(ab, bp), _dot(ac, bp)
    cp = points - c
    d5, d6 = _dot(ab, cp), _dot(ac, cp)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    total = va + vb + vc
    safe = np.where(total != 0, total, 1.0)
    v, w = vb / safe, vc / safe
    closest = a + ab * v[:, None] + ac * w[:, None]  # inside the face
    edge_ab = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
    t = d1 / np.where(d1 - d3 != 0, d1 - d3, 1.0)
    closest[edge_ab] = (a + ab * t[:, None])[edge_ab]
    edge_ac = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
    t = d2 / np.where(d2 - d6 != 0, d2 - d6, 1.0)
    closest[edge_ac] = (a + ac * t[:, None])[edge_ac]
    edge_bc = (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0)
    t = (d4 - d3) / np.where((d4 - d3) + (d5 - d6) != 0, (d4 - d3) + (d5 - d6), 1.0)
    closest[edge_bc] = (b + (c - b) * t[:, None])[edge_bc]
    closest[(d1 <= 0) & (d2 <= 0)] = a[(d1 <= 0) & (d2 <= 0)]
    closest[(d3 >= 0) & (d4 <= d3)] = b[(d3 >= 0) & (d4 <= d3)]
    closest[(d6 >= 0) & (d5 <= d6)] = c[(d6 >= 0) & (d5 <= d6)]
    difference = points - closest
    return np.sqrt(_dot(difference, difference))


def _dot(u, v) -> np.ndarray:
    return (u * v).sum(axis=1)
