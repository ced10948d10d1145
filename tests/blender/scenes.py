"""Scene builders and GLB readers shared by the real-Blender tests.

They compute what they check on their own (bounding boxes, GLB contents), so that a test does
not trust the add-on's code to grade itself.
"""

import json
import math
import struct
from pathlib import Path

import bmesh
import bpy
import numpy as np

from rodin_texture_addon.blender.operator_calls import collection_paused

GLB_MAGIC, JSON_CHUNK, BIN_CHUNK = 0x46546C67, 0x4E4F534A, 0x004E4942
COMPONENT_TYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16,
                   5125: np.uint32, 5126: np.float32}  # fmt: skip
COMPONENT_COUNTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
DATABLOCK_KINDS = (
    "objects", "meshes", "materials", "images", "textures", "collections",
    "cameras", "lights", "curves", "actions", "node_groups", "shape_keys",
)  # fmt: skip


# --- Building scenes -----------------------------------------------------------------------


def link(obj, collection=None):
    (collection or bpy.context.scene.collection).objects.link(obj)
    return obj


def make_suzanne(
    name="Suzanne",
    location=(1.0, 2.0, 0.5),
    rotation=(0.3, -0.2, 0.8),
    scale=(1.5, 1.0, 0.7),
    *,
    subdivisions=1,
    material=True,
):
    """A transformed Suzanne whose shape comes partly from a modifier, with UVs and a textured
    material, as a user's object would be."""
    bpy.ops.mesh.primitive_monkey_add()
    obj = bpy.context.active_object
    obj.name = name
    obj.location, obj.rotation_euler, obj.scale = location, rotation, scale
    if subdivisions:
        obj.modifiers.new("Subdivision", "SUBSURF").levels = subdivisions
    if material:
        obj.data.materials.append(textured_material(f"{name} material"))
    bpy.context.view_layer.update()  # matrix_world follows the new transform only after this
    return obj


def make_grid(name="Grid", subdivisions=10, size=2.0):
    bpy.ops.mesh.primitive_grid_add(
        x_subdivisions=subdivisions, y_subdivisions=subdivisions, size=size
    )
    obj = bpy.context.active_object
    obj.name = name
    return obj


def make_scan(name="Scan", segments=1000, rings=500):
    """A bumpy sphere of ``2 * segments * (rings - 1)`` triangles (a million by default) in
    latitude rings, quads between them and triangles at the poles, with a UV map and a
    textured material, as a sculpt or a scan would come: too big for Rodin's 10 MB. Built from
    arrays (Blender's UV Sphere operator takes minutes at this size)."""
    columns = np.arange(segments, dtype=np.float64)
    quads = np.arange(1, rings - 1)[:, None] + 0 * columns  # the rows of quads, by top row
    row = np.concatenate([np.zeros(segments), quads.ravel(), np.full(segments, rings - 1.0)])
    col = np.concatenate([columns, np.tile(columns, rings - 2), columns])
    # Each face's corners as (row, column) on the grid, turning outwards; a pole is one corner.
    corner_rows = np.stack([row, row + 1, row + 1, row], axis=1)
    corner_cols = np.stack([col, col, col + 1, col + 1], axis=1)
    north, south = corner_rows[:, 0] == 0, corner_rows[:, 1] == rings
    corner_cols[north, 0] += 0.5
    corner_cols[south, 1] += 0.5
    keep = np.ones(corner_rows.shape, bool)
    keep[north, 3] = keep[south, 2] = False
    rows, cols = corner_rows[keep], corner_cols[keep]
    sizes = keep.sum(axis=1)
    ring = rows.clip(1, rings - 1) - 1
    index = np.where(rows == 0, 0, 1 + ring * segments + cols.astype(int) % segments)
    index = np.where(rows == rings, 1 + (rings - 1) * segments, index)
    theta = np.linspace(0, np.pi, rings + 1)[:, None]
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)[None, :]
    radius = 1 + 0.06 * np.sin(6 * theta) * np.cos(9 * phi) + 0.01 * np.sin(40 * phi)
    grid = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi),
                     np.cos(theta) + 0 * phi], axis=-1) * radius[..., None]  # fmt: skip
    points = np.concatenate([grid[0, :1], grid[1:-1].reshape(-1, 3), grid[-1, :1]])
    mesh = bpy.data.meshes.new(name)
    mesh.vertices.add(len(points))
    mesh.vertices.foreach_set("co", points.astype(np.float32).ravel())
    mesh.loops.add(len(index))
    mesh.loops.foreach_set("vertex_index", index.astype(np.int32))
    mesh.polygons.add(len(sizes))
    mesh.polygons.foreach_set("loop_start", (np.cumsum(sizes) - sizes).astype(np.int32))
    mesh.update()
    uvs = np.stack([cols / segments, 1 - rows / rings], axis=1).astype(np.float32)
    mesh.uv_layers.new(name="UVMap").data.foreach_set("uv", uvs.ravel())
    mesh.materials.append(textured_material(f"{name} material"))
    return link(bpy.data.objects.new(name, mesh))


def make_scattered_triangles(name="Dust", count=200_000, seed=1):
    """``count`` tiny separate triangles spread through a 2 m cube: far over Rodin's 10 MB,
    and no simplification under it keeps them."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1, 1, (count, 1, 3))
    corners = (centres + rng.normal(0, 0.002, (count, 3, 3))).reshape(-1, 3)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(corners, [], np.arange(len(corners)).reshape(-1, 3))
    return link(bpy.data.objects.new(name, mesh))


def make_curve(name="Path"):
    curve = bpy.data.curves.new(name, "CURVE")
    spline = curve.splines.new("POLY")
    spline.points.add(1)
    return link(bpy.data.objects.new(name, curve))


def textured_material(name, *, shaded=False):
    """A material whose colour comes from a colour-grid image: as base colour (PBR), or, like a
    Shaded result, as emission over a black base colour."""
    image = bpy.data.images.new(f"{name} image", 32, 32)
    image.generated_type = "COLOR_GRID"
    material = bpy.data.materials.new(name)
    if material.node_tree is None:  # before 5.0 a new material has no node tree until asked
        material.use_nodes = True
    nodes = material.node_tree.nodes
    bsdf = nodes["Principled BSDF"]
    texture = nodes.new("ShaderNodeTexImage")
    texture.image = image
    if shaded:
        bsdf.inputs["Base Color"].default_value = (0.0, 0.0, 0.0, 1.0)
        material.node_tree.links.new(texture.outputs["Color"], bsdf.inputs["Emission Color"])
        bsdf.inputs["Emission Strength"].default_value = 1.0
    else:
        material.node_tree.links.new(texture.outputs["Color"], bsdf.inputs["Base Color"])
    return material


def select_only(*objects, active=None):
    bpy.context.view_layer.update()  # puts objects linked since into view_layer.objects
    for obj in bpy.context.view_layer.objects:
        obj.select_set(obj in objects)
    bpy.context.view_layer.objects.active = active


def write_result_glb(path, *, shaded=False, layout="mesh"):
    """A GLB like one Rodin sends back: a textured copy of ``make_suzanne``'s shape, moved and
    re-scaled; alone (``"mesh"``), under a transformed Empty (``"empty"``) or split in two
    meshes placed apart (``"split"``). Leaves an empty scene; returns the world bounding box of
    what it wrote, in Blender's axes."""
    obj = make_suzanne("Result", (3.0, -1.0, 2.0), (0.0, 0.0, 0.0), (0.5, 2.0, 1.2), material=False)
    obj.data.materials.append(textured_material("Result material", shaded=shaded))
    parts = [obj]
    if layout == "empty":
        empty = link(bpy.data.objects.new("root.0", None))
        empty.location, empty.rotation_euler, empty.scale = (0, 0, 1), (0, 0, math.pi / 2), (2,) * 3
        obj.parent = empty
        parts.append(empty)
    elif layout == "split":
        other = link(obj.copy())
        other.data = obj.data.copy()
        other.location.z += 1.0
        _keep_faces(obj, lambda center: center.x < 0)
        _keep_faces(other, lambda center: center.x >= 0)
        parts.append(other)
    bpy.context.view_layer.update()
    box = union_box(*(evaluated_world_box(p) for p in parts if p.type == "MESH"))
    select_only(*parts, active=obj)
    bpy.ops.export_scene.gltf(
        filepath=str(path), export_format="GLB", use_selection=True, export_apply=True
    )
    bpy.ops.wm.read_homefile(use_empty=True)
    return box


def _keep_faces(obj, keep):
    mesh = bmesh.new()
    mesh.from_mesh(obj.data)
    bmesh.ops.delete(
        mesh, geom=[f for f in mesh.faces if not keep(f.calc_center_median())], context="FACES"
    )
    mesh.to_mesh(obj.data)
    mesh.free()


# --- Measuring --------------------------------------------------------------------------------


def evaluated_world_box(obj):
    """(min, max) of the object's vertices with modifiers applied, in world space."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        return mesh_world_box(mesh, obj.matrix_world)
    finally:
        evaluated.to_mesh_clear()


def mesh_world_box(mesh, matrix_world):
    points = np.array([matrix_world @ v.co for v in mesh.vertices])
    return points.min(axis=0), points.max(axis=0)


def outward_faces(obj):
    """(faces whose winding, faces whose shading normals point away from the centre in world
    space, all faces) of ``obj`` with modifiers applied: a convex shape has all of them outward.
    Normals go to world space through the inverse transpose, as Blender draws them."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        matrix = np.array(obj.matrix_world)
        linear, normal_matrix = matrix[:3, :3], np.linalg.inv(matrix[:3, :3]).T
        points = np.array([v.co for v in mesh.vertices]) @ linear.T + matrix[:3, 3]
        centre = points.mean(axis=0)
        corner_normals = np.array([c.vector for c in mesh.corner_normals])
        winding = shading = 0
        for polygon in mesh.polygons:
            away = np.array(polygon.center) @ linear.T + matrix[:3, 3] - centre
            winding += away @ (normal_matrix @ np.array(polygon.normal)) > 0
            corners = corner_normals[list(polygon.loop_indices)].sum(axis=0)
            shading += away @ (normal_matrix @ corners) > 0
        return int(winding), int(shading), len(mesh.polygons)
    finally:
        evaluated.to_mesh_clear()


def union_box(*boxes):
    return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)


def assert_boxes_match(actual, expected, tolerance=1e-4):
    """Same box, to ``tolerance`` of the expected box's diagonal."""
    diagonal = np.linalg.norm(expected[1] - expected[0])
    np.testing.assert_allclose(actual[0], expected[0], rtol=0, atol=tolerance * diagonal)
    np.testing.assert_allclose(actual[1], expected[1], rtol=0, atol=tolerance * diagonal)


def datablocks():
    """The names of every kind of datablock a careless export or import could leave behind."""
    return {kind: {block.name for block in getattr(bpy.data, kind)} for kind in DATABLOCK_KINDS}


def render_pixels(folder: Path, size=32, samples=4):
    """A tiny Cycles render of the scene's camera, as an (n, 4) float array."""
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_denoising = False
    scene.render.resolution_x = scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(folder / "render.png")
    with collection_paused():  # the emulator's threads run while Cycles renders, as in a bake
        bpy.ops.render.render(write_still=True)
    image = bpy.data.images.load(scene.render.filepath)
    try:
        return np.array(image.pixels[:]).reshape(-1, 4)
    finally:
        bpy.data.images.remove(image)


def add_camera(location, rotation):
    camera = link(bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera")))
    camera.location, camera.rotation_euler = location, rotation
    bpy.context.scene.camera = camera
    return camera


# --- Reading and writing GLB ------------------------------------------------------------------


def read_glb(path):
    """(the JSON chunk as a dict, the binary chunk as bytes) of a GLB file."""
    data = Path(path).read_bytes()
    magic, version, length = struct.unpack_from("<III", data, 0)
    assert (magic, version, length) == (GLB_MAGIC, 2, len(data))
    json_length, kind = struct.unpack_from("<II", data, 12)
    assert kind == JSON_CHUNK
    gltf = json.loads(data[20 : 20 + json_length])
    binary = b""
    if 20 + json_length < len(data):
        bin_length, kind = struct.unpack_from("<II", data, 20 + json_length)
        assert kind == BIN_CHUNK
        binary = data[28 + json_length : 28 + json_length + bin_length]
    return gltf, binary


def write_glb(path, gltf, binary):
    """A GLB from a JSON dict and a binary chunk (to make variants of exported files)."""
    text = json.dumps(gltf).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<II", len(text), JSON_CHUNK) + text
    if binary:
        body += struct.pack("<II", len(binary), BIN_CHUNK) + binary
    Path(path).write_bytes(struct.pack("<III", GLB_MAGIC, 2, 12 + len(body)) + body)


def accessor_array(gltf, binary, index):
    """An accessor's values as an (count, components) array (tightly packed views only)."""
    accessor = gltf["accessors"][index]
    view = gltf["bufferViews"][accessor["bufferView"]]
    dtype = np.dtype(COMPONENT_TYPES[accessor["componentType"]])
    components = COMPONENT_COUNTS[accessor["type"]]
    assert view.get("byteStride", dtype.itemsize * components) == dtype.itemsize * components
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    values = np.frombuffer(binary, dtype, accessor["count"] * components, start)
    return values.reshape(accessor["count"], components)


def gltf_to_blender(points):
    """glTF is Y-up, Blender Z-up: (x, y, z) in glTF is (x, -z, y) in Blender."""
    return np.stack([points[:, 0], -points[:, 2], points[:, 1]], axis=1)
