"""Data the add-on keeps in the .blend: panel settings on the scene, one job on each object.

The API key is not here: it lives in the add-on preferences (or the environment), which are
never saved into a .blend file.
"""

import json
import random
from enum import Enum

import bpy

from ..jobs import JobSnapshot, Phase
from ..rodin import contract
from ..rodin.texture_settings import TEXTURE_SETTINGS, TextureSetting
from .export import MIN_PROXY_DETAIL

STATUS_ITEMS = [(phase.value, phase.value.title(), "") for phase in Phase]
APPLY_MODE_ITEMS = [
    (
        "NEW_OBJECT",
        "New Object",
        "Add the textured result beside the original, which stays untouched",
    ),
    ("REPLACE", "Replace Mesh", "Give the original the result's mesh and material (undoable)"),
    (
        "ORIGINAL",
        "Apply to Original (Keep Topology and UVs)",
        "Bake the result's textures onto the original's own UV map; its mesh stays as it is",
    ),
]
BAKE_SIZE_ITEMS = [
    ("RESULT", "Result Size", "Bake at the size of the result's own textures"),
    ("1024", "1K", "1024 × 1024 images"),
    ("2048", "2K", "2048 × 2048 images"),
    ("4096", "4K", "4096 × 4096 images"),
]
BAKE_MATERIAL_ITEMS = [
    ("NEW_SLOT", "New Slot", "Add the baked material in a new slot; the old ones stay"),
    ("REPLACE", "Replace", "Put the baked material in place of the original's materials"),
]
UNFINISHED = {Phase.UPLOADING, Phase.WAITING, Phase.GENERATING, Phase.DOWNLOADING}
MAX_VARIANTS = 4
# The lowest value a panel takes for a setting that must be greater than its minimum.
PANEL_STEP = 0.01


def limits(clamped: bool, low, high=None) -> dict:
    """A property's range: hard (``min``, ``max``) when ``clamped``, else for the slider only."""
    bounds = {"min": low} | ({} if high is None else {"max": high})
    return bounds if clamped else {f"soft_{name}": value for name, value in bounds.items()}


def texture_property(setting: TextureSetting, *, clamped: bool, **options):
    """The Blender property of one texture setting. The panel's are ``clamped`` to their range;
    an operator's are not, so that a value out of range reaches the request's validation, which
    refuses it with a message, instead of being changed without a word."""
    common = {"name": setting.label, "description": setting.tooltip, **options}
    if issubclass(setting.kind, Enum):
        items = [(member.value, *setting.choices[member]) for member in setting.kind]
        return bpy.props.EnumProperty(items=items, default=setting.default.value, **common)
    if setting.kind is str:
        return bpy.props.StringProperty(default=setting.default, **common)
    if setting.kind is bool:
        return bpy.props.BoolProperty(default=setting.default, **common)
    low = setting.minimum
    if setting.minimum_excluded:
        low += PANEL_STEP
    bounds = limits(clamped, low, setting.maximum)
    if setting.kind is int:
        return bpy.props.IntProperty(default=setting.default, **bounds, **common)
    if setting.slider_maximum is not None:
        bounds.setdefault("soft_max", setting.slider_maximum)
    return bpy.props.FloatProperty(default=setting.default, **bounds, **common)


def variants_property(**options):
    """How many tasks each mesh gets; the panel's is clamped, the operator's checked."""
    return bpy.props.IntProperty(
        name="Variants",
        description="Tasks for each mesh, each with its own seed, to choose the best from "
        "(0.5 credits each)",
        default=1,
        **options,
    )


def apply_choice_properties(**options) -> dict:
    """How a result is applied, as the panel and the operators that apply results declare it."""
    return {
        "apply_mode": bpy.props.EnumProperty(name="Apply As", items=APPLY_MODE_ITEMS, **options),
        "bake_size": bpy.props.EnumProperty(name="Bake Size", items=BAKE_SIZE_ITEMS, **options),
        "bake_material": bpy.props.EnumProperty(
            name="Baked Material", items=BAKE_MATERIAL_ITEMS, **options
        ),
        "unwrap_missing_uvs": bpy.props.BoolProperty(
            name="Unwrap Meshes Without UVs",
            description="Give a mesh without a UV map one (Smart UV Project) instead of refusing "
            "it",
            **options,
        ),
    }


APPLY_CHOICES = tuple(apply_choice_properties())


def upload_choice_properties(*, clamped: bool, **options) -> dict:
    """How meshes are sent (one task each, or together) and how a mesh over Rodin's size limit
    is, as the panel and the generate operator declare it (the operator's detail is checked,
    not clamped)."""
    return {
        "together": bpy.props.BoolProperty(
            name="Texture Together",
            description="Send the selected meshes as one model, one task for 0.5 credits in "
            "all: Rodin paints them in one style, and the result goes back onto each. The "
            "texture resolution is shared among them",
            **options,
        ),
        "use_proxy": bpy.props.BoolProperty(
            name="Upload Proxies",
            description="Send a mesh over Rodin's 10 MB limit as a simplified copy (your mesh "
            "is not changed), whose result Apply to Original bakes onto it; off, such a mesh "
            "is refused",
            default=True,
            **options,
        ),
        "proxy_detail": bpy.props.IntProperty(
            name="Proxy Detail",
            description="How much of Rodin's 10 MB limit a proxy may fill: less is a coarser, "
            "faster upload",
            default=100,
            subtype="PERCENTAGE",
            **limits(clamped, MIN_PROXY_DETAIL, 100),
            **options,
        ),
    }


UPLOAD_CHOICES = tuple(upload_choice_properties(clamped=True))


def declaring(properties: dict):
    """Class decorator: ``properties`` ({name: property}) beside the class's own."""

    def declare(cls):
        cls.__annotations__.update(properties)
        return cls

    return declare


def texture_properties(*, clamped: bool, **options) -> dict:
    return {
        setting.name: texture_property(setting, clamped=clamped, **options)
        for setting in TEXTURE_SETTINGS
    }


@declaring(
    texture_properties(clamped=True)
    | apply_choice_properties()
    | upload_choice_properties(clamped=True)
)
class RodinTextureSettings(bpy.types.PropertyGroup):
    """What the next Generate sends and how its result is applied: the panel's settings,
    saved with the scene."""

    image: bpy.props.PointerProperty(
        name="Reference Image", type=bpy.types.Image, description="The image the texture follows"
    )
    random_seed: bpy.props.BoolProperty(
        name="Random Seed", default=True, description="Pick a new seed for every generation"
    )
    variants: variants_property(min=1, max=MAX_VARIANTS)
    show_history: bpy.props.BoolProperty(name="History", description="Show the task history")
    history_all_files: bpy.props.BoolProperty(
        name="All Files", description="Show the tasks of every file, not only this one's"
    )
    file_id: bpy.props.StringProperty(
        name="File ID",
        description="Which .blend this is, for the task history: kept through Save As",
        options={"HIDDEN"},
    )

    def chosen_seed(self) -> int:
        return (
            random.randint(contract.SEED_MIN, contract.SEED_MAX) if self.random_seed else self.seed
        )


class RodinTextureJob(bpy.types.PropertyGroup):
    """One object's texture job, saved with the .blend so it survives closing and reopening."""

    job_id: bpy.props.StringProperty(name="Job ID")
    owner: bpy.props.StringProperty(
        name="Owner",
        description="The object the job was started on: a copy (Shift-D) carries a job that is "
        "not its own",
    )
    status: bpy.props.EnumProperty(name="Status", items=STATUS_ITEMS, default=Phase.IDLE.value)
    progress: bpy.props.FloatProperty(name="Progress", min=0.0, max=1.0, subtype="FACTOR")
    message: bpy.props.StringProperty(name="Message")
    hint: bpy.props.StringProperty(name="What To Do")
    task_uuid: bpy.props.StringProperty(name="Task ID", description="The Rodin task's id")
    subscription_key: bpy.props.StringProperty(name="Subscription Key")
    job_uuids: bpy.props.StringProperty(name="Job IDs", description="Comma-separated job ids")
    queue_length: bpy.props.IntProperty(name="Queue Length", default=-1)
    # Seconds since the epoch, as text: a (32-bit) IntProperty ends in January 2038 and a
    # (32-bit) FloatProperty is off by minutes. Files from before kept them in "submitted_at"
    # and "finished_at" integers, which ``submitted_time`` and ``finished_time`` still read.
    submitted_seconds: bpy.props.StringProperty(name="Submitted At")
    finished_seconds: bpy.props.StringProperty(name="Finished At")
    settings_json: bpy.props.StringProperty(name="Settings Used")
    result_folder: bpy.props.StringProperty(name="Result Folder", subtype="DIR_PATH")
    model_path: bpy.props.StringProperty(name="Result Model", subtype="FILE_PATH")
    preview_path: bpy.props.StringProperty(name="Preview", subtype="FILE_PATH")
    result_object: bpy.props.PointerProperty(name="Result", type=bpy.types.Object)
    baked_material: bpy.props.PointerProperty(
        name="Baked Material",
        type=bpy.types.Material,
        description="The material Apply to Original made on this mesh, baked again in place",
    )
    variant_group: bpy.props.StringProperty(
        name="Variants", description="The tasks made together with this one, to choose from"
    )
    source_object: bpy.props.PointerProperty(name="Source", type=bpy.types.Object)
    proxy_json: bpy.props.StringProperty(
        name="Upload Proxy", description="The simplified copy sent in the mesh's place, if any"
    )
    together_json: bpy.props.StringProperty(
        name="Textured Together",
        description="The meshes sent with this one as one model, and where this one was then",
    )

    @property
    def phase(self) -> Phase:
        return Phase(self.status)

    @property
    def submitted_time(self) -> float:
        """When the task was submitted, in seconds since the epoch (0: unknown)."""
        return _seconds(self.submitted_seconds, self.get("submitted_at"))

    @property
    def finished_time(self) -> float:
        return _seconds(self.finished_seconds, self.get("finished_at"))

    @property
    def settings(self) -> dict:
        return json.loads(self.settings_json) if self.settings_json else {}

    @property
    def proxy(self) -> dict:
        """What was sent in the mesh's place ({} if the mesh itself was): triangle counts and
        deviation (see ``export.proxy_record``)."""
        return json.loads(self.proxy_json) if self.proxy_json else {}

    @property
    def together(self) -> dict:
        """For a mesh textured together with others ({} if alone): ``members``, the names of
        all of them; ``box``, the joined upload's world box (low, high); ``matrix``, this
        mesh's world matrix at submit (see ``together.record``)."""
        return json.loads(self.together_json) if self.together_json else {}

    def forget(self):
        """Back to no job, as a new object has (the material baked onto the mesh stays: it is
        what the mesh shows, not the job)."""
        for prop in self.bl_rna.properties:
            if prop.identifier not in ("rna_type", "baked_material"):
                self.property_unset(prop.identifier)

    def write(self, snapshot: JobSnapshot):
        """Copy a worker's snapshot onto the object (main thread only)."""
        self.status = snapshot.phase.value
        self.progress = min(max(snapshot.progress, 0.0), 1.0)
        self.message = snapshot.message
        self.hint = snapshot.hint
        self.task_uuid = snapshot.task_uuid
        self.subscription_key = snapshot.subscription_key
        self.job_uuids = ",".join(snapshot.job_uuids)
        self.queue_length = -1 if snapshot.queue_length is None else snapshot.queue_length
        self.submitted_seconds = _seconds_text(snapshot.submitted_at)
        self.finished_seconds = _seconds_text(snapshot.finished_at)
        self.model_path = snapshot.model_path
        self.preview_path = snapshot.preview_path

    def snapshot(self) -> JobSnapshot:
        """The stored state, as the job layer takes it to resume or download again."""
        return JobSnapshot(
            job_id=self.job_id,
            phase=self.phase,
            task_uuid=self.task_uuid,
            subscription_key=self.subscription_key,
            job_uuids=tuple(uuid for uuid in self.job_uuids.split(",") if uuid),
            submitted_at=self.submitted_time,
            finished_at=self.finished_time,
            model_path=self.model_path,
            preview_path=self.preview_path,
            submitted=bool(self.task_uuid),
        )


def _seconds(text: str, legacy) -> float:
    try:
        return float(text) if text else float(legacy or 0)
    except (TypeError, ValueError):  # a script or a damaged file wrote something else
        return 0.0


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if seconds else ""


CLASSES = (RodinTextureSettings, RodinTextureJob)


def register():
    bpy.types.Scene.rodin_texture_settings = bpy.props.PointerProperty(type=RodinTextureSettings)
    bpy.types.Object.rodin_texture = bpy.props.PointerProperty(type=RodinTextureJob)


def unregister():
    del bpy.types.Object.rodin_texture
    del bpy.types.Scene.rodin_texture_settings
