"""Registers the add-on's classes, properties and handlers, and undoes all of it."""

import bpy

from . import operators, panel, preferences, properties, runtime, translations

CLASSES = (*preferences.CLASSES, *properties.CLASSES, *operators.CLASSES, *panel.CLASSES)


def register():
    translations.register()
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register()
    bpy.app.handlers.load_post.append(runtime.resume_after_load)


def unregister():
    """Stops everything the add-on started (timers, threads) so Blender can exit at once."""
    if runtime.resume_after_load in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(runtime.resume_after_load)
    runtime.shutdown()
    properties.unregister()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    translations.unregister()
