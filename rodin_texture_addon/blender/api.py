"""Texturing from Python: ``texture_objects`` runs the whole flow and returns the results.

Import it from the installed extension, ``bl_ext.<repository>.rodin_texture_addon.blender.api``
(``<repository>`` is where the extension is installed, ``user_default`` by default). The
``rodin_texture.generate`` operator starts its jobs through ``start`` too.
"""

import tempfile
from pathlib import Path

import bpy

from ..rodin import TextureRequest
from ..rodin.texture_settings import SETTING_NAMES
from . import bake, errors, following, images, preferences, pump, results
from .properties import APPLY_CHOICES, MAX_VARIANTS, UPLOAD_CHOICES


class TextureError(RuntimeError):
    """A texture job that could not start or did not end with its result applied; a
    RuntimeError like the failures of ``bpy.ops``."""


def start(context, objects, reference, *, apply: bool | None = None, **given) -> list[str]:
    """Start one task per object from ``reference`` (an image file's path, or a Blender image),
    or ``variants`` tasks with other seeds to choose from, or (``together``) one task of all
    the objects joined, whose result goes back onto each; each texture setting
    (``SETTING_NAMES``), each of ``APPLY_CHOICES`` and ``UPLOAD_CHOICES`` (``together``,
    ``use_proxy``, ``proxy_detail``: a mesh over Rodin's limit is sent as a simplified proxy) and
    ``variants`` not given, or None, is the panel's (the seed too: a new one per task when the
    panel's is random). Returns the job ids, one per object and variant (an object given twice
    is one task). All or nothing: a bad input refuses every object. Results are applied when
    they arrive if ``apply`` says so (None: as the preferences say). Waits while proxies are
    built (a few seconds a million triangles)."""
    return prepare(context, objects, reference, **given).start(context, apply)


def prepare(context, objects, reference, **given) -> following.Generation:
    """``start`` up to the building of proxies, which the returned generation does next
    (``build_proxies``: on any thread), before its ``submit`` (on the main thread)."""
    unknown = set(given) - {*SETTING_NAMES, *APPLY_CHOICES, *UPLOAD_CHOICES, "variants"}
    if unknown:
        raise TypeError(f"unknown parameters: {', '.join(sorted(unknown))}")
    if isinstance(reference, str | Path) and not str(reference).strip():
        raise errors.UserError(
            "The image path is empty: give an image file, or pick an image in the panel"
        )
    objects = list(dict.fromkeys(objects))
    settings = context.scene.rodin_texture_settings
    mode, bake_options = results.how_to_apply(
        context, **{name: given.get(name) for name in APPLY_CHOICES}
    )
    if mode == "ORIGINAL":
        for obj in objects:  # before anything is spent on a result that cannot be baked
            bake.check_bakeable(obj, bake_options)
    fields = {
        name: getattr(settings, name) if given.get(name) is None else given[name]
        for name in SETTING_NAMES
        if name != "seed"
    }
    seed = given.get("seed")
    seeds = [settings.chosen_seed() if seed is None else seed for _ in objects]
    variants = settings.variants if given.get("variants") is None else given["variants"]
    if (
        isinstance(variants, bool)
        or not isinstance(variants, int)
        or not 1 <= variants <= MAX_VARIANTS
    ):
        raise errors.UserError(
            f"variants: must be a whole number from 1 to {MAX_VARIANTS}, not {variants!r}"
        )
    upload = following.chosen_upload(context, **{name: given.get(name) for name in UPLOAD_CHOICES})
    # Each job copies the image into its own upload folder; a copy made here is removed at once.
    with tempfile.TemporaryDirectory(dir=preferences.user_folder("uploads")) as scratch:
        if isinstance(reference, str | Path):
            path = images.file_upload_path(Path(bpy.path.abspath(str(reference))), Path(scratch))
        else:
            path = images.upload_path(reference, Path(scratch))
        template = TextureRequest(image_path=path, model_path=Path(), **fields)
        return following.Generation.prepare(
            context, objects, template, seeds, (mode, bake_options), variants, upload
        )


def texture_objects(objects, image_path, *, timeout=None, **settings) -> list[bpy.types.Object]:
    """Texture each mesh of ``objects`` from the image file at ``image_path`` (0.5 credits a
    mesh, or for them all with ``together=True``), wait for the results and apply them. The
    keywords are those the ``rodin_texture.generate`` operator takes: a texture setting
    (``prompt``, ``seed``, ``material``, ``resolution``, ``reference_scale``: every name of
    ``SETTING_NAMES``) or how to apply (``APPLY_CHOICES``) or send the meshes
    (``UPLOAD_CHOICES``: together, and those over Rodin's limit); each one left out is the
    panel's. ``timeout`` (seconds) stops the waiting, not the jobs.

    Returns, for each object (once, if it is given twice), the object that shows its result
    (the new ``<name>_rodin`` object, ``<name>_rodin_proxy`` for a mesh sent as a proxy, or the
    object itself with ``apply_mode`` ``REPLACE`` or ``ORIGINAL``). Raises ``TextureError``
    naming each object that failed and why, after all others have finished. Blocks Blender
    until done: meant for scripts and background mode."""
    objects = list(dict.fromkeys(objects))
    try:
        # Applied whatever the preferences say (variants beyond the first never are).
        job_ids = start(bpy.context, objects, image_path, apply=True, **settings)
        pump.wait_for(job_ids, timeout=timeout)
    except errors.USER_FACING_ERRORS as error:
        raise TextureError(str(error)) from None
    failed = pump.failures(job_ids)
    if failed:
        raise TextureError("; ".join(failed))
    return [obj.rodin_texture.result_object or obj for obj in objects]
