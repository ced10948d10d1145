"""The result files: valid glTF, re-indexed with box-projected UVs, textured from the reference."""

import io

import numpy as np
import pytest
from gltf_validator import assert_valid
from PIL import Image
from rodin_emulator import glb
from rodin_emulator.obj import read_obj

from .conftest import PNG


def result_model(api, **fields) -> bytes:
    (model, *_) = api.files(api.submitted(**fields)).values()
    assert model.status_code == 200
    return model.content


def primitive_arrays(data: bytes) -> dict[str, np.ndarray]:
    document, binary = glb.split_glb(data)
    (mesh,) = document["meshes"]
    (primitive,) = mesh["primitives"]
    arrays = {
        name: glb.read_accessor(document, binary, index)
        for name, index in primitive["attributes"].items()
    }
    arrays["indices"] = glb.read_accessor(document, binary, primitive["indices"])
    return arrays


def texture_images(data: bytes) -> list[Image.Image]:
    document, binary = glb.split_glb(data)
    images = []
    for image in document["images"]:
        view = document["bufferViews"][image["bufferView"]]
        start = view["byteOffset"]
        images.append(Image.open(io.BytesIO(binary[start : start + view["byteLength"]])))
    assert image["mimeType"] == "image/png"
    return images


@pytest.mark.parametrize("material", ["PBR", "Shaded"])
def test_result_models_pass_the_khronos_validator(api, instant, tmp_path, material):
    path = tmp_path / "result.glb"
    path.write_bytes(result_model(api, material=material))
    assert_valid(path)


def test_an_empty_wrapper_node_is_valid_too(api, emulator, instant, tmp_path):
    emulator.configure(wrap_in_empty=True)
    path = tmp_path / "wrapped.glb"
    path.write_bytes(result_model(api))
    assert_valid(path)
    document, _ = glb.split_glb(path.read_bytes())
    assert document["nodes"] == [
        {"name": "model", "children": [1]},
        {"name": "root.0", "mesh": 0},
    ]
    assert document["scenes"][0]["nodes"] == [0]


def test_the_result_is_one_mesh_node_re_indexed_with_new_uvs(api, instant):
    data = result_model(api)
    document, _ = glb.split_glb(data)
    arrays = primitive_arrays(data)
    uploaded = glb.read_mesh(glb.cube_glb())

    assert document["nodes"] == [{"name": "root.0", "mesh": 0}]
    assert len(arrays["POSITION"]) != len(uploaded.positions)  # 8 welded corners, 3 tiles each
    assert len(arrays["indices"]) == uploaded.indices.size
    assert arrays["TEXCOORD_0"].min() >= 0 and arrays["TEXCOORD_0"].max() <= 1
    assert np.allclose(np.linalg.norm(arrays["NORMAL"], axis=1), 1, atol=1e-5)
    # The shape is kept, centred and scaled so the largest extent is 1.
    assert np.allclose(arrays["POSITION"].min(axis=0), -0.5)
    assert np.allclose(arrays["POSITION"].max(axis=0), 0.5)
    # Box projection: a cube's faces each fill one tile of the 3×2 atlas.
    tiles = {
        (int(u * 3), int(v * 2))
        for u, v in arrays["TEXCOORD_0"][arrays["indices"].reshape(-1, 3)].mean(axis=1)
    }
    assert tiles == {(column, row) for column in range(3) for row in range(2)}


def test_node_transforms_of_the_upload_are_applied(api):
    stretched = glb.cube_glb(scale=[2.0, 1.0, 1.0], rotation=[0.0, 0.0, 0.7071068, 0.7071068])
    (model, _) = api.files(
        api.submitted(files={"image": ("r.png", PNG), "model": ("m.glb", stretched)})
    ).values()
    positions = primitive_arrays(model.content)["POSITION"]
    # Scaled along X, then turned 90° about Z: long along Y.
    assert np.allclose(positions.max(axis=0), [0.25, 0.5, 0.25], atol=1e-6)


def test_the_vertex_order_is_shuffled_per_task(api, instant):
    first, second = (primitive_arrays(result_model(api))["POSITION"] for _ in range(2))
    assert first.shape == second.shape and not np.array_equal(first, second)


def test_pbr_results_have_base_colour_metallic_roughness_and_normal_maps(api, instant):
    data = result_model(api)
    document, _ = glb.split_glb(data)
    (material,) = document["materials"]
    pbr = material["pbrMetallicRoughness"]
    assert pbr["baseColorTexture"] == {"index": 0}
    assert pbr["metallicRoughnessTexture"] == {"index": 1}
    assert material["normalTexture"] == {"index": 2}
    assert "emissiveTexture" not in material
    colour, metal_rough, normal = texture_images(data)
    assert [image.size for image in (colour, metal_rough, normal)] == [(64, 64)] * 3
    # Metalness (blue) where the reference is bluer than red and green, none where it is not.
    metal = np.asarray(metal_rough)[..., 2]
    red, green, blue = np.moveaxis(np.asarray(colour).astype(int), -1, 0)
    bluish = blue - (red + green) / 2
    assert (metal[bluish <= 0] == 0).all() and (metal[bluish >= 8] > 0).all()
    normals = np.asarray(normal).astype(float) / 127.5 - 1
    assert np.allclose(np.linalg.norm(normals, axis=-1), 1, atol=0.02)
    assert (normals[..., 2] > 0).all() and np.abs(normals[..., :2]).max() > 0.2, "not flat"


def test_shaded_results_carry_one_colour_map_as_emission(api, instant):
    data = result_model(api, material="Shaded")
    document, _ = glb.split_glb(data)
    (material,) = document["materials"]
    assert material["emissiveTexture"] == {"index": 0}
    assert material["emissiveFactor"] == [1.0, 1.0, 1.0]
    assert material["pbrMetallicRoughness"]["baseColorFactor"] == [0.0, 0.0, 0.0, 1.0]
    assert "baseColorTexture" not in material["pbrMetallicRoughness"]
    (shaded,) = texture_images(data)
    pixels = np.asarray(shaded).astype(int)
    # Lighting is baked in: the tiles (same picture) differ in brightness.
    tile_means = {
        pixels[r * 32 : r * 32 + 32, c * 21 : c * 21 + 21].mean() for r in (0, 1) for c in (0, 1, 2)
    }
    assert len(tile_means) > 2


def test_every_tile_shows_the_reference_image(api, instant):
    (colour, *_) = texture_images(result_model(api))
    atlas = np.asarray(colour).astype(int)
    reference = np.asarray(Image.open(io.BytesIO(PNG)).convert("RGB")).astype(int)
    for row in range(2):
        for column in range(3):
            x, y = int((column + 0.25) * 64 / 3), int((row + 0.75) * 64 / 2)
            # A quarter across and three quarters down each tile.
            assert np.abs(atlas[y, x] - reference[24, 8]).max() <= 16


@pytest.mark.parametrize("size", [32, 100])
def test_textures_have_the_configured_size(api, emulator, instant, size):
    emulator.configure(texture_size=size)
    assert {image.size for image in texture_images(result_model(api))} == {(size, size)}


@pytest.mark.parametrize(("resolution", "size"), [("Basic", 2048), ("High", 4096)])
def test_textures_are_2k_for_basic_and_4k_for_high_unless_configured(
    api, emulator, instant, resolution, size
):
    """Shaded: one map, so making the 4K result takes seconds, not tens of them."""
    emulator.configure(texture_size=None)
    model = result_model(api, material="Shaded", resolution=resolution)
    assert [image.size for image in texture_images(model)] == [(size, size)]


def test_the_preview_is_a_small_webp(api, instant):
    preview = api.files(api.submitted())["preview.webp"]
    assert preview.headers["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(preview.content)).size == (256, 256)


def test_obj_results_are_an_obj_an_mtl_and_loose_textures(api, instant):
    files = api.files(api.submitted(geometry_file_format="obj"))
    mesh = read_obj(files["base.obj"].content)
    assert len(mesh.positions) == 24 and len(mesh.indices) == 12
    assert b"mtllib material.mtl" in files["base.obj"].content
    mtl = files["material.mtl"].text
    for name in ("texture_diffuse.png", "texture_roughness.png", "texture_metallic.png"):
        assert name in mtl
        assert Image.open(io.BytesIO(files[name].content)).size == (64, 64)


def test_stl_results_are_binary_stl(api, instant):
    stl = api.files(api.submitted(geometry_file_format="stl"))["base_basic_pbr.stl"].content
    count = int.from_bytes(stl[80:84], "little")
    assert count == 12 and len(stl) == 84 + 50 * count


def test_an_obj_upload_gives_a_valid_glb(api, instant, tmp_path):
    obj = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"
    body = api.submitted(files={"image": ("r.png", PNG), "model": ("m.obj", obj)})
    (model, _) = api.files(body).values()
    path = tmp_path / "from_obj.glb"
    path.write_bytes(model.content)
    assert_valid(path)
