"""The returned GLB → the scene: one mesh object, exactly over its source.

Rodin keeps the shape but not its placement, vertex order or node names, and may wrap the mesh
in an Empty or split it; what it sends back is reduced to one mesh and fitted to the source's
bounding box.
"""

import contextlib
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np
from mathutils import Matrix
from mathutils.bvhtree import BVHTree

from ..geometry import parts as joined_parts
from . import mesh_arrays
from .operator_calls import selection_kept, supported_options, window_override

# The longest datablock name, in bytes (Blender cuts a longer one, and may add ".001").
NAME_BYTES = 255 if bpy.app.version >= (5, 0, 0) else 63
IMPORT_OPTIONS = {
    "import_pack_images": True,  # the .blend keeps the textures when the download is gone
    "import_scene_as_collection": False,
}


class ApplyError(Exception):
    """A downloaded result that cannot be put in the scene: its text says why."""


class BrokenResult(ApplyError):
    """A downloaded file Blender cannot read as a mesh: fetching it again may mend it."""


@contextlib.contextmanager
def operator_step(step: str, error_type: type[ApplyError] = ApplyError):
    """Around calls of Blender's operators only: their failure (a bare RuntimeError) becomes an
    ``error_type`` that names the step ("importing Suzanne.glb")."""
    try:
        yield
    except RuntimeError as error:
        raise error_type(f"Blender failed while {step}: {error}") from error


def import_result(context, glb_path) -> bpy.types.Object:
    """Import ``glb_path`` as one mesh object with its world transform, in the active collection,
    leaving nothing else behind and the selection as it was (Edit Mode is left, as Blender's
    importer does)."""
    view_layer = context.view_layer
    objects_before = set(bpy.data.objects)
    collections_before = set(bpy.data.collections)
    with selection_kept(view_layer):
        try:
            step = f"importing {Path(glb_path).name}"
            with operator_step(step, BrokenResult), window_override(context):
                bpy.ops.import_scene.gltf(
                    filepath=str(glb_path),
                    **supported_options(bpy.ops.import_scene.gltf, IMPORT_OPTIONS),
                )
            view_layer.update()
            meshes = [o for o in bpy.data.objects if o not in objects_before and o.type == "MESH"]
            if not meshes:
                raise BrokenResult(f"{Path(glb_path).name} holds no mesh")
            for obj in meshes:
                world = obj.matrix_world.copy()
                obj.parent = None
                obj.matrix_world = world
            result = _join(context, meshes)
            _remove_created(objects_before, collections_before, keep=result)
            _link_only(result, [view_layer.active_layer_collection.collection])
        except Exception:
            _remove_created(objects_before, collections_before)
            raise
    _show_emission(result.data.materials)
    return result


def place_over(result, source) -> None:
    """Fit ``result``'s world bounding box to ``source``'s (modifiers applied) per axis, then give
    it the source's transform, so its mesh is in the source's local space and can replace it."""
    fit_to_box(result, *_evaluated_world_box(source))
    _into_local_space(result, source, source.matrix_world)


def place_as_submitted(result, source, box, matrix) -> None:
    """``place_over`` for a mesh textured together with others: the result (of them all) is
    fitted to ``box``, the joined upload's world box, and goes with ``source`` as it moved since
    its world transform was ``matrix`` (when the task was submitted)."""
    fit_to_box(result, *box)
    _into_local_space(result, source, Matrix(matrix))


def fit_to_box(result, low, high) -> None:
    """Fit ``result``'s world bounding box to the box from ``low`` to ``high`` per axis, its mesh
    then in world space (its transform the identity)."""
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    result_min, result_max = _world_box(result.data, result.matrix_world)
    source_size, result_size = high - low, result_max - result_min
    # An axis along which the result is flat cannot be stretched: it is only centred.
    flat = result_size <= 1e-9 * np.linalg.norm(result_size)
    scale = np.divide(source_size, result_size, out=np.ones(3), where=~flat)
    offset = (low + high) / 2 - scale * (result_min + result_max) / 2
    fit = Matrix.Diagonal((*scale, 1.0))
    fit.translation = offset
    _transform(result.data, fit @ result.matrix_world)
    result.matrix_world = Matrix.Identity(4)


def _into_local_space(result, source, matrix) -> None:
    """Move a result in world space into the space ``matrix`` makes local, and give it the
    source's transform."""
    _transform(result.data, matrix.inverted_safe())
    result.matrix_world = source.matrix_world.copy()


def _transform(mesh, matrix) -> None:
    mesh.transform(matrix)
    if matrix.determinant() < 0:  # a mirroring transform turned the faces inside out
        mesh.flip_normals()
    mesh.update()


def apply_result(
    context,
    source,
    glb_path,
    *,
    replace: bool = False,
    in_place: bool = False,
    from_proxy: bool = False,
) -> bpy.types.Object:
    """Put the result over ``source``: as a new ``<source>_rodin`` object (``_rodin_proxy``
    when the result is of an upload proxy, ``from_proxy``: a simplified copy) in the source's
    collections (with ``in_place``, for a person at the window, shown in the source's place:
    see ``show_result``; scripts keep both shown and their selection as it was); or,
    with ``replace``, as the source's new mesh and material (its name and transform stay; its
    modifiers stay too but are switched off, since the result already shows their effect).
    Returns the object that now shows the result."""
    result = import_result(context, glb_path)
    place_over(result, source)
    name_after_source(result, source.name)
    return _put(context, source, result, replace, in_place, from_proxy)


def apply_joined(
    context,
    parts,
    box,
    glb_path,
    *,
    replace: bool = False,
    in_place: bool = False,
    from_proxy: bool = False,
) -> list[bpy.types.Object]:
    """``apply_result`` for a result of several meshes textured together: ``parts`` is, for
    each of them, (object, its world matrix when submitted); ``box``, the joined upload's world
    box. The result is fitted to the box, cut into one piece per part (each face goes to the
    part whose surface is nearest) and each piece is put over its part as ``apply_result`` puts
    a result. Returns the objects that now show the result, in the order of ``parts``."""
    whole = import_result(context, glb_path)
    try:
        fit_to_box(whole, *box)
        name_after_source(whole, parts[0][0].name)  # the materials, which the pieces share
        owners = _nearest_parts(context, whole.data, parts)
        pieces = _pieces(whole, owners, len(parts))
    finally:
        mesh = whole.data
        bpy.data.objects.remove(whole)
        if mesh.users == 0:
            bpy.data.meshes.remove(mesh)
    shown = []
    for (source, matrix), piece in zip(parts, pieces, strict=True):
        piece.data.name = named(source.name, "_rodin")
        _into_local_space(piece, source, Matrix(matrix))
        shown.append(_put(context, source, piece, replace, in_place, from_proxy))
    return shown


def _nearest_parts(context, mesh, parts) -> np.ndarray:
    """For each face of ``mesh`` (in world space), the index of the part whose surface is
    nearest to its centre, each part as it was when submitted: told by ``parts.cell_owners``
    where it can, else by a search tree of every part's triangles."""
    centres = mesh_arrays.read(mesh.polygons, "center", 3, np.float64)
    depsgraph = context.evaluated_depsgraph_get()
    positions, triangles = [], []
    for source, matrix in parts:
        points, corners = _evaluated_triangles(source, depsgraph)
        world = np.array(matrix)
        positions.append(points @ world[:3, :3].T + world[:3, 3])
        triangles.append(corners)
    owners = joined_parts.cell_owners(centres, positions, triangles)
    unknown = np.flatnonzero(owners < 0)
    if len(unknown):
        starts = np.cumsum([0] + [len(points) for points in positions])
        first_triangles = np.cumsum([0] + [len(corners) for corners in triangles])[:-1]
        every = np.concatenate([c + start for c, start in zip(triangles, starts, strict=False)])
        tree = BVHTree.FromPolygons(np.concatenate(positions).tolist(), every.tolist())
        nearest = [tree.find_nearest(centre)[2] for centre in centres[unknown].tolist()]
        owners[unknown] = np.searchsorted(first_triangles, nearest, side="right") - 1
    return owners


def _evaluated_triangles(obj, depsgraph):
    """(positions, triangles) of ``obj``'s evaluated mesh, in its own space."""
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        _, corner_vertices = mesh_arrays.triangle_corners(mesh)
        return mesh_arrays.positions(mesh).astype(np.float64), corner_vertices.reshape(-1, 3)
    finally:
        evaluated.to_mesh_clear()


# The attribute types a piece copies, with the property that reads them and its width.
_ATTRIBUTE_READS = {
    "FLOAT": ("value", 1, np.float32), "INT": ("value", 1, np.int32),
    "BOOLEAN": ("value", 1, bool), "INT8": ("value", 1, np.int32),
    "FLOAT2": ("vector", 2, np.float32), "INT32_2D": ("value", 2, np.int32),
    "INT16_2D": ("value", 2, np.int32),  # custom normals, as Blender 4.5 keeps them
    "FLOAT_VECTOR": ("vector", 3, np.float32), "FLOAT_COLOR": ("color", 4, np.float32),
    "BYTE_COLOR": ("color", 4, np.float32), "QUATERNION": ("value", 4, np.float32),
}  # fmt: skip


def _pieces(whole, owners: np.ndarray, count: int) -> list[bpy.types.Object]:
    """``count`` new objects, the faces of ``whole`` whose owner is each one's index (in the
    collections of ``whole``); none of them if one fails."""
    faces = _Faces.read(whole.data)
    pieces = []
    try:
        for index in range(count):
            pieces.append(faces.piece(owners == index, whole.users_collection))
    except BaseException:
        bpy.data.batch_remove([*pieces, *(piece.data for piece in pieces)])
        raise
    return pieces


@dataclass
class _Faces:
    """What a mesh cut into pieces gives each piece, read once and whole: the faces' corners
    and their vertices, the point, face and corner attributes (UV maps, colours, material
    indices, custom normals where they are an attribute: (name, type, domain, property,
    values) each), the sharp edges (as vertex pairs; custom normals are kept relative to
    them), the custom normals otherwise, the active UV map and the materials."""

    name: str
    starts: np.ndarray
    sizes: np.ndarray
    corner_vertices: np.ndarray
    attributes: list
    sharp_edges: np.ndarray
    normals: np.ndarray | None
    uv_map: str | None
    materials: list

    @classmethod
    def read(cls, mesh) -> "_Faces":
        attributes = []
        for attribute in mesh.attributes:
            read = _ATTRIBUTE_READS.get(attribute.data_type)
            if read is None or attribute.name.startswith(".") or attribute.domain == "EDGE":
                continue
            prop, width, dtype = read
            values = mesh_arrays.read(attribute.data, prop, width, dtype)
            attributes.append((attribute.name, attribute.data_type, attribute.domain, prop,
                               values))  # fmt: skip
        normals = None
        if mesh.has_custom_normals and "custom_normal" not in [a[0] for a in attributes]:
            normals = mesh_arrays.read(mesh.corner_normals, "vector", 3, np.float32)
        sharp_edges = np.empty((0, 2), dtype=np.int64)
        if "sharp_edge" in mesh.attributes:
            sharp = mesh_arrays.read(mesh.attributes["sharp_edge"].data, "value", 1, bool)
            sharp_edges = mesh_arrays.read(mesh.edges, "vertices", 2, np.int64)[sharp]
        return cls(
            name=mesh.name,
            starts=mesh_arrays.read(mesh.polygons, "loop_start", 1, np.int64),
            sizes=mesh_arrays.read(mesh.polygons, "loop_total", 1, np.int64),
            corner_vertices=mesh_arrays.read(mesh.loops, "vertex_index", 1, np.int64),
            attributes=attributes,
            sharp_edges=sharp_edges,
            normals=normals,
            uv_map=mesh.uv_layers.active.name if mesh.uv_layers.active is not None else None,
            materials=list(mesh.materials),
        )

    def piece(self, faces: np.ndarray, collections) -> bpy.types.Object:
        """A new object of the faces where ``faces`` is true."""
        kept = np.flatnonzero(faces)
        sizes = self.sizes[kept]
        starts = np.cumsum(sizes) - sizes
        corners = np.repeat(self.starts[kept] - starts, sizes) + np.arange(sizes.sum())
        vertices, corner_vertices = np.unique(self.corner_vertices[corners], return_inverse=True)
        mesh = bpy.data.meshes.new(self.name)
        mesh.vertices.add(len(vertices))
        mesh.loops.add(len(corners))
        mesh.polygons.add(len(kept))
        mesh.loops.foreach_set("vertex_index", corner_vertices.ravel().astype(np.int32))
        mesh.polygons.foreach_set("loop_start", starts.astype(np.int32))
        picked = {"POINT": vertices, "FACE": kept, "CORNER": corners}
        for name, data_type, domain, prop, values in self.attributes:
            target = mesh.attributes.get(name) or mesh.attributes.new(name, data_type, domain)
            target.data.foreach_set(prop, values[picked[domain]].ravel())
        mesh.update(calc_edges=True)
        self._mark_sharp_edges(mesh, vertices)
        if self.uv_map is not None:
            mesh.uv_layers.active = mesh.uv_layers[self.uv_map]
        for material in self.materials:
            mesh.materials.append(material)
        if self.normals is not None:
            mesh.normals_split_custom_set(self.normals[corners].tolist())  # faster than numpy
        piece = bpy.data.objects.new(mesh.name, mesh)
        for collection in collections:
            collection.objects.link(piece)
        return piece

    def _mark_sharp_edges(self, mesh, vertices: np.ndarray) -> None:
        """The sharp edges of the whole that are edges of the piece (``vertices``: the whole's
        vertex of each of the piece's)."""
        if not len(self.sharp_edges):
            return
        edges = vertices[mesh_arrays.read(mesh.edges, "vertices", 2, np.int64)]
        whole_keys, piece_keys = (np.sort(pairs, axis=1) @ [1, 1 << 32]
                                  for pairs in (self.sharp_edges, edges))  # fmt: skip
        sharp = np.isin(piece_keys, whole_keys)
        if sharp.any():
            attribute = mesh.attributes.get("sharp_edge") or mesh.attributes.new(
                "sharp_edge", "BOOLEAN", "EDGE"
            )
            attribute.data.foreach_set("value", sharp)


def _put(context, source, result, replace, in_place, from_proxy) -> bpy.types.Object:
    """The last step of ``apply_result``: the result, placed over ``source``, shown."""
    for material in result.data.materials:
        show_colour_in_solid_view(material)
    if replace:
        previous_mesh = source.data
        source.data = result.data  # safe in Edit Mode too: the import left it
        for slot in source.material_slots:
            slot.link = "DATA"  # a material linked to the object would hide the result's
        for modifier in source.modifiers:
            modifier.show_viewport = modifier.show_render = False
        bpy.data.objects.remove(result)
        if previous_mesh.users == 0:
            bpy.data.meshes.remove(previous_mesh)
        return source
    result.name = named(source.name, "_rodin_proxy" if from_proxy else "_rodin")
    _link_only(result, source.users_collection or [context.scene.collection])
    if in_place:
        context.view_layer.update()
        show_result(context.view_layer, source, result, shown=True)
    return result


def named(source_name: str, suffix: str) -> str:
    """``<source_name><suffix>``, the source's name cut where the whole would be too long for
    Blender, so that the suffix and a ".001" Blender may add always fit."""
    room = NAME_BYTES - len(suffix.encode()) - len(".001")
    return source_name.encode()[:room].decode(errors="ignore") + suffix


def name_after_source(result, source_name: str) -> None:
    """Name the result's mesh, materials and images after the object it textures (the file
    names them "material.001", "Image_0"): Suzanne_rodin, Suzanne_rodin_material,
    Suzanne_rodin_base_color."""
    result.data.name = named(source_name, "_rodin")
    materials = [m for m in result.data.materials if m is not None]
    for number, material in enumerate(materials, start=1):
        # Not "<source>_rodin": that is the name of the material a bake gives the original.
        suffix = "_rodin_material" if len(materials) == 1 else f"_rodin_material_{number}"
        material.name = named(source_name, suffix)
        if material.node_tree is None:
            continue
        for node in material.node_tree.nodes:
            if node.type == "TEX_IMAGE" and node.image is not None:
                node.image.name = named(source_name, f"_rodin_{_image_role(node)}")


def _image_role(node) -> str:
    """What an imported image gives the material, from where its colour goes."""
    for link in node.outputs["Color"].links:
        target = link.to_node
        if target.type == "BSDF_PRINCIPLED":
            return link.to_socket.name.lower().replace(" ", "_")  # base_color, emission_color
        if target.type == "NORMAL_MAP":
            return "normal"
        if target.type in ("SEPARATE_COLOR", "SEPRGB"):
            return "metallic_roughness"  # glTF's packed map
    return "texture"


def show_result(view_layer, source, result, *, shown: bool) -> None:
    """Show either the result or its source, never both (their surfaces would fight): the one
    shown takes over the other's selection, and its active place if it had it."""
    visible, hidden = (result, source) if shown else (source, result)
    if visible.name not in view_layer.objects or hidden.name not in view_layer.objects:
        return
    visible.hide_set(False)
    visible.select_set(hidden.select_get())
    if view_layer.objects.active == hidden:
        view_layer.objects.active = visible
    hidden.select_set(False)
    hidden.hide_set(True)


def show_colour_in_solid_view(material) -> None:
    """Make the image that gives the colour the material's active node, the one the Solid view
    shows when it is set to colour by texture."""
    tree = material.node_tree if material is not None else None
    bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None) if tree else None
    if bsdf is None:
        return
    for socket_name in ("Base Color", "Emission Color"):
        socket = bsdf.inputs[socket_name]
        if socket.is_linked and socket.links[0].from_node.type == "TEX_IMAGE":
            tree.nodes.active = socket.links[0].from_node
            return


def load_preview(path) -> bpy.types.Image:
    """The task's preview picture (WebP); a file already loaded is reused, not loaded twice."""
    return bpy.data.images.load(str(path), check_existing=True)


def _join(context, meshes):
    """One object from several, keeping where each part was in the world."""
    keep = meshes[0]
    if len(meshes) > 1:
        joined_data = [o.data for o in meshes[1:]]
        with (
            operator_step("joining the result's parts"),
            context.temp_override(
                active_object=keep, selected_objects=meshes, selected_editable_objects=meshes
            ),
        ):
            bpy.ops.object.join()
        for mesh in joined_data:
            if mesh.users == 0:
                bpy.data.meshes.remove(mesh)
    return keep


def _link_only(obj, collections):
    for collection in obj.users_collection:
        collection.objects.unlink(obj)
    for collection in collections:
        collection.objects.link(obj)


def _remove_created(objects_before, collections_before, keep=None):
    """Remove what the importer made besides ``keep``: Empties, any other object, their data,
    and collections."""
    for obj in set(bpy.data.objects) - objects_before - {keep}:
        data = obj.data
        bpy.data.objects.remove(obj)
        if data is not None and data.users == 0:
            bpy.data.batch_remove([data])
    for collection in set(bpy.data.collections) - collections_before:
        bpy.data.collections.remove(collection)


def _show_emission(materials):
    """glTF's default emissiveFactor is black, so a colour map sent as an emissive texture without
    a factor (as Shaded results may be) imports at strength 0 and renders black: light it."""
    for material in materials:
        if material is None or material.node_tree is None:
            continue
        for node in material.node_tree.nodes:
            if (
                node.type == "BSDF_PRINCIPLED"
                and node.inputs["Emission Color"].is_linked
                and node.inputs["Emission Strength"].default_value == 0
            ):
                node.inputs["Emission Strength"].default_value = 1.0


def _evaluated_world_box(obj):
    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        if not mesh.vertices:
            raise ApplyError(f"{obj.name} has no geometry to place the result over")
        return _world_box(mesh, obj.matrix_world)
    finally:
        evaluated.to_mesh_clear()


def _world_box(mesh, matrix_world):
    # Reduced along contiguous rows: numpy's min over the first axis of an (n, 3) array is ten
    # times slower.
    matrix = np.array(matrix_world)
    world = matrix[:3, :3] @ mesh_arrays.positions(mesh).T.astype(np.float64) + matrix[:3, 3:]
    return world.min(axis=1), world.max(axis=1)
