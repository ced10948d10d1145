"""The upload carries geometry and nothing else: no names, no bytes beyond what it needs."""

import bpy
import numpy as np
import pytest
from gltf_validator import assert_valid

from . import scenes

pytestmark = pytest.mark.blender


@pytest.fixture
def export(addon_module):
    return addon_module("blender.export")


def test_the_upload_names_nothing_of_the_users(export, tmp_path):
    bpy.context.scene.name = "Scene of ACME secret project"
    suzanne = scenes.make_suzanne(name="Client prototype")
    suzanne.data.name = "Prototype mesh v7"

    model = export.export_geometry_glb(bpy.context, suzanne, tmp_path / "model.glb")

    assert_valid(model.path)
    data = model.path.read_bytes()
    for private in (b"ACME", b"Client prototype", b"Prototype mesh", b"_upload"):
        assert private not in data
    gltf, _ = scenes.read_glb(model.path)
    for kind in ("scenes", "nodes", "meshes"):
        assert all("name" not in item for item in gltf[kind])
    assert model.size_bytes == len(data)


def test_the_binary_holds_only_positions_normals_and_indices(export, tmp_path):
    grid = scenes.make_grid(subdivisions=20)

    model = export.export_geometry_glb(bpy.context, grid, tmp_path / "model.glb")

    gltf, binary = scenes.read_glb(model.path)
    ((primitive,),) = [mesh["primitives"] for mesh in gltf["meshes"]]
    positions = scenes.accessor_array(gltf, binary, primitive["attributes"]["POSITION"])
    normals = scenes.accessor_array(gltf, binary, primitive["attributes"]["NORMAL"])
    indices = scenes.accessor_array(gltf, binary, primitive["indices"])
    assert indices.dtype.itemsize == 2  # under 65,536 vertices: 16-bit indices
    needed = positions.nbytes + normals.nbytes + indices.nbytes
    assert needed <= len(binary) < needed + 4  # at most the padding to a 4-byte boundary
    assert len(gltf["buffers"]) == 1 and gltf["buffers"][0]["byteLength"] <= len(binary)


def corner_rows(obj):
    """(position, normal) of every triangle corner, in order, in world space and glTF's axes,
    computed here without the add-on: what the upload must carry, corner by corner."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    mesh = obj.evaluated_get(depsgraph).data
    mesh.calc_loop_triangles()
    matrix = np.array(obj.matrix_world)
    rows = []
    for triangle in mesh.loop_triangles:
        for loop, vertex in zip(triangle.loops, triangle.vertices, strict=True):
            position = matrix[:3, :3] @ np.array(mesh.vertices[vertex].co) + matrix[:3, 3]
            normal = np.linalg.inv(matrix[:3, :3]).T @ np.array(mesh.corner_normals[loop].vector)
            normal /= np.linalg.norm(normal)
            rows.append([*to_gltf(position), *to_gltf(normal)])
    return np.array(rows)


def to_gltf(vector):
    """Blender is Z-up, glTF Y-up."""
    return vector[0], vector[2], -vector[1]


def test_one_vertex_per_distinct_position_and_normal(export, tmp_path):
    suzanne = scenes.make_suzanne(subdivisions=0, material=False)
    for polygon in suzanne.data.polygons:
        polygon.use_smooth = polygon.center.x > 0  # smooth on one side, sharp on the other

    model = export.export_geometry_glb(bpy.context, suzanne, tmp_path / "model.glb")

    assert_valid(model.path)
    gltf, binary = scenes.read_glb(model.path)
    ((primitive,),) = [mesh["primitives"] for mesh in gltf["meshes"]]
    positions = scenes.accessor_array(gltf, binary, primitive["attributes"]["POSITION"])
    normals = scenes.accessor_array(gltf, binary, primitive["attributes"]["NORMAL"])
    indices = scenes.accessor_array(gltf, binary, primitive["indices"]).ravel()
    uploaded = np.hstack([positions, normals])[indices]
    expected = corner_rows(suzanne)
    np.testing.assert_allclose(uploaded, expected, atol=1e-5)  # triangles keep their order
    distinct = np.unique(expected.astype(np.float32), axis=0)
    assert len(positions) == len(distinct)
    assert model.triangle_count == len(indices) // 3 == len(expected) // 3
