"""Mesh → GLB for the upload: one object, modifiers applied, in world space, geometry only.

Runs on the main thread. Rodin only needs the shape, so materials, UVs, names and the rest stay
home: they would cost upload size and could leak what the user did not mean to send.

The GLB is written here with numpy rather than by Blender's glTF exporter: the file is the
smallest that carries the geometry (one vertex per distinct position and normal, 16-bit indices
when they fit, no names), and writing it holds the main thread for a fraction of the
exporter's time, without touching the scene, the selection or the mode.
"""

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..geometry import proxy
from ..geometry.glb import GeometryGlb
from ..rodin import contract
from . import mesh_arrays

MEGABYTE = 1024 * 1024
# Blender is Z-up, glTF Y-up: Blender's (x, y, z) is glTF's (x, z, -y).
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


class ExportError(Exception):
    """Why an object cannot be uploaded, in words that tell the user what to do."""


@dataclass(frozen=True)
class ExportedModel:
    """What was written: the file for the upload, and its size and counts to show the user;
    for a proxy, also the mesh's own triangle count and how far the proxy strays from it."""

    path: Path
    size_bytes: int
    triangle_count: int
    vertex_count: int
    bbox_min: tuple[float, float, float]
    bbox_max: tuple[float, float, float]
    source_triangle_count: int = 0
    deviation: proxy.Deviation | None = None

    @property
    def is_proxy(self) -> bool:
        return self.deviation is not None


MIN_PROXY_DETAIL = 10  # percent of the limit: a coarser proxy would hardly stand for a mesh


@dataclass(frozen=True)
class UploadChoice:
    """How meshes are sent: each as a task of its own, or (``together``) all joined in one
    model and one task; and what to do with an upload over the limit: send a proxy filling
    ``detail`` (a share) of the limit, or (``use_proxy`` off) refuse it."""

    use_proxy: bool = True
    detail: float = 1.0
    together: bool = False


@dataclass
class PendingProxy:
    """A mesh to be sent as a proxy: its world-space triangles, read on the main thread, and
    ``build``, which simplifies and writes it (no bpy: a worker thread may run it)."""

    name: str
    positions: np.ndarray
    triangles: np.ndarray
    path: Path
    max_bytes: int

    def build(self) -> ExportedModel:
        try:
            built = proxy.build(self.positions, self.triangles, self.max_bytes)
        except proxy.ProxyError as error:
            raise ExportError(
                f"{self.name} is over Rodin's limit and cannot be sent as a proxy: {error}. "
                "Remesh it (Remesh or Decimate modifier), then try again"
            ) from None
        glb = built.glb()
        _write(glb, self.path, self.name)
        self.positions = self.triangles = None  # the mesh's copy is not kept with the job
        return _exported(glb, self.path, len(built.positions), built.source_triangles,
                         built.deviation)  # fmt: skip


def export_upload(
    context, objects, path, choice: UploadChoice = UploadChoice(),
    *, max_bytes: int = contract.MAX_MODEL_BYTES,
) -> ExportedModel | PendingProxy:  # fmt: skip
    """Write ``objects`` (one mesh, or several joined into one model: Texture Together) to
    ``path`` as ``export_geometry_glb`` does; an upload that would pass ``max_bytes`` is, as
    ``choice`` says, refused or read for a proxy built later."""
    names = [_check_exportable(obj) for obj in objects]
    name = joined_name(names)
    with contextlib.ExitStack() as stack:
        meshes = [stack.enter_context(_evaluated_mesh(context, obj)) for obj in objects]
        # (mesh, world matrix, local positions): the positions read once, for the check too.
        parts = [
            (mesh, np.array(obj.matrix_world), mesh_arrays.positions(mesh))
            for mesh, obj in zip(meshes, objects, strict=True)
        ]
        for (_, matrix_world, local_positions), part_name in zip(parts, names, strict=True):
            _check_finite(part_name, local_positions, matrix_world)
        vertex_count, triangle_count = np.sum([mesh_counts(mesh) for mesh in meshes], axis=0)
        # A smooth mesh's size, known without writing it: sharp edges only add to it.
        size = proxy.glb_bytes(vertex_count, triangle_count)
        if size <= max_bytes:
            geometry = _joined([world_geometry(*part) for part in parts])
            glb = GeometryGlb(*geometry)
            if glb.size <= max_bytes:
                _write(glb, Path(path), name)
                return _exported(glb, Path(path), int(vertex_count), int(triangle_count))
            size = glb.size
        if not choice.use_proxy:
            raise ExportError(
                f"{name} makes a {size / MEGABYTE:.1f} MB upload, over Rodin's "
                f"{max_bytes / MEGABYTE:.0f} MB limit: turn on Upload Proxies, or add a "
                "Decimate modifier or reduce its subdivision levels, then try again"
            )
        positions, triangles = _joined([world_triangles(*part) for part in parts])
    return PendingProxy(name, positions, triangles, Path(path), int(max_bytes * choice.detail))


def joined_name(names: list[str]) -> str:
    """How messages name what is sent: the mesh, or the meshes joined ("Cube + Cone")."""
    return " + ".join(names)


def _joined(parts: list[tuple]) -> tuple:
    """One geometry from several (each: arrays of vertex data, then the triangles' vertex
    indices), the indices moved past the vertices before them."""
    if len(parts) == 1:
        return parts[0]
    starts = np.cumsum([0] + [len(part[0]) for part in parts[:-1]])
    columns = list(zip(*parts, strict=True))
    moved = zip(columns[-1], starts, strict=True)
    indices = np.concatenate([indices + start for indices, start in moved])
    return (*(np.concatenate(column) for column in columns[:-1]), indices)


def proxy_record(model: ExportedModel) -> dict:
    """What a job keeps of its proxy (on the object and in the history); {} for no proxy."""
    if not model.is_proxy:
        return {}
    return {
        "triangles": model.triangle_count,
        "source_triangles": model.source_triangle_count,
        "mean_deviation": round(model.deviation.mean, 7),
        "worst_deviation": round(model.deviation.hausdorff, 7),
    }


def export_geometry_glb(
    context, obj, path, *, max_bytes: int = contract.MAX_MODEL_BYTES
) -> ExportedModel:
    """Write ``obj`` alone to ``path`` as a geometry-only GLB in world space, refusing it over
    ``max_bytes``. Changes nothing in the scene (in Edit Mode, the edits are synced to the mesh
    first, as saving does)."""
    exported = export_upload(context, [obj], path, UploadChoice(use_proxy=False),
                             max_bytes=max_bytes)  # fmt: skip
    assert isinstance(exported, ExportedModel)
    return exported


def mesh_counts(mesh) -> tuple[int, int]:
    """(vertices, triangles) of a mesh, without triangulating it: a face of n corners makes
    n - 2 triangles."""
    return len(mesh.vertices), len(mesh.loops) - 2 * len(mesh.polygons)


@contextlib.contextmanager
def _evaluated_mesh(context, obj):
    """The object's mesh with its modifiers applied (a temporary copy), refused without faces."""
    name = obj.name
    if obj.mode == "EDIT":
        obj.update_from_editmode()
    evaluated = obj.evaluated_get(context.evaluated_depsgraph_get())
    mesh = evaluated.to_mesh()
    try:
        if not mesh.polygons and any(m.show_viewport for m in obj.modifiers):
            raise ExportError(
                f"{name} has no faces after its modifiers: Rodin textures surfaces, "
                "so give it faces or turn off the modifiers that remove them"
            )
        if not mesh.polygons:
            raise ExportError(f"{name} has no faces: Rodin textures surfaces, so give it faces")
        yield mesh
    finally:
        evaluated.to_mesh_clear()


def _check_finite(name: str, local_positions: np.ndarray, matrix_world: np.ndarray) -> None:
    """Refuse a mesh with vertices at no real position (NaN or infinite), naming them: the
    service would refuse the upload, and a proxy cannot be built around them."""
    if not np.isfinite(matrix_world).all():
        raise ExportError(
            f"{name}'s transform is not a number or infinite: set its location, rotation and "
            "scale to real values (Object > Clear > All), then try again"
        )
    bad = np.flatnonzero(~np.isfinite(local_positions).all(axis=1))
    if len(bad):
        shown = ", ".join(str(index) for index in bad[:5]) + (", ..." if len(bad) > 5 else "")
        raise ExportError(
            f"{name} has {len(bad)} vertices at no real position (not a number or infinite: "
            f"vertex {shown}): delete or move them (after its modifiers, if they made them), "
            "then try again"
        )


def _write(glb: GeometryGlb, path: Path, name: str) -> None:
    try:
        glb.write(path)
    except OSError as error:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        raise ExportError(f"Blender could not export {name}: {error}") from error


def _exported(glb: GeometryGlb, path: Path, vertex_count: int, source_triangles: int,
              deviation=None) -> ExportedModel:  # fmt: skip
    low, high = Z_UP_TO_Y_UP.T @ glb.minimum, Z_UP_TO_Y_UP.T @ glb.maximum
    return ExportedModel(
        path=path,
        size_bytes=glb.size,
        triangle_count=len(glb.indices) // 3,
        vertex_count=vertex_count,
        bbox_min=tuple(float(v) for v in np.minimum(low, high)),
        bbox_max=tuple(float(v) for v in np.maximum(low, high)),
        source_triangle_count=source_triangles,
        deviation=deviation,
    )


def world_triangles(mesh, matrix_world: np.ndarray, local_positions: np.ndarray):
    """(positions, triangles) of ``mesh`` (its vertices at ``local_positions``) in world space
    and glTF's axes, one vertex per mesh vertex (what a proxy is made from: it gets its own
    normals)."""
    _, corner_vertices = mesh_arrays.triangle_corners(mesh)
    positions = _to_world(local_positions, matrix_world).astype(np.float32)
    return positions, _wound(corner_vertices.reshape(-1, 3), matrix_world)


def _to_world(points: np.ndarray, matrix_world: np.ndarray) -> np.ndarray:
    """Local points in world space and glTF's axes."""
    linear, translation = matrix_world[:3, :3], matrix_world[:3, 3]
    return points @ (Z_UP_TO_Y_UP @ linear).T + Z_UP_TO_Y_UP @ translation


def _wound(triangles: np.ndarray, matrix_world: np.ndarray) -> np.ndarray:
    """Triangles facing out in world space: a mirroring matrix turns their winding."""
    return triangles[:, ::-1] if np.linalg.det(matrix_world[:3, :3]) < 0 else triangles


def world_geometry(mesh, matrix_world: np.ndarray, local_positions: np.ndarray):
    """(positions, normals, indices) of ``mesh``'s triangles (its vertices at
    ``local_positions``) in world space and glTF's axes: one vertex per distinct (mesh vertex,
    corner normal), so smooth surfaces share vertices and sharp edges split them, as a glTF
    mesh needs."""
    triangle_corners, corner_vertices = mesh_arrays.triangle_corners(mesh)
    corner_normals = mesh_arrays.read(mesh.corner_normals, "vector", 3, np.float32)[
        triangle_corners
    ]
    # A corner whose normal is its vertex's usual one shares that vertex; the others (sharp
    # edges, custom normals) get a vertex per distinct (vertex, normal).
    usual_corner = np.zeros(len(local_positions), dtype=np.int64)
    usual_corner[corner_vertices] = np.arange(len(corner_vertices))
    usual = (corner_normals == corner_normals[usual_corner[corner_vertices]]).all(axis=1)
    keys = corner_vertices.astype(np.int64)
    split = np.flatnonzero(~usual)
    split_vertices, split_normals = np.empty(0, np.int64), np.empty((0, 3), np.float32)
    if len(split):
        rows = np.column_stack([corner_vertices[split], corner_normals[split].view(np.int32)])
        unique_rows, inverse = np.unique(rows, axis=0, return_inverse=True)
        keys[split] = len(local_positions) + inverse.ravel()
        split_vertices = unique_rows[:, 0].astype(np.int64)
        split_normals = unique_rows[:, 1:].copy().view(np.float32)
    used = np.zeros(len(local_positions) + len(split_vertices), dtype=bool)
    used[keys] = True
    new_index = np.cumsum(used) - 1
    key_vertices = np.concatenate([np.arange(len(local_positions)), split_vertices])[used]
    usual_normals = corner_normals[usual_corner]
    key_normals = np.concatenate([usual_normals, split_normals])[used]

    positions = _to_world(local_positions[key_vertices], matrix_world)
    # Normals go through the inverse transpose.
    normals = key_normals @ (Z_UP_TO_Y_UP @ np.linalg.pinv(matrix_world[:3, :3]).T).T
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, lengths, out=np.tile([0.0, 1.0, 0.0], (len(normals), 1)),
                        where=lengths > 0)  # fmt: skip
    triangles = _wound(new_index[keys].reshape(-1, 3), matrix_world)
    return positions.astype(np.float32), normals.astype(np.float32), triangles.ravel()


def _check_exportable(obj) -> str:
    """The object's name, or an ExportError saying why it cannot be sent."""
    try:
        name, kind = obj.name, obj.type
    except (AttributeError, ReferenceError):
        raise ExportError("The object to texture no longer exists: select a mesh") from None
    if kind != "MESH":
        raise ExportError(
            f"{name} is {kind_of(obj)}, not a mesh: convert it to a mesh or select a mesh object"
        )
    return name


# Blender's object types as a sentence names them.
KINDS = {
    "CURVE": "a curve", "SURFACE": "a surface", "META": "a metaball", "FONT": "a text object",
    "CURVES": "a hair curves object", "POINTCLOUD": "a point cloud", "VOLUME": "a volume",
    "GPENCIL": "a Grease Pencil object", "GREASEPENCIL": "a Grease Pencil object",
    "ARMATURE": "an armature", "LATTICE": "a lattice", "EMPTY": "an empty", "LIGHT": "a light",
    "LIGHT_PROBE": "a light probe", "CAMERA": "a camera", "SPEAKER": "a speaker",
}  # fmt: skip


def kind_of(obj) -> str:
    """What the object is, with its article ("an empty", "a text object")."""
    return KINDS.get(obj.type, "an object of another kind")
