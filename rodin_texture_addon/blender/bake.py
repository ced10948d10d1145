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
import os
import time
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np
from mathutils import Vector

from ..rodin import contract
from ..rodin.files import safe_file_name
from . import apply, preferences
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
# A bake larger than this many times the result's textures is made at that size instead.
MAX_UPSCALE = 4
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


def bake_size(chosen: int | None, result_size: int) -> int:
    """The size to bake at: the chosen one (None: the result's own), but at most
    ``MAX_UPSCALE`` times the result's textures, rounded up to a power of two: more adds time
    and memory and no detail (4096 over 64 px textures took 94 s and 4.1 GB)."""
    if not chosen:
        return result_size or FALLBACK_SIZE
    if result_size and chosen > MAX_UPSCALE * result_size:
        return 2 ** math.ceil(math.log2(MAX_UPSCALE * result_size))
    return chosen


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


def apply_to_original(
    context, source, glb_path, material: str, options: BakeOptions, log=print, placement=None
):
    """Bake the downloaded result onto ``source``'s active UV map and give ``source`` a material
    using the baked images (written beside the result file), all at once (background mode,
    scripts); ``bake_job.start`` does the same in steps with a window. ``placement`` puts the
    result over ``source`` (``apply.place_over`` if None). Returns the material."""
    bake = OriginalBake(context, source, glb_path, material, options, log, placement)
    try:
        bake.start()
        while not bake.all_baked:
            with collection_paused():
                bake.bake_next(invoke=False)
            bake.save_baked()
        return bake.finish()
    except BaseException:
        bake.abort()
        raise


class OriginalBake:
    """One Apply to Original, in steps: ``start`` imports the result and makes the temporary
    copies the bake runs between; then, for each map, ``bake_next`` (Blender's bake, run to its
    end or started as its background job) and ``save_baked``; ``finish`` gives the original its
    material. ``abort``, at any step, leaves nothing behind: no image in Blender or in the
    folder, no UV map that unwrapping gave, the scene's render and bake settings as they
    were."""

    def __init__(
        self, context, source, glb_path, material: str, options: BakeOptions, log=print,
        placement=None,
    ):  # fmt: skip
        check_bakeable(source, options)
        self._place = placement or apply.place_over
        self.context, self.source, self.glb_path = context, source, Path(glb_path)
        self.material, self.options, self.log = material, options, log
        self.maps = MAPS[contract.Material(material)]
        self.images: dict = {}  # map name -> image, baked (the last one maybe still baking)
        self._saved = 0  # how many of the maps are baked and saved
        self._written: list[Path] = []  # files this bake made (a failure removes only those)
        self._imported: set = set()
        self._temporary: list = []
        self._unwrapped = False
        self._saved_settings: list | None = None
        self._progress = _Progress(context, source.name, len(self.maps), log)

    @property
    def baking(self) -> BakedMap | None:
        """The map being baked, or baked and not yet saved."""
        return self.maps[self._saved] if len(self.images) > self._saved else None

    @property
    def all_baked(self) -> bool:
        return self._saved == len(self.maps)

    @property
    def step(self) -> tuple[str, int, int]:
        """(map, n, of m) of the map baking or last baked: ("metallic", 3, 4)."""
        started = max(len(self.images), 1)
        return self.maps[started - 1].label, started, len(self.maps)

    def start(self, *, spare_a_core: bool = False) -> None:
        """Import and place the result, unwrap the original if asked, make the copies. With
        ``spare_a_core`` (a window to keep live), Cycles bakes on one thread less than the
        machine has."""
        context, source = self.context, self.source
        before = _datablocks()
        try:
            result = apply.import_result(context, self.glb_path)
        finally:
            self._imported = _datablocks() - before
        self._place(result, source)
        if not source.data.uv_layers:
            self._unwrapped = True
            started = time.perf_counter()
            unwrap(context, source)
            seconds = time.perf_counter() - started
            self.log(f"Rodin: {source.name}: unwrapped (Smart UV Project) in {seconds:.1f} s")
        self._uv_name = source.data.uv_layers.active.name
        result_size = result_texture_size(result)
        self._size = bake_size(self.options.size, result_size)
        if self.options.size and self._size < self.options.size:
            self.log(
                f"Rodin: {source.name}: baked at {self._size} px, not {self.options.size}: the "
                f"result's textures are {result_size} px, so a larger bake adds no detail"
            )
        scene = context.scene
        self._saved_settings = _render_settings(scene)
        self._source_copy, self._emissions = _bake_source(result, self._temporary)
        self._target_copy, self._target_node = _bake_target(
            context, source, self._uv_name, self._temporary
        )
        scene.collection.objects.link(self._source_copy)
        scene.collection.objects.link(self._target_copy)
        context.view_layer.update()
        device, where = bake_device(preferences.get(context).bake_on_cpu)
        self.log(f"Rodin: {source.name}: baking {where}")
        samples = samples_per_texel(result_size, self._size)
        _use_cycles(scene, device, samples, spare_a_core=spare_a_core and device == "CPU")
        diagonal = _world_diagonal(self._target_copy)
        largest_scale = max(map(abs, self._target_copy.matrix_world.to_scale())) or 1.0
        self._bake_settings = {
            "use_selected_to_active": True,
            "use_cage": False,
            "cage_extrusion": CAGE_EXTRUSION * diagonal / largest_scale,
            "max_ray_distance": MAX_RAY_DISTANCE * diagonal,
            "margin": max(2, MARGIN_PER_1K * self._size // 1024),
            "target": "IMAGE_TEXTURES",
            "save_mode": "INTERNAL",
            "use_clear": True,
            "use_split_materials": False,
            "uv_layer": self._uv_name,
            "normal_space": "TANGENT",
            "normal_r": "POS_X",
            "normal_g": "POS_Y",
            "normal_b": "POS_Z",
        }

    def bake_next(self, *, invoke: bool) -> None:
        """Bake the next map into a new image: to its end, or (``invoke``, with a window)
        started as Blender's background bake job, whose end the caller waits for."""
        baked_map = self.maps[len(self.images)]
        self._progress.step(baked_map.label)
        image = bpy.data.images.new(
            f"{self.source.name}_{baked_map.name}",
            self._size,
            self._size,
            is_data=not baked_map.is_colour,
        )
        self.images[baked_map.name] = image
        self._target_node.image = image
        for emission in self._emissions:
            emission.route(baked_map)
        view_layer = self.context.view_layer
        copies = (self._source_copy, self._target_copy)
        for copy in copies:
            copy.hide_viewport = False
        view_layer.update()
        step = f"baking the {baked_map.label} map"
        with selection_kept(view_layer), window_override(self.context):
            select_only(view_layer, set(copies), self._target_copy)
            with apply.operator_step(step, BakeError):
                outcome = bpy.ops.object.bake(
                    "INVOKE_DEFAULT" if invoke else "EXEC_DEFAULT",
                    type="NORMAL" if baked_map is NORMAL else "EMIT",
                    **supported_options(bpy.ops.object.bake, self._bake_settings),
                )
        if invoke:
            # While Blender's job bakes, the viewport must not draw the copies: in Solid view
            # coloured by texture it would read the image being baked (Blender crashed so).
            for copy in copies:
                copy.hide_viewport = True
            if "RUNNING_MODAL" not in outcome:
                raise BakeError(f"Blender did not start baking the {baked_map.label} map")

    def save_baked(self) -> None:
        """Write the map just baked beside the result file, as PNG."""
        image = self.images[self.baking.name]
        # Named after the image, which Blender numbers when the name is taken: baking again never
        # overwrites the files of an earlier bake that a material may still use.
        path = self.glb_path.parent / f"{safe_file_name(image.name)}.png"
        if not path.exists():
            self._written.append(path)
        _save_png(image, path)
        self._saved += 1

    def finish(self) -> bpy.types.Material:
        """Give the original the baked material, and remove every temporary thing. A mesh
        baked before gets its earlier baked material again, refilled (another variant, say):
        no new slot, material or image names pile up."""
        state = self.source.rodin_texture
        if shows_baked_material(self.source):
            earlier, state.baked_material = state.baked_material, None  # a user no more
            baked = refill_material(earlier, self.images, self.material, self.source)
        else:
            baked = build_material(self.source, self.images, self.material)
            assign_material(self.source, baked, replace=self.options.replace_material)
        state.baked_material = baked
        self._clean_up()
        return baked

    def abort(self) -> None:
        """Put everything back as it was before ``start``."""
        bpy.data.batch_remove(self.images.values())
        self.images = {}
        for path in self._written:
            path.unlink(missing_ok=True)
        if self._unwrapped:  # the mesh had no UV map before
            while self.source.data.uv_layers:
                self.source.data.uv_layers.remove(self.source.data.uv_layers[0])
        self._clean_up()

    def _clean_up(self) -> None:
        bpy.data.batch_remove(self._temporary)
        bpy.data.batch_remove(self._imported)
        self._temporary, self._imported = [], set()
        if self._saved_settings is not None:
            _restore(self._saved_settings)
            self._saved_settings = None
        self._progress.end()


def unwrap(context, obj) -> None:
    """Give a mesh without UVs a UV map with Smart UV Project."""
    view_layer = context.view_layer
    with (
        apply.operator_step(f"unwrapping {obj.name}", BakeError),
        selection_kept(view_layer),
        window_override(context),
    ):
        select_only(view_layer, {obj}, obj)
        bpy.ops.object.mode_set(mode="EDIT")
        try:
            bpy.ops.mesh.select_all(action="SELECT")
            bpy.ops.uv.smart_project()
        finally:
            bpy.ops.object.mode_set(mode="OBJECT")


def build_material(obj, images: dict, material: str) -> bpy.types.Material:
    """A Principled BSDF material reading the baked images through ``obj``'s active UV map."""
    baked = bpy.data.materials.new(apply.named(obj.name, "_rodin"))
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
    else:
        for baked_map in (BASE_COLOUR, ROUGHNESS, METALLIC):
            tree.links.new(textures[baked_map.name], bsdf.inputs[baked_map.socket])
        normal_map = tree.nodes.new("ShaderNodeNormalMap")
        normal_map.space, normal_map.uv_map = "TANGENT", uv_name
        normal_map.location = bsdf.location + Vector((-250, -600))
        tree.links.new(textures[NORMAL.name], normal_map.inputs["Color"])
        tree.links.new(normal_map.outputs["Normal"], bsdf.inputs["Normal"])
    apply.show_colour_in_solid_view(baked)
    return baked


def refill_material(earlier, images: dict, material: str, obj) -> bpy.types.Material:
    """``earlier`` (a baked material on ``obj``) reading ``images`` instead of its own, which are
    removed and whose names the new ones take; rebuilt in its slots when the maps differ (a
    PBR result after a Shaded one)."""
    nodes = {node.label: node for node in earlier.node_tree.nodes if node.type == "TEX_IMAGE"}
    olds = {name: node.image for name, node in nodes.items() if node.image is not None}
    if set(nodes) == set(images):
        for name, image in images.items():
            nodes[name].image = image
        refilled = earlier
    else:
        refilled = build_material(obj, images, material)
        for slot in obj.material_slots:
            if slot.material == earlier:
                slot.material = refilled
        if not earlier.users:
            earlier_name = earlier.name
            bpy.data.materials.remove(earlier)
            refilled.name = earlier_name
    for name, old in olds.items():
        if old.users == 0 and all(old != image for image in images.values()):
            old_name = old.name
            bpy.data.images.remove(old)
            if name in images:  # the new image takes the old one's name
                images[name].name = old_name
    return refilled


def shows_baked_material(obj) -> bool:
    """Whether ``obj`` shows the material an Apply to Original made on it, and no other object
    does (a copy's, baked again, must not change the original's)."""
    baked = obj.rodin_texture.baked_material
    if baked is None:
        return False
    showing = [o for o in bpy.data.objects if any(s.material == baked for s in o.material_slots)]
    return showing == [obj]


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


def bake_device(force_cpu: bool) -> tuple[str, str]:
    """Where Cycles bakes ("GPU" or "CPU"), and the words that say so: the GPU when Cycles'
    preferences have one in use (CUDA, OptiX, HIP, Metal, oneAPI), unless the add-on's
    preferences force the CPU. The devices are read as saved, never probed (that can take
    seconds)."""
    if force_cpu:
        return "CPU", "on the CPU, as the add-on's preferences ask"
    cycles = bpy.context.preferences.addons.get("cycles")
    settings = cycles.preferences if cycles is not None else None
    backend = getattr(settings, "compute_device_type", "NONE")
    if settings is not None and backend != "NONE":
        gpus = [device.name for device in settings.devices if device.use and device.type == backend]
        if gpus:
            return "GPU", f"on the GPU ({backend}: {', '.join(gpus)})"
    return "CPU", (
        "on the CPU: Cycles' preferences name no GPU in use (Preferences > System > Cycles "
        "Render Devices)"
    )


def _use_cycles(scene, device: str, samples: int, *, spare_a_core: bool):
    scene.render.engine = "CYCLES"
    scene.cycles.device = device
    scene.cycles.samples = samples
    if spare_a_core:
        scene.render.threads_mode = "FIXED"
        scene.render.threads = max(1, (os.cpu_count() or 2) - 1)


def _render_settings(scene) -> list[tuple]:
    """(struct, property, value) of every setting a bake may change: the engine, the render
    threads, Cycles' device, samples and bake type, and all of the scene's bake settings
    (whatever this version has)."""
    saved = [
        (scene.render, name, getattr(scene.render, name))
        for name in ("engine", "threads_mode", "threads")
    ]
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
