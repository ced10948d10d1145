"""Apply to original: the result's textures baked onto the original's own UVs, in real Blender
against the emulator. The baked original is rendered beside the result from the same cameras and
compared (PSNR); broken bakes are shown to fall below the same threshold."""

import importlib
import math
import re
from pathlib import Path

import bpy
import numpy as np
import pytest
from gltf_validator import assert_valid
from mathutils import Vector
from PIL import Image

from . import scenes
from .fidelity import channel_psnr, generate_and_compare, prepare_flat_renders
from .test_addon_flow import rodin  # noqa: F401  (fixture)
from .test_panel import LayoutRecorder, draw

pytestmark = pytest.mark.blender

TEXTURE_SIZE = 256  # the emulator's maps, and so the bake's default size
# Decibels a faithful bake reaches in every view, and that each broken bake below misses.
PSNR_THRESHOLD = 21.0
PBR_MAPS = ("base_color", "roughness", "metallic", "normal")


@pytest.fixture(scope="session")
def wavy_reference(tmp_path_factory):
    """A reference image of colour waves, a few across the image: the result's textures vary all
    over the surface (any misplaced texel shows), yet smoothly enough that resampling them onto
    other UVs costs little."""
    y, x = np.mgrid[0:64, 0:64] * (2 * math.pi / 32)
    waves = np.stack([np.sin(x), np.sin(y), np.sin(0.7 * (x + y) + 1.0)], axis=-1)
    path = tmp_path_factory.mktemp("inputs") / "waves.png"
    Image.fromarray((127.5 + 100 * waves).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def reference(wavy_reference, emulator):
    emulator.configure(texture_size=TEXTURE_SIZE)
    image = bpy.data.images.load(str(wavy_reference))
    bpy.context.scene.rodin_texture_settings.image = image
    return image


def add_source(name="Suzanne", scale=1.0):
    """A transformed, modified Suzanne with its own UVs and material, selected."""
    obj = scenes.make_suzanne(name, location=tuple(v * scale for v in (1.0, 2.0, 0.5)))
    obj.scale = Vector(obj.scale) * scale
    bpy.context.view_layer.update()
    scenes.select_only(obj, active=obj)
    return obj


def add_rig(obj):
    """Vertex groups, shape keys, a second UV map and an armature, as a character would have."""
    armature = scenes.link(bpy.data.objects.new("Rig", bpy.data.armatures.new("Rig")))
    group = obj.vertex_groups.new(name="Bone")
    group.add([v.index for v in obj.data.vertices if v.co.x > 0], 0.75, "REPLACE")
    modifier = obj.modifiers.new("Armature", "ARMATURE")
    modifier.object = armature
    obj.shape_key_add(name="Basis")
    smile = obj.shape_key_add(name="Smile")
    smile.data[0].co.z += 0.1
    second = obj.data.uv_layers.new(name="Lightmap")
    coordinates = np.empty(len(second.data) * 2, np.float32)
    second.data.foreach_get("uv", coordinates)
    second.data.foreach_set("uv", coordinates * 0.5)
    return armature


def mesh_state(obj):
    """Everything of the original that baking must leave exactly as it was."""
    mesh = obj.data

    def read(collection, attribute, width=1, dtype=np.float32):
        values = np.empty(len(collection) * width, dtype)
        collection.foreach_get(attribute, values)
        return values.tobytes()

    return {
        "vertices": read(mesh.vertices, "co", 3),
        "loops": read(mesh.loops, "vertex_index", dtype=np.int32),
        "faces": read(mesh.polygons, "loop_start", dtype=np.int32),
        "uv maps": [(uv.name, read(uv.data, "uv", 2)) for uv in mesh.uv_layers],
        "active uv map": mesh.uv_layers.active.name if mesh.uv_layers else None,
        "vertex groups": [g.name for g in obj.vertex_groups],
        "weights": [[(g.group, g.weight) for g in v.groups] for v in mesh.vertices],
        "shape keys": [
            (key.name, key.value, read(key.data, "co", 3))
            for key in (mesh.shape_keys.key_blocks if mesh.shape_keys else ())
        ],
        "modifiers": [
            (m.name, m.type, m.show_viewport, m.show_render, getattr(m, "object", None))
            for m in obj.modifiers
        ],
        "matrix": tuple(map(tuple, obj.matrix_world)),
        "parent": obj.parent,
    }


def render_settings(scene):
    bake = scene.render.bake
    values = {
        p.identifier: getattr(bake, p.identifier)
        for p in bake.bl_rna.properties
        if p.type not in ("POINTER", "COLLECTION")
    }
    values |= {"engine": scene.render.engine, "device": scene.cycles.device}
    return values | {"samples": scene.cycles.samples}


def texture_nodes(material):
    return {n.label: n for n in material.node_tree.nodes if n.type == "TEX_IMAGE"}


def test_generate_applies_to_the_original_and_looks_like_the_result(rodin, reference, tmp_path):  # noqa: F811
    source = add_source()
    mesh_before = mesh_state(source)

    assert bpy.ops.rodin_texture.generate(apply_mode="ORIGINAL", bake_material="REPLACE") == {
        "FINISHED"
    }

    state = source.rodin_texture
    assert state.status == "done", state.message
    assert state.result_object is None
    assert mesh_state(source) == mesh_before
    material = source.material_slots[0].material
    assert [slot.material for slot in source.material_slots] == [material]
    assert material.name == "Suzanne_rodin"
    folder = Path(state.model_path).parent
    assert_valid(Path(state.model_path))
    nodes = texture_nodes(material)
    assert set(nodes) == set(PBR_MAPS)
    for name, node in nodes.items():
        assert Path(node.image.filepath) == folder / f"Suzanne_{name}.png"
        assert tuple(node.image.size) == (TEXTURE_SIZE, TEXTURE_SIZE)
        assert node.image.colorspace_settings.is_data == (name != "base_color")
        with Image.open(node.image.filepath) as saved:
            assert saved.size == (TEXTURE_SIZE, TEXTURE_SIZE)

    # The result, imported beside the original, is what the bake must look like.
    assert bpy.ops.rodin_texture.apply(apply_mode="NEW_OBJECT") == {"FINISHED"}
    result = state.result_object
    prepare_flat_renders()
    faithful = channel_psnr(result, source, tmp_path)
    print("PSNR per view:", {k: [f"{v:.1f}" for v in views] for k, views in faithful.items()})
    assert all(min(views) > PSNR_THRESHOLD for views in faithful.values()), faithful

    # Broken bakes fall below the threshold: colours with red and blue swapped, metallic and
    # roughness swapped, the normal map's green flipped (+Y read as -Y), maps read through
    # another UV layout.
    tree = material.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    channels, combined, restore = rewired_channels(tree, bsdf.inputs["Base Color"])
    for output, channel in zip(channels, ("Blue", "Green", "Red"), strict=True):
        tree.links.new(output, combined[channel])
    swapped = channel_psnr(result, source, tmp_path, ("Base Color",))
    print("PSNR per view, red and blue swapped:", swapped)
    assert max(swapped["Base Color"]) < PSNR_THRESHOLD, swapped
    restore()

    roughness, metallic = (
        bsdf.inputs[name].links[0].from_socket for name in ("Roughness", "Metallic")
    )
    tree.links.new(roughness, bsdf.inputs["Metallic"])
    tree.links.new(metallic, bsdf.inputs["Roughness"])
    swapped = channel_psnr(result, source, tmp_path, ("Roughness", "Metallic"))
    print("PSNR per view, metallic and roughness swapped:", swapped)
    assert max(swapped["Roughness"] + swapped["Metallic"]) < PSNR_THRESHOLD, swapped
    tree.links.new(roughness, bsdf.inputs["Roughness"])
    tree.links.new(metallic, bsdf.inputs["Metallic"])

    normal_map = next(node for node in tree.nodes if node.type == "NORMAL_MAP")
    channels, combined, restore = rewired_channels(tree, normal_map.inputs["Color"])
    flip = tree.nodes.new("ShaderNodeMath")
    flip.operation, flip.inputs[0].default_value = "SUBTRACT", 1.0
    tree.links.new(channels["Green"], flip.inputs[1])
    tree.links.new(channels["Red"], combined["Red"])
    tree.links.new(flip.outputs[0], combined["Green"])
    tree.links.new(channels["Blue"], combined["Blue"])
    flipped = channel_psnr(result, source, tmp_path, ("Normal",))
    print("PSNR per view, normal map's green flipped:", flipped)
    assert max(flipped["Normal"]) < PSNR_THRESHOLD, flipped
    restore()

    other = source.data.uv_layers.new(name="Other")
    coordinates = np.empty(len(other.data) * 2, np.float32)
    other.data.foreach_get("uv", coordinates)
    other.data.foreach_set("uv", coordinates.reshape(-1, 2)[:, ::-1].ravel())
    for node in tree.nodes:
        if node.type in ("UVMAP", "NORMAL_MAP"):
            node.uv_map = "Other"
    wrong_uvs = channel_psnr(result, source, tmp_path, ("Base Color", "Roughness"))
    print("PSNR per view, another UV map:", wrong_uvs)
    assert max(wrong_uvs["Base Color"] + wrong_uvs["Roughness"]) < PSNR_THRESHOLD, wrong_uvs


def rewired_channels(tree, socket):
    """Separate and Combine Color nodes put between ``socket`` and what feeds it, to break a
    bake in one channel: the separated channels, the combined colour's inputs (to wire) and a
    function putting the original link back."""
    feed = socket.links[0].from_socket
    separate = tree.nodes.new("ShaderNodeSeparateColor")
    combine = tree.nodes.new("ShaderNodeCombineColor")
    tree.links.new(feed, separate.inputs["Color"])
    tree.links.new(combine.outputs["Color"], socket)
    return separate.outputs, combine.inputs, lambda: tree.links.new(feed, socket)


@pytest.mark.parametrize("scale", [0.01, 100.0], ids=["1 cm", "100 m"])
def test_small_and_large_objects(rodin, reference, tmp_path, scale):  # noqa: F811
    source = add_source(scale=scale)
    low, high = scenes.evaluated_world_box(source)
    assert 0.5 < np.linalg.norm(high - low) / (3 * scale) < 2  # about 1 cm or 100 m across

    scores = generate_and_compare(source, tmp_path)

    assert all(min(views) > PSNR_THRESHOLD for views in scores.values()), scores


def test_a_mirrored_original(rodin, reference, tmp_path):  # noqa: F811
    source = add_source()
    source.scale.x *= -1
    bpy.context.view_layer.update()

    scores = generate_and_compare(source, tmp_path)

    assert all(min(views) > PSNR_THRESHOLD for views in scores.values()), scores


def test_shaded_results_bake_their_colour_map(rodin, reference, tmp_path):  # noqa: F811
    source = add_source()

    scores = generate_and_compare(source, tmp_path, material="Shaded")

    material = source.material_slots[0].material
    assert set(texture_nodes(material)) == {"color"}
    bsdf = material.node_tree.nodes["Principled BSDF"]
    assert bsdf.inputs["Emission Color"].is_linked and not bsdf.inputs["Base Color"].is_linked
    assert min(scores["Emission Color"]) > PSNR_THRESHOLD, scores


def test_the_original_keeps_its_mesh_and_nothing_is_left_behind(rodin, reference):  # noqa: F811
    source = add_source()
    rig = add_rig(source)
    source.data.uv_layers.active = source.data.uv_layers["Lightmap"]
    old_material = source.material_slots[0].material
    scene = bpy.context.scene
    scene.cycles.samples, scene.render.bake.margin = 37, 3
    scene.render.bake.use_selected_to_active, scene.render.bake.normal_space = False, "OBJECT"
    settings_before, mesh_before = render_settings(scene), mesh_state(source)
    datablocks_before, objects_before = scenes.datablocks(), set(bpy.data.objects)

    assert bpy.ops.rodin_texture.generate(apply_mode="ORIGINAL") == {"FINISHED"}  # a new slot

    state = source.rodin_texture
    assert state.status == "done", state.message
    assert_valid(Path(state.model_path))
    assert mesh_state(source) == mesh_before
    assert source.find_armature() == rig
    assert render_settings(scene) == settings_before
    assert set(bpy.data.objects) == objects_before
    added = {
        kind: names - datablocks_before[kind]
        for kind, names in scenes.datablocks().items()
        if names - datablocks_before[kind]
    }
    assert added.pop("images") - {Path(state.preview_path).name} == {
        f"Suzanne_{name}" for name in PBR_MAPS
    }
    assert added == {"materials": {"Suzanne_rodin"}}
    baked = bpy.data.materials["Suzanne_rodin"]
    assert [slot.material for slot in source.material_slots] == [old_material, baked]
    indices = np.empty(len(source.data.polygons), np.int32)
    source.data.polygons.foreach_get("material_index", indices)
    assert set(indices) == {1}
    uv_maps = {n.uv_map for n in baked.node_tree.nodes if n.type in ("UVMAP", "NORMAL_MAP")}
    assert uv_maps == {"Lightmap"}


def test_a_mesh_without_uvs_is_refused_unless_unwrapping_is_asked_for(rodin, reference, emulator):  # noqa: F811
    source = add_source()
    source.data.uv_layers.remove(source.data.uv_layers[0])
    mesh_before, datablocks_before = mesh_state(source), scenes.datablocks()

    with pytest.raises(RuntimeError, match="Suzanne has no UV map: unwrap it first"):
        bpy.ops.rodin_texture.generate(apply_mode="ORIGINAL")
    assert not emulator.tasks  # refused before anything was spent
    assert mesh_state(source) == mesh_before and scenes.datablocks() == datablocks_before

    assert bpy.ops.rodin_texture.generate(apply_mode="NEW_OBJECT") == {"FINISHED"}
    assert_valid(Path(source.rodin_texture.model_path))
    scenes.select_only(source, active=source)
    mesh_before, datablocks_before = mesh_state(source), scenes.datablocks()
    with pytest.raises(RuntimeError, match="Suzanne has no UV map"):
        bpy.ops.rodin_texture.apply(apply_mode="ORIGINAL")
    assert mesh_state(source) == mesh_before and scenes.datablocks() == datablocks_before

    bpy.ops.rodin_texture.apply(apply_mode="ORIGINAL", unwrap_missing_uvs=True)

    after = mesh_state(source)
    assert after["uv maps"] and after["active uv map"] == "UVMap"
    topology = ("vertices", "loops", "faces")
    assert [after[key] for key in topology] == [mesh_before[key] for key in topology]
    assert source.material_slots[-1].material.name == "Suzanne_rodin"


def test_a_failed_bake_leaves_the_original_and_the_results_folder_as_they_were(
    rodin,  # noqa: F811
    reference,
    capsys,
):
    """Nothing half-done stays: not the UV map unwrapping gave, nor the maps already written."""
    source = add_source()
    source.data.uv_layers.remove(source.data.uv_layers[0])
    assert bpy.ops.rodin_texture.generate(apply_mode="NEW_OBJECT") == {"FINISHED"}
    scenes.select_only(source, active=source)
    folder = Path(source.rodin_texture.model_path).parent
    (folder / "Suzanne_roughness.png").mkdir()  # the second map cannot be written
    files_before, mesh_before = sorted(folder.iterdir()), mesh_state(source)
    datablocks_before = scenes.datablocks()
    capsys.readouterr()

    with pytest.raises(RuntimeError):
        bpy.ops.rodin_texture.apply(apply_mode="ORIGINAL", unwrap_missing_uvs=True)

    log = capsys.readouterr().out
    assert re.search(r"unwrapped \(Smart UV Project\) in \d+\.\d s", log)
    assert "baking roughness (2/4)" in log  # failed after the first map
    assert mesh_state(source) == mesh_before  # no UV map
    assert scenes.datablocks() == datablocks_before
    assert sorted(folder.iterdir()) == files_before  # no base colour map


@pytest.mark.parametrize(
    ("texture_size", "bake_size", "made", "said"),
    [
        (TEXTURE_SIZE, "1024", 1024, ""),
        (64, "4096", 256, "baked at 256 px, not 4096: the result's textures are 64 px"),
    ],
    ids=["as chosen", "at most four times the result's"],
)
def test_a_chosen_bake_size_is_the_images_size_up_to_four_times_the_results(
    rodin, emulator, reference, capfd, texture_size, bake_size, made, said  # noqa: F811
):  # fmt: skip
    emulator.configure(texture_size=texture_size)
    source = scenes.make_grid(subdivisions=2)
    scenes.select_only(source, active=source)

    assert bpy.ops.rodin_texture.generate(
        apply_mode="ORIGINAL", bake_size=bake_size, material="Shaded"
    ) == {"FINISHED"}

    (node,) = texture_nodes(source.material_slots[-1].material).values()
    assert tuple(node.image.size) == (made, made)
    with Image.open(node.image.filepath) as saved:
        assert saved.size == (made, made)
    console = capfd.readouterr().out
    assert said in console if said else "px, not" not in console


def test_the_normal_map_carries_the_results_shading(rodin, reference, tmp_path):  # noqa: F811
    """A flat-shaded low-poly original under a smooth-shaded result: the baked normal map must
    bring its shading closer to the result's than the original's own facets are."""
    source = scenes.make_suzanne(subdivisions=0, material=False)
    scenes.select_only(source, active=source)

    baked = generate_and_compare(source, tmp_path)["Normal"]

    tree = source.material_slots[0].material.node_tree
    tree.links.remove(tree.nodes["Principled BSDF"].inputs["Normal"].links[0])
    result = source.rodin_texture.result_object
    facets = channel_psnr(result, source, tmp_path, ("Normal",))["Normal"]
    assert all(b > f + 1.0 for b, f in zip(baked, facets, strict=True)), (baked, facets)


def test_the_panel_shows_the_bake_options_for_apply_to_original(addon):
    panel = importlib.import_module(f"{addon.__name__}.blender.panel")
    settings = bpy.context.scene.rodin_texture_settings

    def properties():
        shown = draw(panel.RODIN_TEXTURE_PT_advanced).shown
        return {args[1] for name, args, _ in shown if name == "prop"}

    bake_options = {"bake_size", "bake_material", "unwrap_missing_uvs"}
    assert not properties() & bake_options
    settings.apply_mode = "ORIGINAL"
    assert properties() >= bake_options | {"apply_mode"}


def test_the_apply_dialog_offers_to_unwrap_a_mesh_without_uvs(addon):
    operators = importlib.import_module(f"{addon.__name__}.blender.operators")
    source = add_source()
    source.data.uv_layers.remove(source.data.uv_layers[0])

    class Dialog:
        layout = LayoutRecorder()
        unwrap_missing_uvs = False

    operators.RODIN_TEXTURE_OT_apply.draw(Dialog, bpy.context)

    assert "Suzanne has no UV map" in Dialog.layout.texts()
    assert ("prop", (Dialog, "unwrap_missing_uvs"), {}) in Dialog.layout.shown


@pytest.mark.parametrize("forced", [False, True], ids=["no GPU set", "CPU forced"])
def test_the_bake_says_which_device_it_uses_and_leaves_the_users_device_setting(
    rodin, addon, reference, capfd, forced  # noqa: F811
):  # fmt: skip
    preferences = bpy.context.preferences.addons[addon.__name__].preferences
    preferences.bake_on_cpu = forced
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "GPU"  # the user's own render setting
    source = scenes.make_grid(subdivisions=2)
    scenes.select_only(source, active=source)
    try:
        assert bpy.ops.rodin_texture.generate(apply_mode="ORIGINAL", material="Shaded") == {
            "FINISHED"
        }
    finally:
        preferences.bake_on_cpu = False

    said = "on the CPU, as the add-on's preferences ask" if forced else (
        "on the CPU: Cycles' preferences name no GPU in use"
    )  # fmt: skip
    assert f"Rodin: Grid: baking {said}" in capfd.readouterr().out
    assert (scene.render.engine, scene.cycles.device) == ("CYCLES", "GPU"), "as the user had it"
