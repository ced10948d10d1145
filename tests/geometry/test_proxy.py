"""Upload proxies from plain numpy meshes: size, faithfulness, refusals (no Blender)."""

import json
import struct

import numpy as np
import pytest
from gltf_validator import assert_valid

from rodin_texture_addon.geometry import proxy
from rodin_texture_addon.geometry.glb import GeometryGlb

MEGABYTE = 1024 * 1024


def bumpy_sphere(rings: int, segments: int):
    """A closed sphere of radius about 1 with bumps, (positions, triangles): 2 * rings *
    segments triangles, less the poles' degenerate ones."""
    theta = np.linspace(0, np.pi, rings + 1)[:, None]
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)[None, :]
    radius = 1 + 0.05 * np.sin(5 * theta) * np.cos(7 * phi)
    points = np.stack(
        [radius * np.sin(theta) * np.cos(phi), radius * np.sin(theta) * np.sin(phi),
         radius * np.cos(theta) * np.ones_like(phi)], axis=-1,
    ).reshape(-1, 3)  # fmt: skip
    row, column = np.meshgrid(np.arange(rings), np.arange(segments), indexing="ij")
    a = row * segments + column
    b = row * segments + (column + 1) % segments
    c, d = a + segments, b + segments
    triangles = np.concatenate([np.stack([a, c, b], -1), np.stack([b, c, d], -1)]).reshape(-1, 3)
    return points, triangles


@pytest.fixture(scope="module")
def sphere():
    return bumpy_sphere(300, 400)  # 240,000 triangles: about 5.8 MB as an upload


def test_a_proxy_fills_its_budget_without_passing_it(sphere, tmp_path):
    built = proxy.build(*sphere, max_bytes=MEGABYTE)
    glb = built.glb()
    assert 0.6 * MEGABYTE < glb.size <= MEGABYTE
    assert built.source_triangles == len(sphere[1])
    assert built.triangle_count < len(sphere[1]) / 4
    path = tmp_path / "proxy.glb"
    glb.write(path)
    assert path.stat().st_size == glb.size
    assert_valid(path)


def test_the_size_estimate_is_never_below_a_smooth_meshs_glb(sphere):
    positions, triangles = sphere
    normals = positions / np.linalg.norm(positions, axis=1)[:, None]
    glb = GeometryGlb(positions.astype(np.float32), normals.astype(np.float32), triangles.ravel())
    estimate = proxy.glb_bytes(len(positions), len(triangles))
    assert glb.size <= estimate < glb.size + 1024


def test_a_proxy_keeps_the_surface_and_its_size(sphere):
    built = proxy.build(*sphere, max_bytes=MEGABYTE)
    deviation = built.deviation
    assert deviation.mean < 0.001  # a thousandth of the diagonal
    assert deviation.hausdorff < 0.01
    assert deviation.unreached < 0.001
    radii = np.linalg.norm(built.positions, axis=1)
    assert radii.min() > 0.93 and radii.max() < 1.07
    low, high = sphere[0].min(axis=0), sphere[0].max(axis=0)
    np.testing.assert_allclose(built.positions.min(axis=0), low, atol=0.01)
    np.testing.assert_allclose(built.positions.max(axis=0), high, atol=0.01)


def test_a_proxys_normals_point_out_of_a_closed_mesh(sphere):
    built = proxy.build(*sphere, max_bytes=MEGABYTE)
    outward = (built.normals * built.positions).sum(axis=1)
    assert (outward > 0).mean() > 0.99
    np.testing.assert_allclose(np.linalg.norm(built.normals, axis=1), 1, atol=1e-5)


def test_a_smaller_budget_makes_a_coarser_proxy_that_strays_more(sphere):
    fine = proxy.build(*sphere, max_bytes=MEGABYTE)
    coarse = proxy.build(*sphere, max_bytes=MEGABYTE // 4)
    assert coarse.triangle_count < fine.triangle_count / 2
    assert coarse.deviation.mean > fine.deviation.mean


def test_the_same_mesh_makes_the_same_proxy(sphere):
    first = proxy.build(*sphere, max_bytes=MEGABYTE // 2)
    second = proxy.build(*sphere, max_bytes=MEGABYTE // 2)
    assert first.glb().json == second.glb().json
    np.testing.assert_array_equal(first.triangles, second.triangles)
    assert first.deviation == second.deviation


def test_a_proxy_indexes_only_its_own_vertices_and_no_degenerate_triangles(sphere):
    built = proxy.build(*sphere, max_bytes=MEGABYTE // 2)
    triangles = built.triangles
    assert triangles.max() < len(built.positions)
    assert len(np.unique(triangles)) == len(built.positions)  # no loose vertices
    a, b, c = triangles.T
    assert ((a != b) & (b != c) & (a != c)).all()
    assert len(np.unique(np.sort(triangles, axis=1), axis=0)) == len(triangles)


def test_scattered_triangles_that_no_proxy_can_keep_are_refused():
    """Tiny separate triangles, spread out: every proxy under the budget loses most of them."""
    rng = np.random.default_rng(1)
    centres = rng.uniform(-1, 1, (60_000, 3))
    positions = (centres[:, None, :] + rng.normal(0, 0.002, (60_000, 3, 3))).reshape(-1, 3)
    triangles = np.arange(len(positions)).reshape(-1, 3)
    with pytest.raises(proxy.ProxyError, match="out of the bake's reach"):
        proxy.build(positions, triangles, max_bytes=MEGABYTE // 4)


def test_a_mesh_without_surface_is_refused():
    flat = np.zeros((3, 3))
    with pytest.raises(proxy.ProxyError, match="no surface"):
        proxy.build(flat, np.array([[0, 1, 2]]), max_bytes=MEGABYTE)


def test_a_budget_too_small_for_any_proxy_is_refused(sphere):
    """A few hundred triangles cannot stand for a bumpy sphere within the bake's reach."""
    with pytest.raises(proxy.ProxyError, match="would lose or move"):
        proxy.build(*sphere, max_bytes=20_000)


def test_the_glb_holds_the_proxys_geometry(sphere, tmp_path):
    built = proxy.build(*sphere, max_bytes=MEGABYTE // 2)
    path = tmp_path / "proxy.glb"
    built.glb().write(path)
    data = path.read_bytes()
    length = struct.unpack_from("<I", data, 12)[0]
    gltf = json.loads(data[20 : 20 + length])
    position = gltf["accessors"][0]
    assert position["count"] == len(built.positions)
    assert gltf["accessors"][2]["count"] == 3 * built.triangle_count
    np.testing.assert_allclose(position["min"], built.positions.min(axis=0), rtol=1e-6)
