"""Running Blender's own operators from the add-on's code: in a window, with only the options
this Blender's version of an operator knows, and with the user's selection put back after."""

import contextlib
import gc


def window_override(context):
    """Blender's glTF operators switch scenes and modes through the window, and code run from a
    timer has none in its context: lend it the first one."""
    window = context.window or next(iter(context.window_manager.windows), None)
    return context.temp_override(window=window) if window else contextlib.nullcontext()


def supported_options(operator, options: dict) -> dict:
    """The options this Blender's version of ``operator`` knows."""
    known = operator.get_rna_type().properties.keys()
    return {name: value for name, value in options.items() if name in known}


@contextlib.contextmanager
def selection_kept(view_layer):
    """Put the selected objects and the active one back as they were when the block ends."""
    # ``view_layer.objects`` lags behind objects linked or removed since the view layer's last
    # update: it would miss the new ones and, for removed ones, crash Blender.
    view_layer.update()
    selected = {obj for obj in view_layer.objects if obj.select_get()}
    active = view_layer.objects.active
    try:
        yield
    finally:
        view_layer.update()
        select_only(view_layer, selected, active)


def select_only(view_layer, objects, active) -> None:
    """Select exactly ``objects`` (already in the view layer) and make ``active`` active."""
    for obj in view_layer.objects:
        obj.select_set(obj in objects)
    view_layer.objects.active = active


@contextlib.contextmanager
def collection_paused():
    """Blender lets other Python threads run while it bakes, and a garbage collection one of
    them set off could free the Python side of Blender data mid-bake, off the main thread (an
    intermittent crash in the bake). Collect first, here, then let no collection start until the
    block ends."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
