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
    task of its own."""
    state = obj.rodin_texture
    if not state.together_json:
        return [obj]
    others = [
        other
        for other in bpy.data.objects
        if other != obj
        and other.rodin_texture.job_id == state.job_id
        and other.rodin_texture.together_json
        and not session.copied_job(other)
    ]
    return [obj, *others]


def placement(obj):
    """How a together result goes over ``obj`` (a ``bake.apply_to_original`` placement)."""
    together = obj.rodin_texture.together
    return functools.partial(
        apply.place_as_submitted, box=together["box"], matrix=together["matrix"]
    )


def parts(objects) -> list[tuple]:
    """(object, its world matrix at submit) of each, as ``apply.apply_joined`` takes them."""
    return [(obj, obj.rodin_texture.together["matrix"]) for obj in objects]
