"""Mesh geometry without Blender (numpy only), usable from plain Python and worker threads.

- ``glb``: the geometry-only GLB written for an upload.
- ``proxy``: the simplified upload proxy of a mesh over Rodin's size limit, and its deviation.
- ``parts``: which of several meshes sent as one a point of the result lies on.
"""
