"""The Blender side: everything that imports ``bpy``. Thin glue over ``rodin``, ``jobs`` and
``geometry``.

What each module owns, from the user's side down:

- ``registration``: registers the classes, properties and handlers, and undoes all of it.
- ``panel``: the sidebar tab; draws state, never does work. ``operators``: every action,
  as ``bpy.ops.rodin_texture.*``. ``api``: ``texture_objects`` for scripts.
- ``handlers``: Blender's handlers (undo and redo, new copies of objects, a file opened).
- ``following``: starting jobs (exported, their proxies built, then submitted), following
  them again, fetching again, letting them go.
- ``balance``: the account's balance, asked for on a worker thread.
- ``pump``: the workers' snapshots written onto objects on the main thread, and the same loop
  headless. ``results``: what finished jobs bring, applied as chosen; previews.
- ``checks``: the panel's questions (what can be textured, why a button cannot run).
- ``history``: the user's task history as the panel shows it, and recovery (a task of it put
  onto an object: applied from disk, fetched again, or followed; never submitted).
  ``attaching``: a task pasted by its id, checked with the service, then followed.
- ``session``: what lives while the add-on is in use (job manager, clients, the snapshots'
  way to the objects, the task ledger) and which object each job belongs to. ``timers``: the
  add-on's timers.
- ``errors``: the errors meant for the user.
- ``export`` (mesh to GLB, or read for its upload proxy), ``images`` (the reference image
  as a file), ``apply`` (GLB to the scene), ``bake`` and ``bake_job`` (the result baked onto
  the original, at once or as Blender's background job), ``operator_calls`` (running
  Blender's own operators), ``mesh_arrays`` (a mesh's data read whole into numpy arrays).
- ``properties`` (what the .blend keeps), ``preferences`` (the account, the service, where
  results go), ``translations`` (Simplified Chinese), ``screen`` (sidebar redraws).
"""

# The add-on's own package, as Blender names it (bl_ext.<repository>.rodin_texture_addon): its
# preferences, translations and user folders go by it.
ADDON_PACKAGE = __package__.rpartition(".")[0]
