"""Registers the add-on's classes, properties and handlers, and undoes all of it."""

import bpy

CLASSES = ()


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister():
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
