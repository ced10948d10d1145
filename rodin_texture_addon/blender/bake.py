"""The result's textures → the original object's own UV map, by baking (Cycles, on the CPU).

For meshes whose topology and UV layout must stay (rigged, animated, game-ready): the result
is imported only to be baked from (selected to active) and removed afterwards. The bake runs on
temporary copies (the original's evaluated mesh with its modifiers applied, the result with
copies of its materials), so the original and the result are never edited while baking; what
the original gets at the end is one material using the baked images.

Cycles cannot bake base colour, roughness or metallic as such in every version, so each of
those is routed into an emission shader of the temporary material and baked as EMIT; normals
are baked as NORMAL in the original's tangent space.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np
from mathutils import Vector

from ..rodin import contract
from ..rodin.files import safe_file_name
from . import apply
from .operator_calls import (
    collection_paused,
    select_only,
    selection_kept,
    supported_options,
    window_override,
)

# The cage is the original pushed out along its normals by this share of its bounding box's
# diagonal; rays go back in from there for at most the longer distance, so the result is found
# whether it lies a little outside or inside the original, at any scale. A deeper cage reaches
# results further off but, in folds and thin parts, hits the wrong side first. (Blender pushes
# the cage out in the object's own space, so the object's scale multiplies it; rays are
# measured in world space.)
CAGE_EXTRUSION = 0.003
MAX_RAY_DISTANCE = 0.01
MAX_SAMPLES = 16
FALLBACK_SIZE = 1024  # a result without images (flat colours) still gets maps this big
# Texels the bake extends past UV island borders, per 1024 texels of image (mip-map bleeding).
MARGIN_PER_1K = 8


@dataclass(frozen=True)
class BakedMap:
    """One map to bake: the Principled BSDF input it comes from (baked as EMIT through an
    emission shader) or, for normals, a NORMAL bake; and whether its values are colours."""

    name: str
    label: str
    socket: str | None
    is_colour: bool
    strength_socket: str | None = None


BASE_COLOUR = BakedMap("base_color", "base colour", "Base Color", True)
ROUGHNESS = BakedMap("roughness", "roughness", "Roughness", False)
METALLIC = BakedMap("metallic", "metallic", "Metallic", False)
NORMAL = BakedMap("normal", "normal", None, False)
SHADED_COLOUR = BakedMap("color", "colour", "Emission Color", True, "Emission Strength")
MAPS = {
    contract.Material.PBR: (BASE_COLOUR, ROUGHNESS, METALLIC, NORMAL),
    contract.Material.SHADED: (SHADED_COLOUR,),
}


class BakeError(apply.ApplyError):
    """Why the result cannot be baked onto the original, in words that say what to do."""


@dataclass(frozen=True)
class BakeOptions:
    """How to bake: image size (None: the result's own), the material's place, and whether a
    mesh without UVs may be unwrapped (Smart UV Project) instead of refused."""

    size: int | None = None
    replace_material: bool = False
    unwrap_missing_uvs: bool = False


def bake_options(size: str, material_place: str, unwrap_missing_uvs: bool) -> BakeOptions:
    """Options from the panel's (or an operator's) choices: a size item ("RESULT", "2048", ...),
    "NEW_SLOT" or "REPLACE", and whether to unwrap."""
    return BakeOptions(
        size=None if size == "RESULT" else int(size),
        replace_material=material_place == "REPLACE",
        unwrap_missing_uvs=unwrap_missing_uvs,
    )


def samples_per_texel(result_size: int, size: int) -> int:
    """One where the result's textures are no finer than the bake's (four cost twice the time
    and measured no closer), more where they are: enough to average the result's texels that
    fall in one baked texel."""
    return max(1, min(MAX_SAMPLES, math.ceil(result_size / size) ** 2))


def check_bakeable(obj, options: BakeOptions) -> None:
    """Refuse, changing nothing, an object that cannot take baked textures as asked."""
    if obj.type != "MESH":
        raise BakeError(f"{obj.name} is not a mesh: only meshes can take baked textures")
    if obj.mode == "EDIT":
        obj.update_from_editmode()
    if not obj.data.polygons:
        raise BakeError(f"{obj.name} has no faces to bake onto")
    if not obj.data.uv_layers and not options.unwrap_missing_uvs:
        raise BakeError(
            f"{obj.name} has no UV map: unwrap it first, or choose to unwrap it automatically"
            " (Smart UV Project)"
        )


def apply_to_original(context, source, glb_path, material: str, options: BakeOptions, log=print):
    """Bake the downloaded result onto ``source``'s active UV map and give ``source`` a material
    using the baked images (written beside the result file). The imported result and
    everything it brought are removed again; a failure also takes back the unwrapping. Returns
    the new material."""
    check_bakeable(source, options)
    unwrapping = not source.data.uv_layers
    before = _datablocks()
    result = apply.import_result(context, glb_path)
    imported = _datablocks() - before
    try:
        apply.place_over(result, source)
        if unwrapping:
            log(f"Rodin: {source.name}: unwrapping (Smart UV Project)")
            unwrap(context, source)
        images = bake_maps(context, result, source, Path(glb_path).parent, material, options, log)
        baked = build_material(source, images, material)
        assign_material(source, baked, replace=options.replace_material)
    except BaseException:
        if unwrapping:  # the mesh had no UV map before
            while source.data.uv_layers:
                source.data.uv_layers.remove(source.data.uv_layers[0])
        raise
    finally:
        bpy.data.batch_remove(imported)
    return baked


def unwrap(context, obj) -> None:
    """Give a mesh without UVs a UV map with Smart UV Project."""
    view_layer = context.view_layer
    with selection_kept(view_layer), window_override(context):
        select_only(view_layer, {obj}, obj)
        bpy.ops.object.mode_set(mode="EDIT")
        try:
            bpy.ops.mesh.select_all(action="SELECT")
            bpy.ops.uv.smart_project()
        finally:
            bpy.ops.object.mode_set(mode="OBJECT")


def bake_maps(context, result, target, folder, material: str, options: BakeOptions, log=print):
    """Bake ``result``'s maps onto ``target``'s active UV map as PNG files in ``folder``.

    Neither object is edited: the bake runs between temporary copies, removed afterwards with
    every other temporary datablock, and the scene's render and bake settings are put back. A
    failure leaves no image behind, in Blender or in ``folder``.
    Returns {map name: image}, the images saved to their files."""
    maps = MAPS[contract.Material(material)]
    uv_name = target.data.uv_layers.active.name
    result_size = result_texture_size(result)
    size = options.size or result_size or FALLBACK_SIZE
    scene = context.scene
    saved_settings = _render_settings(scene)
    view_layer = context.view_layer
    temporary = []
    images = {}
    written = []
    progress = _Progress(context, target.name, len(maps), log)
    with selection_kept(view_layer):
        try:
            source_copy, emission_materials = _bake_source(result, temporary)
            target_copy, target_node = _bake_target(context, target, uv_name, temporary)
            scene.collection.objects.link(source_copy)
            scene.collection.objects.link(target_copy)
            view_layer.update()
            select_only(view_layer, {source_copy, target_copy}, target_copy)
            _use_cycles_on_cpu(scene, samples_per_texel(result_size, size))
            diagonal = _world_diagonal(target_copy)
            largest_scale = max(map(abs, target_copy.matrix_world.to_scale())) or 1.0
            bake_settings = {
                "use_selected_to_active": True,
                "use_cage": False,
                "cage_extrusion": CAGE_EXTRUSION * diagonal / largest_scale,
                "max_ray_distance": MAX_RAY_DISTANCE * diagonal,
                "margin": max(2, MARGIN_PER_1K * size // 1024),
                "target": "IMAGE_TEXTURES",
                "save_mode": "INTERNAL",
                "use_clear": True,
                "use_split_materials": False,
                "uv_layer": uv_name,
                "normal_space": "TANGENT",
                "normal_r": "POS_X",
                "normal_g": "POS_Y",
                "normal_b": "POS_Z",
            }
            for baked_map in maps:
                progress.step(baked_map.label)
                image = bpy.data.images.new(
                    f"{target.name}_{baked_map.name}", size, size, is_data=not baked_map.is_colour
                )
                images[baked_map.name] = image
                target_node.image = image
                for emission in emission_materials:
                    emission.route(baked_map)
                with window_override(context), collection_paused():
                    bpy.ops.object.bake(
                        type="NORMAL" if baked_map is NORMAL else "EMIT",
                        **supported_options(bpy.ops.object.bake, bake_settings),
                    )
                # Named after the image, which Blender numbers when the name is taken: baking again
                # never overwrites the files of an earlier bake that a material may still use.
                path = Path(folder) / f"{safe_file_name(image.name)}.png"
                if not path.exists():  # a failure removes the files this bake made, only those
                    written.append(path)
                _save_png(image, path)
        except BaseException:
            bpy.data.batch_remove(images.values())
            for path in written:
                path.unlink(missing_ok=True)
            raise
        finally:
            bpy.data.batch_remove(temporary)
            _restore(saved_settings)
            progress.end()
    return images


def build_material(obj, images: dict, material: str) -> bpy.types.Material:
    """A Principled BSDF material reading the baked images through ``obj``'s active UV map."""
    baked = bpy.data.materials.new(f"{obj.name}_rodin")
    if baked.node_tree is None:  # before 5.0 a new material has no node tree until asked
        baked.use_nodes = True
    tree = baked.node_tree
    bsdf = next(node for node in tree.nodes if node.type == "BSDF_PRINCIPLED")
    uv_name = obj.data.uv_layers.active.name
    uv_node = tree.nodes.new("ShaderNodeUVMap")
    uv_node.uv_map = uv_name
    uv_node.location = bsdf.location + Vector((-900, 0))
    textures = {}
    for row, (name, image) in enumerate(images.items()):
        node = tree.nodes.new("ShaderNodeTexImage")
        node.image, node.label = image, name
        node.location = bsdf.location + Vector((-600, -300 * row))
        tree.links.new(uv_node.outputs["UV"], node.inputs["Vector"])
        textures[name] = node.outputs["Color"]
    if contract.Material(material) is contract.Material.SHADED:
        # As a Shaded result is shown: its colour (lighting included) as emission.
        bsdf.inputs["Base Color"].default_value = (0.0, 0.0, 0.0, 1.0)
        bsdf.inputs["Roughness"].default_value = 1.0
        tree.links.new(textures[SHADED_COLOUR.name], bsdf.inputs["Emission Color"])
        bsdf.inputs["Emission Strength"].default_value = 1.0
        return baked
    for baked_map in (BASE_COLOUR, ROUGHNESS, METALLIC):
        tree.links.new(textures[baked_map.name], bsdf.inputs[baked_map.socket])
    normal_map = tree.nodes.new("ShaderNodeNormalMap")
    normal_map.space, normal_map.uv_map = "TANGENT", uv_name
    normal_map.location = bsdf.location + Vector((-250, -600))
    tree.links.new(textures[NORMAL.name], normal_map.inputs["Color"])
    tree.links.new(normal_map.outputs["Normal"], bsdf.inputs["Normal"])
    return baked


def assign_material(obj, material, *, replace: bool) -> None:
    """Show ``material`` on every face: in each existing slot (``replace``), or in a new slot
    that every face is assigned to, the old materials staying in their slots."""
    if replace and obj.material_slots:
        for slot in obj.material_slots:
            slot.material = material
        return
    obj.data.materials.append(material)
    indices = np.full(len(obj.data.polygons), len(obj.material_slots) - 1, dtype=np.int32)
    obj.data.polygons.foreach_set("material_index", indices)
    obj.data.update()


# --- the temporary copies -----------------------------------------------------------------


class _EmissionRouting:
    """A temporary copy of one of the result's materials whose surface can be switched between
    its own shader (for normals) and an emission shader fed by one of its BSDF's inputs."""

    def __init__(self, material):
        self.material = material.copy()
        tree = self.material.node_tree
        self.tree = tree
        self.bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
        if self.bsdf is None:
            raise BakeError(f"The result's material {material.name} has no Principled BSDF")
        self.output = tree.get_output_node("CYCLES") or tree.nodes.new("ShaderNodeOutputMaterial")
        surface = self.output.inputs["Surface"]
        self.shader = surface.links[0].from_socket if surface.is_linked else self.bsdf.outputs[0]
        self.emission = tree.nodes.new("ShaderNodeEmission")

    def route(self, baked_map: BakedMap) -> None:
        surface = self.output.inputs["Surface"]
        if baked_map.socket is None:
            self.tree.links.new(self.shader, surface)
            return
        colour = self.emission.inputs["Color"]
        for link in colour.links:
            self.tree.links.remove(link)
        source = self.bsdf.inputs[baked_map.socket]
        if source.is_linked:
            self.tree.links.new(source.links[0].from_socket, colour)
        else:
            value = source.default_value
            colour.default_value = (value, value, value, 1.0) if np.ndim(value) == 0 else value
        strength = baked_map.strength_socket
        self.emission.inputs["Strength"].default_value = (
            self.bsdf.inputs[strength].default_value if strength else 1.0
        )
        self.tree.links.new(self.emission.outputs["Emission"], surface)


def _bake_source(result, temporary):
    """An object showing ``result``'s mesh with emission-routable copies of its materials."""
    if not result.material_slots or not any(slot.material for slot in result.material_slots):
        raise BakeError(f"The result {result.name} has no material to bake from")
    copy = result.copy()
    temporary.append(copy)
    routings = []
    for slot in copy.material_slots:
        if slot.material is None:
            continue
        routing = _EmissionRouting(slot.material)
        temporary.append(routing.material)
        routings.append(routing)
        slot.link = "OBJECT"
        slot.material = routing.material
    copy.hide_viewport = copy.hide_render = False
    return copy, routings


def _bake_target(context, target, uv_name, temporary):
    """An object with ``target``'s evaluated mesh (modifiers, shape keys and pose applied) and
    one material whose active image node receives the bake."""
    evaluated = target.evaluated_get(context.evaluated_depsgraph_get())
    mesh = bpy.data.meshes.new_from_object(
        evaluated, preserve_all_data_layers=True, depsgraph=context.evaluated_depsgraph_get()
    )
    temporary.append(mesh)
    if uv_name not in mesh.uv_layers:
        raise BakeError(f"{target.name}'s modifiers remove its UV map {uv_name}")
    mesh.uv_layers.active = mesh.uv_layers[uv_name]
    mesh.uv_layers[uv_name].active_render = True
    material = bpy.data.materials.new(f"{target.name}_bake_target")
    temporary.append(material)
    if material.node_tree is None:
        material.use_nodes = True
    node = material.node_tree.nodes.new("ShaderNodeTexImage")
    material.node_tree.nodes.active = node
    mesh.materials.clear()
    mesh.materials.append(material)
    mesh.polygons.foreach_set("material_index", np.zeros(len(mesh.polygons), dtype=np.int32))
    copy = bpy.data.objects.new(f"{target.name}_bake_target", mesh)
    temporary.append(copy)
    copy.matrix_world = target.matrix_world.copy()
    return copy, node


def _world_diagonal(obj) -> float:
    corners = np.array([obj.matrix_world @ Vector(corner) for corner in obj.bound_box])
    return float(np.linalg.norm(corners.max(axis=0) - corners.min(axis=0)))


def result_texture_size(result) -> int:
    sizes = [
        max(node.image.size)
        for slot in result.material_slots
        if slot.material is not None and slot.material.node_tree is not None
        for node in slot.material.node_tree.nodes
        if node.type == "TEX_IMAGE" and node.image is not None
    ]
    return max(sizes, default=0)


def _save_png(image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.filepath_raw = str(path)
    image.file_format = "PNG"
    image.save()


def _datablocks() -> set:
    """Every datablock an import can add (to remove exactly what it added)."""
    kinds = ("objects", "meshes", "materials", "images", "textures", "node_groups")
    return {block for kind in kinds for block in getattr(bpy.data, kind)}


# --- render settings ----------------------------------------------------------------------


def _use_cycles_on_cpu(scene, samples: int):
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples


def _render_settings(scene) -> list[tuple]:
    """(struct, property, value) of every setting a bake may change: the engine, Cycles' device,
    samples and bake type, and all of the scene's bake settings (whatever this version has)."""
    saved = [(scene.render, "engine", scene.render.engine)]
    for name in ("device", "samples", "bake_type"):
        if hasattr(scene.cycles, name):
            saved.append((scene.cycles, name, getattr(scene.cycles, name)))
    bake = scene.render.bake
    for prop in bake.bl_rna.properties:
        if not prop.is_readonly and prop.type not in ("POINTER", "COLLECTION"):
            saved.append((bake, prop.identifier, getattr(bake, prop.identifier)))
    return saved


def _restore(saved) -> None:
    for struct, name, value in saved:
        if getattr(struct, name) != value:
            setattr(struct, name, value)


class _Progress:
    """Stages on the console (and, with a window, the cursor's progress counter)."""

    def __init__(self, context, name, steps, log):
        self.window_manager = None if bpy.app.background else context.window_manager
        self.name, self.steps, self.log, self.done = name, steps, log, 0
        if self.window_manager is not None:
            self.window_manager.progress_begin(0, steps)

    def step(self, label):
        self.done += 1
        self.log(f"Rodin: {self.name}: baking {label} ({self.done}/{self.steps})")
        if self.window_manager is not None:
            self.window_manager.progress_update(self.done)

    def end(self):
        if self.window_manager is not None:
            self.window_manager.progress_end()
