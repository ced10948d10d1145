"""A local emulator of the Hyper3D Rodin texture-only API, for tests and demos.

It follows ``shared/rodin-api.md``. Where the contract is silent ([guess] there), it does this:

- Status codes: malformed submits are HTTP 400 ``INVALID_REQUEST`` with a message naming the
  field and why. A numeric field (seed, reference_scale, escore) is parsed like JSON.parse on a
  Node backend: text that is not JSON is an HTTP 500 ``{"error": "UNKNOWN", "message": ...}``
  with V8's SyntaxError message (``Unexpected token 'a', "abc" is not valid JSON``); JSON that
  is not a number (or a seed outside 0..65535 or not whole) is a 400. Numbers are not range
  checked beyond that. Unknown text fields are kept in ``task.settings`` and otherwise ignored.
- ``API_PARALLELISM_LIMIT_REACHED`` (tasks not yet Done/Failed ≥ max_parallel_tasks) and
  ``INSUFFICIENT_FUND`` (balance below 0.5, the older docs' name) come back as HTTP 201 with the
  error in the body, the "rejected submit with 201" seen on the live service. They are checked
  after the fields, in that order.
- Unknown subscription key on ``/status`` and unknown task uuid on ``/download`` (including a job
  uuid or the subscription key): HTTP 404 ``NO_SUCH_TASK``. A missing field: 400
  ``INVALID_REQUEST``. Injected faults are answered before the key is checked.
- Jobs: ``jobs_per_task`` (default 1) jobs share one timeline, fixed at submit from the settings
  of that moment: Waiting (``queue_length`` counting down to 0) for ``waiting_seconds``, then
  Generating for ``generating_seconds``, then Done. ``fail_next_task`` makes the last job of the
  next task end Failed (the others Done). ``texture_delight``, prompt, seed, reference_scale and
  escore are recorded but change nothing.
- ``/download``: nothing while Waiting, only ``preview.webp`` while Generating, nothing for a
  failed task, everything once Done. Each call makes fresh links to the file host (another
  port): ``/files/<token>?expires=<unix time>&signature=<HMAC>``; an expired or tampered link
  is HTTP 403, an unknown token 404. The file host never checks the Authorization header.
  With ``malicious_names`` every file is listed four times, under the names ``../../NAME``,
  ``/etc/NAME``, ``..\\..\\NAME`` and ``Pbr/NAME``.
- Rate limiting: an injected fault, or the account's limit when ``requests_per_window`` is set
  (more API requests than that in any ``rate_window`` seconds; refused ones do not count):
  HTTP 429, ``Retry-After`` in seconds, body ``{"error": "RATE_LIMITED", "message": ...}``.
- ``generating_jitter`` adds a random 0..jitter seconds to each task's Generating time.
- Results, made on the first file fetch and kept: the upload's triangles (GLB with node
  transforms applied, or OBJ) are centred at the origin and scaled so the largest extent is 1
  (the shape is kept; clients align by bounding box), welded by position, and split along UV
  seams, with the vertex order shuffled: the vertex count and order differ from the upload.
  UVs are a box projection: each triangle goes to the tile of its dominant normal axis in a
  3×2 atlas (+X, -X, +Y / -Y, +Z, -Z), UVs from the other two coordinates normalised to the
  bounds. Every tile holds the reference image as seen from outside along its axis (Y up).
  One material. PBR: baseColorTexture (the atlas), metallicRoughnessTexture (roughness from
  luminance, metallic from the reference's blue), normalTexture (gentle tangent-space bumps).
  Shaded: the atlas with a directional light baked in per tile, as emissiveTexture with
  emissiveFactor [1, 1, 1], a black base colour, metallic 0 and roughness 1, which Blender's glTF
  importer shows through its Principled BSDF (KHR_materials_unlit is not used). Textures are
  embedded PNGs, ``texture_size`` square if set, else 2048 (Basic) or 4096 (High). The node is
  ``root.0`` with the mesh; with ``wrap_in_empty`` it is the child of an Empty ``model``. Plus
  ``preview.webp``: the colour atlas at 256 px.
- Formats: ``glb`` gives ``base_<resolution>_<material>.glb`` (lower case, e.g.
  ``base_basic_pbr.glb``). ``obj`` gives ``base.obj``, ``material.mtl`` and the textures as
  loose PNGs (PBR: ``texture_diffuse.png``, ``texture_roughness.png``,
  ``texture_metallic.png``, ``texture_normal.png``; Shaded: ``shaded.png``). ``stl`` gives
  ``base_<resolution>_<material>.stl`` (binary, geometry only). ``fbx`` and ``usdz`` are
  accepted but not produced: those tasks list only the GLB model and the preview, so a client
  looking for the requested format finds none.
"""

from .faults import Fault
from .server import EmulatedTask, Emulator, RecordedRequest, Settings, most_in_window

__all__ = ["EmulatedTask", "Emulator", "Fault", "RecordedRequest", "Settings", "most_in_window"]
