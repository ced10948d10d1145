"""Registers the add-on's classes, properties and handlers, and undoes all of it."""

import bpy

from . import bake_job, operators, panel, preferences, properties, runtime, translations

HANDLERS = [
    (bpy.app.handlers.load_post, runtime.resume_after_load),
    (bpy.app.handlers.depsgraph_update_post, runtime.forget_jobs_of_new_copies),
    (bpy.app.handlers.undo_post, runtime.keep_jobs_through_undo),
    (bpy.app.handlers.redo_post, runtime.keep_jobs_through_undo),
    *((getattr(bpy.app.handlers, name), handler) for name, handler in bake_job.HANDLERS),
]
CLASSES = (*preferences.CLASSES, *properties.CLASSES, *operators.CLASSES, *panel.CLASSES)


def register():
    translations.register()
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register()
    for handlers, handler in HANDLERS:
        handlers.append(handler)


def unregister():
    """Stops everything the add-on started (timers, threads) so Blender can exit at once."""
    for handlers, handler in HANDLERS:
        if handler in handlers:
            handlers.remove(handler)
    runtime.shutdown()
    properties.unregister()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    translations.unregister()
