"""Mesh → GLB for the upload: one object, modifiers applied, in world space, geometry only.

Runs on the main thread. Rodin only needs the shape, so materials, UVs and the rest stay home:
they would cost upload size and could leak what the user did not mean to send.
"""

import contextlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from ..rodin import contract

MEGABYTE = 1024 * 1024
GLB_HEADER = struct.Struct("<III")  # magic, version, total length
GLB_CHUNK_HEADER = struct.Struct("<II")  # length, type

# Every option is passed explicitly, even where it is the default, so that the file does not
# depend on defaults that change between Blender versions. Options a version lacks are dropped.
GEOMETRY_ONLY_OPTIONS = {
    "export_format": "GLB",
    "use_selection": True,
    "use_active_scene": True,
    "use_visible": False,
    "use_renderable": False,
    "use_active_collection": False,
    "export_current_frame": True,
    "export_apply": False,
    "export_yup": True,
    "export_normals": True,
    "export_texcoords": False,
    "export_tangents": False,
    "export_materials": "NONE",
    "export_image_format": "NONE",
    "export_vertex_color": "NONE",
    "export_attributes": False,
    "export_animations": False,
    "export_skins": False,
    "export_morph": False,
    "export_cameras": False,
    "export_lights": False,
    "export_extras": False,
    "export_gpu_instances": False,
    "export_draco_mesh_compression_enable": False,
    "export_meshopt_compression_enable": False,
    "will_save_settings": False,
}


class ExportError(Exception):
    """Why an object cannot be uploaded, in words that tell the user what to do."""


@dataclass(frozen=True)
class ExportedModel:
    """What was written: the file for the upload, and its size and counts to show the user."""

    path: Path
    size_bytes: int
    triangle_count: int
    vertex_count: int
    bbox_min: tuple[float, float, float]
    bbox_max: tuple[float, float, float]


def window_override(context):
    """Blender's glTF operators switch scenes and modes through the window, and code run from a
    timer has none in its context: lend it the first one."""
    window = context.window or next(iter(context.window_manager.windows), None)
    return context.temp_override(window=window) if window else contextlib.nullcontext()


def selection(view_layer):
    """The selected objects and the active one, to put back with ``restore_selection``."""
    view_layer.update()  # see restore_selection
    return {o for o in view_layer.objects if o.select_get()}, view_layer.objects.active


def restore_selection(view_layer, selected, active):
    # ``view_layer.objects`` lags behind objects linked or removed since the view layer's last
    # update: it would miss the new ones and, for removed ones, crash Blender.
    view_layer.update()
    for obj in view_layer.objects:
        obj.select_set(obj in selected)
    view_layer.objects.active = active


def supported_options(operator, options: dict) -> dict:
    """The options this Blender's version of ``operator`` knows."""
    known = operator.get_rna_type().properties.keys()
    return {name: value for name, value in options.items() if name in known}


def export_geometry_glb(
    context, obj, path, *, max_bytes: int = contract.MAX_MODEL_BYTES
) -> ExportedModel:
    """Write ``obj`` alone to ``path`` as a geometry-only GLB in world space, leaving the scene,
    the selection, the active object and the mode as they were."""
    name = _check_exportable(obj)
    path = Path(path)
    if obj.mode == "EDIT":
        obj.update_from_editmode()
    depsgraph = context.evaluated_depsgraph_get()
    mesh = bpy.data.meshes.new_from_object(obj.evaluated_get(depsgraph))
    upload = None
    view_layer = context.view_layer
    selected, active = selection(view_layer)
    try:
        if not mesh.polygons:
            raise ExportError(
                f"{name} has no faces after its modifiers: Rodin textures surfaces, "
                "so give it faces or turn off the modifiers that remove them"
            )
        mesh.transform(obj.matrix_world)
        if obj.matrix_world.is_negative:
            mesh.flip_normals()  # mirroring baked into the vertices turns faces inside out
        upload = bpy.data.objects.new(f"{name}_upload", mesh)
        context.scene.collection.objects.link(upload)
        for other in selected:
            other.select_set(False)
        upload.select_set(True)
        # An active object in Edit Mode would be switched out of it by the exporter.
        view_layer.objects.active = upload
        with window_override(context):
            bpy.ops.export_scene.gltf(
                filepath=str(path),
                **supported_options(bpy.ops.export_scene.gltf, GEOMETRY_ONLY_OPTIONS),
            )
        strip_names(path)
        model = _describe(path, mesh)
    except RuntimeError as error:
        if path.is_file():
            path.unlink()
        raise ExportError(f"Blender could not export {name}: {error}") from error
    finally:
        if upload is not None:
            bpy.data.objects.remove(upload)
        bpy.data.meshes.remove(mesh)
        restore_selection(view_layer, selected, active)

    if model.size_bytes > max_bytes:
        path.unlink()
        raise ExportError(
            f"{name} makes a {model.size_bytes / MEGABYTE:.1f} MB upload, over Rodin's "
            f"{max_bytes / MEGABYTE:.0f} MB limit: add a Decimate modifier or reduce its "
            "subdivision levels, then try again"
        )
    return model


def strip_names(path: Path) -> None:
    """Remove the scene's, object's and mesh's names from a GLB: they are the user's words, not
    geometry, and the upload carries nothing but geometry."""
    data = path.read_bytes()
    magic, version, _ = GLB_HEADER.unpack_from(data)
    json_length, json_type = GLB_CHUNK_HEADER.unpack_from(data, GLB_HEADER.size)
    json_start = GLB_HEADER.size + GLB_CHUNK_HEADER.size
    gltf = json.loads(data[json_start : json_start + json_length])
    for kind in ("scenes", "nodes", "meshes"):
        for item in gltf.get(kind, []):
            item.pop("name", None)
    text = json.dumps(gltf, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)  # chunks are 4-byte aligned; JSON is padded with spaces
    rest = memoryview(data)[json_start + json_length :]
    total = json_start + len(text) + len(rest)
    with path.open("wb") as file:
        file.write(GLB_HEADER.pack(magic, version, total))
        file.write(GLB_CHUNK_HEADER.pack(len(text), json_type))
        file.write(text)
        file.write(rest)


def _check_exportable(obj) -> str:
    """The object's name, or an ExportError saying why it cannot be sent."""
    try:
        name, kind = obj.name, obj.type
    except (AttributeError, ReferenceError):
        raise ExportError("The object to texture no longer exists: select a mesh") from None
    if kind != "MESH":
        raise ExportError(
            f"{name} is a {kind}, not a mesh: convert it to a mesh or select a mesh object"
        )
    return name


def _describe(path: Path, world_mesh) -> ExportedModel:
    coordinates = np.empty(len(world_mesh.vertices) * 3, dtype=np.float32)
    world_mesh.vertices.foreach_get("co", coordinates)
    coordinates = coordinates.reshape(-1, 3)
    world_mesh.calc_loop_triangles()
    return ExportedModel(
        path=path,
        size_bytes=path.stat().st_size,
        triangle_count=len(world_mesh.loop_triangles),
        vertex_count=len(world_mesh.vertices),
        bbox_min=tuple(float(v) for v in coordinates.min(axis=0)),
        bbox_max=tuple(float(v) for v in coordinates.max(axis=0)),
    )
