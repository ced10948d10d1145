"""Renders that compare a baked original with the result it was baked from: both objects show one
material channel as emission, seen from the same cameras; PSNR per view over the pixels both
cover. Shared by tests/blender/test_bake.py, test_proxy_upload.py and scripts/bench_bake.py."""

import math
from pathlib import Path

import bpy
import numpy as np
from gltf_validator import assert_valid
from mathutils import Vector

from . import scenes

RENDER_SIZE = 64
VIEWS = ((0.3, -1.0, 0.3), (1.0, 0.4, 0.5), (-0.8, -0.5, -0.3))
CHANNELS = ("Base Color", "Roughness", "Metallic", "Normal")


def psnr(expected, actual) -> float:
    """Over the pixels both renders cover: the background would flatter any bake, and pixels on
    the silhouette differ with how each mesh's quads are split into triangles."""
    covered = (expected[:, 3] == 1) & (actual[:, 3] == 1)
    difference = np.clip(expected[covered, :3], 0, 1) - np.clip(actual[covered, :3], 0, 1)
    mse = float(np.mean(difference**2))
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def prepare_flat_renders():
    """Renders that show material values as they are: emission only, through the Standard view
    (plain sRGB: no tone mapping to squeeze differences), one ray through each pixel's centre
    (no sampling noise), a transparent film to tell the object from the background."""
    scene = bpy.context.scene
    scene.view_settings.view_transform = "Standard"
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


def generate_and_compare(source, folder, **parameters):
    """Generate with Apply to Original, then import the same result beside the original; the
    PSNR per channel and view of the baked original against it."""
    parameters = {"apply_mode": "ORIGINAL", "bake_material": "REPLACE"} | parameters
    assert bpy.ops.rodin_texture.generate(**parameters) == {"FINISHED"}
    assert source.rodin_texture.status == "done", source.rodin_texture.message
    assert_valid(Path(source.rodin_texture.model_path))
    assert bpy.ops.rodin_texture.apply(apply_mode="NEW_OBJECT") == {"FINISHED"}
    prepare_flat_renders()
    channels = ("Emission Color",) if parameters.get("material") == "Shaded" else CHANNELS
    return channel_psnr(source.rodin_texture.result_object, source, folder, channels)
