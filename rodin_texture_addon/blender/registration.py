"""Registers the add-on's classes, properties and handlers, and undoes all of it."""

import bpy

from . import bake_job, handlers, operators, panel, preferences, properties, session, translations

HANDLERS = [
    (bpy.app.handlers.load_post, handlers.resume_after_load),
    (bpy.app.handlers.depsgraph_update_post, handlers.forget_jobs_of_new_copies),
    (bpy.app.handlers.undo_post, handlers.keep_jobs_through_undo),
    (bpy.app.handlers.redo_post, handlers.keep_jobs_through_undo),
    *((getattr(bpy.app.handlers, name), handler) for name, handler in bake_job.HANDLERS),
]
CLASSES = (*preferences.CLASSES, *properties.CLASSES, *operators.CLASSES, *panel.CLASSES)


def register():
    translations.register()
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register()
    for event, handler in HANDLERS:
        event.append(handler)


def unregister():
    """Stops everything the add-on started (timers, threads) so Blender can exit at once."""
    for event, handler in HANDLERS:
        if handler in event:
            event.remove(handler)
    session.shutdown()
    properties.unregister()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    translations.unregister()
