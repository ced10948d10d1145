"""Rodin Texture: texture your own meshes with Hyper3D Rodin's texture-only API.

Only registration lives here. ``bpy`` is imported inside ``register``/``unregister`` so that the
Blender-free parts (``rodin``, ``jobs``) stay importable from plain Python.
"""


def register():
    from .blender import registration

    registration.register()


def unregister():
    from .blender import registration

    registration.unregister()
