"""Apply to original: the result's textures baked onto the original's own UVs, in real Blender
against the emulator. The baked original is rendered beside the result from the same cameras and
compared (PSNR); broken bakes are shown to fall below the same threshold."""

import math
from pathlib import Path

import bpy
import numpy as np
import pytest
from gltf_validator import assert_valid
from mathutils import Vector
from PIL import Image

from . import scenes
from .test_addon_flow import rodin  # noqa: F401  (fixture)

pytestmark = pytest.mark.blender

TEXTURE_SIZE = 128  # the emulator's maps, and so the bake's default size
RENDER_SIZE = 64
VIEWS = ((0.3, -1.0, 0.3), (1.0, 0.4, 0.5), (-0.8, -0.5, -0.3))
# Decibels a faithful bake reaches in every view, and that each broken bake below misses.
PSNR_THRESHOLD = 20.0
PBR_MAPS = ("base_color", "roughness", "metallic", "normal")
CHANNELS = ("Base Color", "Roughness", "Normal")


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


def psnr(expected, actual) -> float:
    """Over the pixels both renders cover: the background would flatter any bake, and pixels on
    the silhouette differ with how each mesh's quads are split into triangles."""
    covered = (expected[:, 3] == 1) & (actual[:, 3] == 1)
    difference = np.clip(expected[covered, :3], 0, 1) - np.clip(actual[covered, :3], 0, 1)
    mse = float(np.mean(difference**2))
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def prepare_flat_renders():
    """Renders that show material values as they are: emission only, one ray through each
    pixel's centre (no sampling noise), a transparent film to tell the object from the
    background."""
    scene = bpy.context.scene
    scene.render.film_transparent = True
    scene.cycles.filter_width = 0.01
    scene.cycles.max_bounces = 0


def show_channel(obj, channel):
    """Give ``obj`` a copy of its material that emits one channel of it: a Principled BSDF
    input's value, or (``"Normal"``) the shading normal in world space as a colour."""
    material = obj.material_slots[0].material.copy()
    tree = material.node_tree
    bsdf = next(node for node in tree.nodes if node.type == "BSDF_PRINCIPLED")
    emission = tree.nodes.new("ShaderNodeEmission")
    source = bsdf.inputs[channel]
    if channel == "Normal":
        normal = source.links[0].from_socket if source.is_linked else None
        if normal is None:
            normal = tree.nodes.new("ShaderNodeNewGeometry").outputs["Normal"]
        to_colour = tree.nodes.new("ShaderNodeVectorMath")
        to_colour.operation = "MULTIPLY_ADD"
        to_colour.inputs[1].default_value = to_colour.inputs[2].default_value = (0.5,) * 3
        tree.links.new(normal, to_colour.inputs[0])
        tree.links.new(to_colour.outputs["Vector"], emission.inputs["Color"])
    elif source.is_linked:
        tree.links.new(source.links[0].from_socket, emission.inputs["Color"])
    else:
        value = source.default_value
        emission.inputs["Color"].default_value = (value, value, value, 1.0)
    tree.links.new(emission.outputs["Emission"], tree.get_output_node("CYCLES").inputs["Surface"])
    obj.material_slots[0].link = "OBJECT"
    obj.material_slots[0].material = material


def renders(obj, folder):
    """Renders of ``obj`` alone from cameras around it (placed for its size), as RGBA arrays."""
    low, high = scenes.evaluated_world_box(obj)
    centre, diagonal = Vector((low + high) / 2), float(np.linalg.norm(high - low))
    hidden = [o for o in bpy.context.scene.objects if o.type == "MESH" and o is not obj]
    for other in hidden:
        other.hide_render = True
    obj.hide_render = False
    pictures = []
    for direction in VIEWS:
        camera = scenes.add_camera(
            centre + Vector(direction).normalized() * diagonal * 1.4, (0,) * 3
        )
        camera.rotation_euler = (-Vector(direction)).to_track_quat("-Z", "Y").to_euler()
        camera.data.clip_start, camera.data.clip_end = diagonal * 0.01, diagonal * 10
        pictures.append(scenes.render_pixels(folder, size=RENDER_SIZE, samples=1))
        bpy.data.objects.remove(camera)
    for other in hidden:
        other.hide_render = False
    return pictures


def channel_psnr(result, original, folder, channels=CHANNELS):
    """{channel: PSNR per view} of ``original`` against ``result``, channel by channel."""
    scores = {}
    for channel in channels:
        for obj in (result, original):
            show_channel(obj, channel)
        expected, actual = renders(result, folder), renders(original, folder)
        scores[channel] = [psnr(a, b) for a, b in zip(expected, actual, strict=True)]
        for obj in (result, original):
            shown = obj.material_slots[0].material
            obj.material_slots[0].link = "DATA"
            bpy.data.materials.remove(shown)
    return scores


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

    # Broken bakes fall below the threshold: colours with red and blue swapped, maps read
    # through another UV layout.
    tree = material.node_tree
    separate, combine = (
        tree.nodes.new("ShaderNodeSeparateColor"),
        tree.nodes.new("ShaderNodeCombineColor"),
    )
    base_colour = tree.nodes["Principled BSDF"].inputs["Base Color"]
    tree.links.new(base_colour.links[0].from_socket, separate.inputs["Color"])
    for output, channel in zip(separate.outputs, ("Blue", "Green", "Red"), strict=True):
        tree.links.new(output, combine.inputs[channel])
    tree.links.new(combine.outputs["Color"], base_colour)
    swapped = channel_psnr(result, source, tmp_path)
    assert min(swapped["Base Color"]) < PSNR_THRESHOLD, swapped
    tree.links.new(separate.inputs["Color"].links[0].from_socket, base_colour)

    other = source.data.uv_layers.new(name="Other")
    coordinates = np.empty(len(other.data) * 2, np.float32)
    other.data.foreach_get("uv", coordinates)
    other.data.foreach_set("uv", coordinates.reshape(-1, 2)[:, ::-1].ravel())
    for node in tree.nodes:
        if node.type in ("UVMAP", "NORMAL_MAP"):
            node.uv_map = "Other"
    wrong_uvs = channel_psnr(result, source, tmp_path)
    assert max(wrong_uvs["Base Color"] + wrong_uvs["Roughness"]) < PSNR_THRESHOLD, wrong_uvs


def generate_and_compare(source, folder, **parameters):
    """Generate with Apply to Original, then import the same result beside the original; the
    PSNR per channel and view of the baked original against it."""
    parameters = {"apply_mode": "ORIGINAL", "bake_material": "REPLACE"} | parameters
    assert bpy.ops.rodin_texture.generate(**parameters) == {"FINISHED"}
    assert source.rodin_texture.status == "done", source.rodin_texture.message
    assert bpy.ops.rodin_texture.apply(apply_mode="NEW_OBJECT") == {"FINISHED"}
    prepare_flat_renders()
    channels = ("Emission Color",) if parameters.get("material") == "Shaded" else CHANNELS
    return channel_psnr(source.rodin_texture.result_object, source, folder, channels)


@pytest.mark.parametrize("scale", [0.01, 100.0], ids=["1 cm", "100 m"])
def test_small_and_large_objects(rodin, reference, tmp_path, scale):  # noqa: F811
    source = add_source(scale=scale)
    low, high = scenes.evaluated_world_box(source)
    assert 0.5 < np.linalg.norm(high - low) / (3 * scale) < 2  # about 1 cm or 100 m across

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
