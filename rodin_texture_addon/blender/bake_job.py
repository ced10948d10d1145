"""Apply to Original with a window: each map baked by Blender's own background bake job
(``object.bake`` invoked, as the Bake button does), the next one started when the last ends,
so the interface stays live for the whole bake. Background mode bakes all at once instead
(``bake.apply_to_original``). One bake at a time, as Blender runs one bake job at a time.

What must run on the main thread between the maps (importing the result, copying the meshes,
saving each map's PNG) runs in timer ticks, and Cycles leaves one core to the interface. The
panel's Cancel stops the bake once the map being baked is done, and puts everything back as if
nothing had happened; so does a bake job that Blender cancels (Esc can, though Cycles often
finishes a map before it looks).
"""

import functools
import gc
from dataclasses import dataclass

import bpy
from bpy.app.handlers import persistent

from . import errors
from .bake import BakeError, OriginalBake
from .screen import redraw_sidebars

TICK = 0.1


@dataclass
class _Bake:
    bake: OriginalBake
    source_name: str
    on_success: object  # called with the source once its material is in place
    collection_was_enabled: bool
    then: object = None  # called after the bake ended, however, with whether it was stopped
    after: tuple = ()  # the meshes whose bakes follow this one's (textured together)
    stop_asked: bool = False
    ended: str = ""  # how the map's bake job ended, from Blender's handlers: complete, cancel


_current: _Bake | None = None


def running(obj) -> OriginalBake | None:
    """The bake under way onto ``obj``, if any."""
    return _current.bake if _current is not None and _current.source_name == obj.name else None


def stop_asked() -> bool:
    return _current is not None and _current.stop_asked


def baked_after(obj) -> str:
    """The mesh being baked now, when the bake onto ``obj`` is to follow it; else ""."""
    return _current.source_name if _current is not None and obj.name in _current.after else ""


def why_busy(obj) -> str:
    """Why ``obj``'s job must be left as it is while a bake is under way (empty: it need not)."""
    if running(obj) is not None:
        return f"{obj.name}'s result is being baked: wait for it, or cancel it"
    ahead = baked_after(obj)
    if ahead:
        return f"{obj.name}'s result is to be baked after {ahead}'s: wait, or cancel the bake"
    return ""


def refuse_if_baking(obj) -> None:
    why = why_busy(obj)
    if why:
        raise BakeError(why)


def start(
    context, source, glb_path, material, options, on_success, placement=None, then=None,
    after=(),
) -> None:  # fmt: skip
    """Begin baking the result onto ``source`` (placed by ``placement``, as
    ``bake.apply_to_original`` takes it); ``on_success(source)`` runs at its end, and then,
    whatever the end, ``then(stopped)`` in a timer of its own (``stopped``: cancelled), which may
    start the bakes onto the meshes named in ``after``."""
    global _current
    refuse_if_baking(source)
    if _current is not None or bpy.app.is_job_running("OBJECT_BAKE"):
        raise BakeError("Blender is already baking: wait for that bake to end")
    bake = OriginalBake(context, source, glb_path, material, options, placement=placement)
    # Blender lets other Python threads run while it bakes, and a garbage collection one of
    # them set off could free the Python side of Blender data mid-bake, off the main thread
    # (see ``operator_calls.collection_paused``): none starts until the bake ends.
    gc.collect()
    entry = _Bake(bake, source.name, on_success, gc.isenabled(), then, tuple(after))
    gc.disable()
    try:
        bake.start(spare_a_core=True)
        bake.bake_next(invoke=True)
    except BaseException:
        _take_back(entry)
        raise
    _current = entry
    bpy.app.timers.register(follow, first_interval=TICK)


def ask_to_stop() -> None:
    """Stop after the map being baked (Esc stops that one at once)."""
    if _current is not None:
        _current.stop_asked = True


def follow() -> float | None:
    """Timer: once a map's bake job has ended, save the map and start the next, or finish."""
    global _current
    entry = _current
    if entry is None:
        return None
    if entry.ended:  # the panel shows nothing new until a map's bake ends: no redraw before
        source = bpy.data.objects.get(entry.source_name)
        try:
            if entry.ended == "cancel" or entry.stop_asked or source is None:
                _current = None
                _take_back(entry)
            else:
                entry.ended = ""
                entry.bake.save_baked()
                if entry.bake.all_baked:
                    entry.bake.finish()
                    _current = None
                    _resume_collection(entry)
                    entry.on_success(source)
                else:
                    entry.bake.bake_next(invoke=True)
        except Exception as error:
            _current = None
            _take_back(entry)
            _mark_failed(source, error)
        if _current is None and entry.then is not None:
            stopped = entry.ended == "cancel" or entry.stop_asked
            bpy.app.timers.register(functools.partial(entry.then, stopped), first_interval=0.0)
        redraw_sidebars()
    return TICK if _current is not None else None


def _take_back(entry: _Bake) -> None:
    entry.bake.abort()
    _resume_collection(entry)


def _resume_collection(entry: _Bake) -> None:
    if entry.collection_was_enabled:
        gc.enable()


def _mark_failed(source, error: Exception) -> None:
    if source is not None:
        errors.mark_not_applied(source.rodin_texture, error)


@persistent
def bake_completed(*_args):
    """Blender's ``object_bake_complete`` handler: the map's bake job is over."""
    if _current is not None:
        _current.ended = _current.ended or "complete"


@persistent
def bake_cancelled(*_args):
    """Blender's ``object_bake_cancel`` handler: Esc, the job's cancel button, or a failure."""
    if _current is not None:
        _current.ended = "cancel"


@persistent
def forget_on_load(*_args):
    """Opening a file ends Blender's jobs and frees the data the bake worked on."""
    global _current
    if _current is not None:
        _resume_collection(_current)
        _current = None


def shutdown() -> None:
    """Take back the bake under way (the add-on is being disabled)."""
    global _current
    if _current is not None:
        entry, _current = _current, None
        _take_back(entry)
    if bpy.app.timers.is_registered(follow):
        bpy.app.timers.unregister(follow)


HANDLERS = (
    ("object_bake_complete", bake_completed),
    ("object_bake_cancel", bake_cancelled),
    ("load_pre", forget_on_load),
)
