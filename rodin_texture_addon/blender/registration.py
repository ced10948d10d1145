"""Registers the add-on's classes, properties and handlers, and undoes all of it."""

import bpy

from . import operators, panel, preferences, properties, runtime, translations

UNDO_HANDLERS = (bpy.app.handlers.undo_post, bpy.app.handlers.redo_post)
CLASSES = (*preferences.CLASSES, *properties.CLASSES, *operators.CLASSES, *panel.CLASSES)


def register():
    translations.register()
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register()
    bpy.app.handlers.load_post.append(runtime.resume_after_load)
    for handlers in UNDO_HANDLERS:
        handlers.append(runtime.keep_jobs_through_undo)


def unregister():
    """Stops everything the add-on started (timers, threads) so Blender can exit at once."""
    if runtime.resume_after_load in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(runtime.resume_after_load)
    for handlers in UNDO_HANDLERS:
        if runtime.keep_jobs_through_undo in handlers:
            handlers.remove(runtime.keep_jobs_through_undo)
    runtime.shutdown()
    properties.unregister()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    translations.unregister()
