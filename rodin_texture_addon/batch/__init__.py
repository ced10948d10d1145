"""The batch command: many meshes textured headless, a killed run started again without paying
twice. ``plan`` (which files, which image for which asset, what to do with each given the
journal, the summary) and ``journal`` (what was asked of the service, safe on disk) know nothing
of Blender; ``run`` is the Blender side (open, export, follow, write), ``command`` the command
line that ``scripts/batch.py`` fronts."""
