"""The upload carries geometry and nothing else: no names, no bytes beyond what it needs."""

import bpy
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
