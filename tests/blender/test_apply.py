"""The returned GLB → the scene, in real Blender: one mesh, over its source, nothing left over."""

import math

import bpy
import numpy as np
import pytest
from gltf_validator import assert_valid
from PIL import Image

from . import scenes

pytestmark = pytest.mark.blender

IMPORTED = {"meshes": {"Suzanne_rodin"}, "objects": {"Suzanne_rodin"}}


@pytest.fixture
def apply(addon_module):
    return addon_module("blender.apply")


@pytest.fixture(scope="session")
def result_glb(tmp_path_factory):
    """``result_glb(shaded=..., layout=...)`` → (path, world box of what it holds); each variant
    is built once. Call it before building the test's scene: building resets the scene."""
    folder = tmp_path_factory.mktemp("results")
    built = {}

    def build(*, shaded=False, layout="mesh"):
        key = (shaded, layout)
        if key not in built:
            path = folder / f"{'shaded' if shaded else 'pbr'}-{layout}.glb"
            box = scenes.write_result_glb(path, shaded=shaded, layout=layout)
            assert_valid(path)
            built[key] = path, box
        return built[key]

    return build


def new_names(before):
    after = scenes.datablocks()
    return {kind: after[kind] - before[kind] for kind in after if after[kind] - before[kind]}


@pytest.mark.parametrize("layout", ["mesh", "empty", "split"])
def test_import_makes_one_mesh_where_the_file_put_it(apply, result_glb, layout):
    path, expected_box = result_glb(layout=layout)
    other = scenes.make_suzanne("Other")
    scenes.select_only(other, active=other)
    objects_before = set(bpy.data.objects)
    collections_before = set(bpy.data.collections)

    result = apply.import_result(bpy.context, path)

    assert set(bpy.data.objects) - objects_before == {result}
    assert result.type == "MESH" and result.parent is None and not result.children
    assert set(bpy.data.collections) == collections_before
    assert all(mesh.users for mesh in bpy.data.meshes)
    assert [m.name for m in result.data.materials] == ["Result material"]
    assert result.data.uv_layers
    scenes.assert_boxes_match(scenes.evaluated_world_box(result), expected_box)
    assert bpy.context.selected_objects == [other]
    assert bpy.context.view_layer.objects.active == other


def test_import_refuses_a_file_without_a_mesh(apply, tmp_path):
    empty = scenes.link(bpy.data.objects.new("Empty", None))
    scenes.select_only(empty, active=empty)
    path = tmp_path / "empty.glb"
    bpy.ops.export_scene.gltf(filepath=str(path), export_format="GLB", use_selection=True)
    bpy.data.objects.remove(empty)
    before = scenes.datablocks()

    with pytest.raises(apply.ApplyError, match=r"empty\.glb holds no mesh"):
        apply.import_result(bpy.context, path)

    assert scenes.datablocks() == before


def test_place_over_fits_a_rotated_scaled_source(apply, result_glb):
    path, _ = result_glb(layout="empty")
    source = scenes.make_suzanne(location=(-2.0, 1.0, 3.0), rotation=(0.4, 1.1, -0.6))
    source.scale = (2.0, 0.5, 1.3)
    result = apply.import_result(bpy.context, path)

    apply.place_over(result, source)

    assert result.matrix_world == source.matrix_world
    scenes.assert_boxes_match(
        scenes.evaluated_world_box(result), scenes.evaluated_world_box(source)
    )


def test_place_over_a_flat_source(apply, result_glb):
    path, _ = result_glb()
    grid = scenes.make_grid()
    grid.rotation_euler = (math.pi / 2, 0, 0)  # flat along world y
    result = apply.import_result(bpy.context, path)

    apply.place_over(result, grid)

    box = scenes.evaluated_world_box(result)
    assert np.all(np.isfinite(box))
    scenes.assert_boxes_match(box, scenes.evaluated_world_box(grid))


def test_apply_adds_a_named_object_in_the_source_collections(apply, result_glb):
    path, _ = result_glb()
    props = bpy.data.collections.new("Props")
    bpy.context.scene.collection.children.link(props)
    source = scenes.make_suzanne()
    scenes.link(source, props)  # in both the scene collection and Props
    matrix, mesh, material = source.matrix_world.copy(), source.data, source.data.materials[0]
    before = scenes.datablocks()

    result = apply.apply_result(bpy.context, source, path)

    assert result.name == "Suzanne_rodin" and result is not source
    assert set(result.users_collection) == set(source.users_collection)
    assert source.matrix_world == matrix and source.data == mesh
    assert list(source.data.materials) == [material]
    assert result.data.materials[0].name == "Suzanne_rodin_material"
    (texture,) = [n for n in result.data.materials[0].node_tree.nodes if n.type == "TEX_IMAGE"]
    assert texture.image.name == "Suzanne_rodin_base_color"
    added = new_names(before)
    assert {kind: added[kind] for kind in IMPORTED} == IMPORTED
    assert set(added) <= {"objects", "meshes", "materials", "images"}
    scenes.assert_boxes_match(
        scenes.evaluated_world_box(result), scenes.evaluated_world_box(source)
    )


def test_applies_without_a_window_as_from_a_timer(apply, result_glb):
    path, _ = result_glb(layout="split")  # the join needs a window too
    source = scenes.make_suzanne()
    with bpy.context.temp_override(window=None):
        assert bpy.context.window is None
        result = apply.apply_result(bpy.context, source, path)
    assert result.name == "Suzanne_rodin"


def test_replace_while_the_source_is_in_edit_mode(apply, result_glb):
    path, _ = result_glb()
    source = scenes.make_suzanne()
    scenes.select_only(source, active=source)
    bpy.ops.object.mode_set(mode="EDIT")
    with bpy.context.temp_override(window=None):
        apply.apply_result(bpy.context, source, path, replace=True)

    assert source.mode == "OBJECT"  # else leaving Edit Mode would write the old mesh back
    vertex_count = len(source.data.vertices)
    bpy.ops.object.mode_set(mode="EDIT")
    bpy.ops.object.mode_set(mode="OBJECT")
    assert source.data.name == "Suzanne_rodin"
    assert len(source.data.vertices) == vertex_count
    assert [m.name for m in source.data.materials] == ["Suzanne_rodin_material"]


def test_apply_replace_swaps_mesh_and_material_only(apply, result_glb):
    path, _ = result_glb(layout="split")
    source = scenes.make_suzanne()
    source.modifiers.new("Bevel", "BEVEL")
    source.material_slots[0].link = "OBJECT"  # would hide the result's material
    source.material_slots[0].material = bpy.data.materials.new("Object material")
    matrix = source.matrix_world.copy()
    old_mesh_name = source.data.name
    box_before = scenes.evaluated_world_box(source)
    objects_before = set(bpy.data.objects)

    returned = apply.apply_result(bpy.context, source, path, replace=True)

    assert returned == source and source.name == "Suzanne"
    assert source.matrix_world == matrix
    assert [(m.name, m.type, m.show_viewport, m.show_render) for m in source.modifiers] == [
        ("Subdivision", "SUBSURF", False, False),
        ("Bevel", "BEVEL", False, False),
    ]
    assert set(bpy.data.objects) == objects_before
    assert source.data.name == "Suzanne_rodin" and old_mesh_name not in bpy.data.meshes
    assert [m.name for m in source.data.materials] == ["Suzanne_rodin_material"]
    assert [slot.material.name for slot in source.material_slots] == ["Suzanne_rodin_material"]
    assert all(mesh.users for mesh in bpy.data.meshes)
    scenes.assert_boxes_match(scenes.mesh_world_box(source.data, source.matrix_world), box_before)
    # the modifiers' effect is in the result already: it must not apply a second time
    scenes.assert_boxes_match(scenes.evaluated_world_box(source), box_before)


@pytest.mark.parametrize("variant", ["emissive", "emissive without factor", "unlit"])
def test_shaded_result_renders_in_colour(apply, result_glb, tmp_path, variant):
    emissive_path, _ = result_glb(shaded=True)
    gltf, binary = scenes.read_glb(emissive_path)
    (material,) = gltf["materials"]
    if variant == "emissive without factor":  # glTF's default factor is black
        del material["emissiveFactor"]
    elif variant == "unlit":
        material["pbrMetallicRoughness"] = {"baseColorTexture": material.pop("emissiveTexture")}
        del material["emissiveFactor"]
        material["extensions"] = {"KHR_materials_unlit": {}}
        gltf["extensionsUsed"] = ["KHR_materials_unlit"]
    path = tmp_path / "shaded.glb"
    scenes.write_glb(path, gltf, binary)
    assert_valid(path)
    source = scenes.make_suzanne(location=(0, 0, 0), rotation=(0, 0, 0), scale=(1, 1, 1))
    source.hide_render = True
    scenes.add_camera((0.0, -3.5, 0.0), (math.pi / 2, 0.0, 0.0))  # no world, no lights

    apply.apply_result(bpy.context, source, path)

    pixels = scenes.render_pixels(tmp_path)
    assert pixels[:, :3].max() > 0.3
    assert pixels[:, :3].mean() > 0.05


def test_preview_loads_once(apply, tmp_path):
    path = tmp_path / "preview.webp"
    Image.new("RGB", (6, 4), (255, 0, 0)).save(path, "WEBP", lossless=True)

    image = apply.load_preview(path)

    assert tuple(image.size) == (6, 4)
    red, green, blue, _ = np.array(image.pixels[:]).reshape(-1, 4).mean(axis=0)
    assert red > 0.9 and green < 0.1 and blue < 0.1
    count = len(bpy.data.images)
    assert apply.load_preview(path) == image
    assert len(bpy.data.images) == count


def test_a_long_name_keeps_its_suffix(apply, result_glb):
    path, _ = result_glb()
    longest = "Ж" * 20 + "x" * (apply.NAME_BYTES - 40)  # as long as Blender allows, in bytes
    source = scenes.make_suzanne(longest)
    assert source.name == longest

    result = apply.apply_result(bpy.context, source, path)
    again = apply.apply_result(bpy.context, source, path)

    for made in (result, again, result.data, result.data.materials[0]):
        assert made.name.startswith("Ж" * 20) and "_rodin" in made.name, made.name
    assert again.name.endswith("_rodin.001")
