"""The Blender side: everything that imports ``bpy``. Thin glue over ``rodin`` and ``jobs``."""
