"""The panel's questions: what can be textured, and why something cannot run now, in words that
say what to do. Asking never starts the session."""

import bpy

from ..geometry import proxy
from ..jobs import Phase
from ..rodin import contract
from . import bake_job, export, preferences, session
from .errors import UserError
from .properties import UNFINISHED

TOGETHER_HAS_NO_VARIANTS = (
    "Texture Together makes one task of the selected meshes: set Variants to 1, or turn "
    "Texture Together off"
)
UPLOAD_NOT_CONFIRMED = "The upload may become a paid task: wait until the service confirms it"
# The objects (as pointers) of generations whose upload proxies are being built: prepared, not
# yet submitted nor discarded (following.Generation keeps it).
BUILDING_PROXIES: set[int] = set()


def target_meshes(context) -> list[bpy.types.Object]:
    """The selected meshes, else the active object; refuses what cannot be textured."""
    selected = [obj for obj in context.selected_objects if obj.type == "MESH"]
    if selected:
        return selected
    active = context.active_object
    if active is None:
        raise UserError("Select a mesh to texture")
    if active.type != "MESH":
        raise UserError(f"{active.name} is {export.kind_of(active)}, not a mesh")
    return [active]


def why_cannot_generate(context) -> str:
    """Why the panel's Generate button cannot run now (empty: it can)."""
    reason = preferences.why_offline(context)
    if reason:
        return reason
    try:
        meshes = target_meshes(context)
    except UserError as error:
        return str(error)
    settings = context.scene.rodin_texture_settings
    if settings.image is None:
        return "Pick a reference image"
    if settings.together and len(meshes) > 1 and settings.variants > 1:
        return TOGETHER_HAS_NO_VARIANTS
    return next(filter(None, map(proxy_being_built, meshes)), "")


def proxy_being_built(obj) -> str:
    """Why ``obj`` cannot be sent again now: its upload proxy is being built (empty: it is not)."""
    if obj.as_pointer() in BUILDING_PROXIES:
        return f"{obj.name}'s upload proxy is being built: wait for its submit"
    return ""


def why_not_followed(context, obj) -> str:
    """Why an unfinished job stored on the object is not being followed (empty: it is, or it
    is finished): a file opened offline or without a key, or the add-on restarted mid-job."""
    state = obj.rodin_texture
    if state.phase not in UNFINISHED or session.is_following(state.job_id):
        return ""
    if not state.task_uuid:
        return "Interrupted before the service confirmed the task"
    return preferences.why_offline(context) or "nothing follows it now: press Resume Jobs"


def why_not_cleared(obj) -> str:
    """Why the object's job cannot be forgotten now (empty: it can), without starting the
    runtime."""
    busy = bake_job.why_busy(obj)
    if busy:
        return busy
    state = obj.rodin_texture
    if state.phase is Phase.UPLOADING and session.is_following(state.job_id):
        return UPLOAD_NOT_CONFIRMED
    return ""


def refuse_replacing_with_proxy(name: str, mode: str) -> None:
    """Replace Mesh would swap a mesh sent as a proxy for the simplified proxy: refused."""
    if mode == "REPLACE":
        raise UserError(
            f"{name} is sent as a simplified proxy: Replace Mesh would put the proxy in place "
            "of your mesh. Choose Apply to Original (baked onto your mesh) or New Object"
        )


def over_the_limit(context, meshes, together: bool = False) -> list[tuple[str, int]]:
    """(name, triangles) of each upload that would pass Rodin's limit, from its evaluated
    counts (no export: the panel asks as it draws): each mesh's, or (``together``) the one of
    them all joined, named as the export names it."""
    depsgraph = context.evaluated_depsgraph_get()
    uploads = [(obj.name, [obj]) for obj in meshes]
    if together and len(meshes) > 1:
        uploads = [(export.joined_name([obj.name for obj in meshes]), meshes)]
    over = []
    for name, objects in uploads:
        counts = [export.mesh_counts(obj.evaluated_get(depsgraph).data) for obj in objects]
        vertices, triangles = (sum(column) for column in zip(*counts, strict=True))
        if proxy.glb_bytes(vertices, triangles) > contract.MAX_MODEL_BYTES:
            over.append((name, triangles))
    return over
