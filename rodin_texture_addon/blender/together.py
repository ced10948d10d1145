"""Texture Together: several meshes sent as one model in one task, so that Rodin paints them in
one style for the price of one; each of them keeps the task on its own job (the same job id),
and the result goes back onto each.

Each mesh records where it was when the task was submitted (its world matrix) and the joined
upload's world box: the result is fitted to that box, and follows each mesh as it moved since.
"""

import functools

import bpy

from . import apply, session


def record(objects, model, obj) -> dict:
    """What ``obj``, one of ``objects`` sent together as ``model`` (an ExportedModel), keeps
    of it (``RodinTextureJob.together``)."""
    return {
        "members": [member.name for member in objects],
        "box": [list(model.bbox_min), list(model.bbox_max)],
        "matrix": [list(row) for row in obj.matrix_world],
    }


def members(obj) -> list[bpy.types.Object]:
    """``obj`` and the other objects that share its task (copies left out); [obj] alone for a
    task of its own. Looked up by the names recorded at submit; all objects are searched only
    when one of those no longer shares the task (renamed, forgotten or deleted)."""
    state = obj.rodin_texture
    if not state.together_json:
        return [obj]
    named = [bpy.data.objects.get(name) for name in state.together["members"]]
    others = [other for other in named if other is not None and other != obj]
    if len(others) != len(named) - 1 or not all(_shares_task(other, obj) for other in others):
        others = [other for other in bpy.data.objects if _shares_task(other, obj)]
    return [obj, *others]


def _shares_task(other, obj) -> bool:
    return (
        other != obj
        and other.rodin_texture.job_id == obj.rodin_texture.job_id
        and bool(other.rodin_texture.together_json)
        and not session.copied_job(other)
    )


def placement(obj):
    """How a together result goes over ``obj`` (a ``bake.apply_to_original`` placement)."""
    together = obj.rodin_texture.together
    return functools.partial(
        apply.place_as_submitted, box=together["box"], matrix=together["matrix"]
    )


def parts(objects) -> list[tuple]:
    """(object, its world matrix at submit) of each, as ``apply.apply_joined`` takes them."""
    return [(obj, obj.rodin_texture.together["matrix"]) for obj in objects]
