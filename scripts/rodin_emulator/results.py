"""The files of a finished task: a re-indexed, box-projected copy of the upload, its textures,
and a preview. Like the real service, the shape is kept but vertex order and UVs are not.
"""

import io
import math
from typing import NamedTuple

import numpy as np
from PIL import Image

from . import glb
from .glb import GlbWriter, Mesh
from .obj import read_obj, write_obj

DEFAULT_TEXTURE_SIZES = {"Basic": 2048, "High": 4096}
PREVIEW_SIZE = 256
WELD_TOLERANCE = 1e-6  # of the largest extent

# The six tiles of the 3×2 atlas, in order +X, -X, +Y, -Y, +Z, -Z (tile = 2 * axis + negative).
# Each maps the reference image as seen from outside along its axis (Y up, as in glTF):
# ((axis, sign) of the image's right, (axis, sign) of the image's up).
TILE_FRAMES = (
    ((2, -1), (1, 1)),
    ((2, 1), (1, 1)),
    ((0, 1), (2, -1)),
    ((0, 1), (2, 1)),
    ((0, 1), (1, 1)),
    ((0, -1), (1, 1)),
)
TILE_NORMALS = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
# Shaded results: a light from above, in front and to the right, baked per tile.
LIGHT = np.array([0.4, 0.8, 0.45]) / np.linalg.norm([0.4, 0.8, 0.45])
TILE_LIGHT = 0.3 + 0.7 * np.clip(TILE_NORMALS @ LIGHT, 0.0, None)
# PBR normal maps: bumps per tile each way, and their steepest slope (about 31 degrees).
BUMPS = 2
BUMP_SLOPE = 0.6

# Texture maps in the GLB, in the order the material refers to them by index.
GLB_TEXTURES = {"PBR": ("base_color", "metallic_roughness", "normal"), "Shaded": ("shaded",)}
GLB_MATERIALS = {
    "PBR": {
        "name": "material",
        "pbrMetallicRoughness": {
            "baseColorTexture": {"index": 0},
            "metallicRoughnessTexture": {"index": 1},
        },
        "normalTexture": {"index": 2},
    },
    # Lighting baked into the colour: shown as emission, with a black, rough, non-metal base so
    # Blender's glTF importer renders it as is (KHR_materials_unlit would bypass its Principled
    # BSDF, where the add-on looks for the maps).
    "Shaded": {
        "name": "material",
        "pbrMetallicRoughness": {
            "baseColorFactor": [0.0, 0.0, 0.0, 1.0],
            "metallicFactor": 0.0,
            "roughnessFactor": 1.0,
        },
        "emissiveTexture": {"index": 0},
        "emissiveFactor": [1.0, 1.0, 1.0],
    },
}
# OBJ results: loose textures (names as seen from the service) and the MTL statement for each.
OBJ_TEXTURES = {
    "PBR": {
        "texture_diffuse.png": "base_color",
        "texture_roughness.png": "roughness",
        "texture_metallic.png": "metallic",
        "texture_normal.png": "normal",
    },
    "Shaded": {"shaded.png": "shaded"},
}
MTL_STATEMENTS = {
    "base_color": "map_Kd",
    "roughness": "map_Pr",
    "metallic": "map_Pm",
    "normal": "norm",
    "shaded": "map_Ke",
}
MTL_HEADERS = {"PBR": ["Kd 1 1 1"], "Shaded": ["Kd 0 0 0", "Ke 1 1 1"]}


class ResultOptions(NamedTuple):
    """What shapes a task's results, fixed when it is submitted."""

    geometry_file_format: str
    material: str
    resolution: str
    texture_size: int | None
    wrap_in_empty: bool
    seed: int


class Remeshed(NamedTuple):
    """The result mesh: float32 positions, unit normals and UVs per vertex; triangles."""

    positions: np.ndarray
    normals: np.ndarray
    uvs: np.ndarray
    indices: np.ndarray


def load_model(data: bytes) -> Mesh:
    """The triangles of an uploaded GLB or OBJ; ValueError saying why when it is neither."""
    mesh = glb.read_mesh(data) if data[:4] == glb.GLB_MAGIC else read_obj(data)
    if not np.isfinite(mesh.positions).all():
        raise ValueError("the model has non-finite vertex positions")
    corners = mesh.positions[mesh.indices]
    area = np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]))
    if not area > 0:
        raise ValueError("the model's triangles all have zero area")
    return mesh


def file_plan(options: ResultOptions) -> dict[str, str]:
    """Name -> kind of every file of a task, in list order.

    fbx and usdz are not produced: those tasks list the GLB model (and the preview) only.
    """
    stem = f"base_{options.resolution.lower()}_{options.material.lower()}"
    if options.geometry_file_format == "obj":
        plan = {"base.obj": "obj", "material.mtl": "mtl", **OBJ_TEXTURES[options.material]}
    elif options.geometry_file_format == "stl":
        plan = {f"{stem}.stl": "stl"}
    else:
        plan = {f"{stem}.glb": "glb"}
    plan["preview.webp"] = "preview"
    return plan


def build_files(mesh: Mesh, image: Image.Image, options: ResultOptions) -> dict[str, bytes]:
    """Every file of the plan, by name."""
    remeshed = box_project(mesh, options.seed)
    size = options.texture_size or DEFAULT_TEXTURE_SIZES[options.resolution]
    maps = texture_maps(image, size, options.material)
    makers = {
        "glb": lambda: model_glb(remeshed, maps, options),
        "obj": lambda: write_obj(*remeshed, material_file="material.mtl"),
        "mtl": lambda: material_mtl(options.material),
        "stl": lambda: model_stl(remeshed),
        "preview": lambda: preview_webp(image, options.material),
    }
    return {
        name: makers[kind]() if kind in makers else png(maps[kind])
        for name, kind in file_plan(options).items()
    }


def box_project(mesh: Mesh, seed: int) -> Remeshed:
    """Centre the mesh, scale its largest extent to 1, weld it by position, then give each
    triangle its dominant axis tile of the atlas and split vertices along tile seams.
    The vertex order is shuffled (seeded), so nothing can rely on the upload's order.
    """
    low, high = mesh.positions.min(axis=0), mesh.positions.max(axis=0)
    scale = (high - low).max()
    points = (mesh.positions - (low + high) / 2) / scale
    extent = np.where(high > low, (high - low) / scale, 1.0)

    _, first, welded = np.unique(
        np.round(points / WELD_TOLERANCE).astype(np.int64),
        axis=0,
        return_index=True,
        return_inverse=True,
    )
    points = points[first]
    triangles = welded.reshape(-1)[mesh.indices]
    a, b, c = triangles.T
    triangles = triangles[(a != b) & (b != c) & (a != c)]

    face_normals = np.cross(
        points[triangles[:, 1]] - points[triangles[:, 0]],
        points[triangles[:, 2]] - points[triangles[:, 0]],
    )
    axis = np.abs(face_normals).argmax(axis=1)
    tiles = 2 * axis + (face_normals[np.arange(len(axis)), axis] < 0)
    vertex_normals = np.zeros_like(points)
    for corner in range(3):
        np.add.at(vertex_normals, triangles[:, corner], face_normals)
    lengths = np.linalg.norm(vertex_normals, axis=1, keepdims=True)
    vertex_normals = np.where(lengths > 0, vertex_normals / np.maximum(lengths, 1e-30), [0, 1, 0])

    keys, corners = np.unique((triangles * 6 + tiles[:, None]).reshape(-1), return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(keys))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    vertices, vertex_tiles = np.divmod(keys[order], 6)

    positions = points[vertices]
    uvs = np.empty((len(vertices), 2))
    for tile, ((right, right_sign), (up, up_sign)) in enumerate(TILE_FRAMES):
        mine = vertex_tiles == tile
        s = 0.5 + right_sign * positions[mine, right] / extent[right]
        t = 0.5 + up_sign * positions[mine, up] / extent[up]
        column, row = tile % 3, tile // 3
        uvs[mine, 0] = (column + np.clip(s, 0, 1)) / 3
        uvs[mine, 1] = (row + 1 - np.clip(t, 0, 1)) / 2
    return Remeshed(
        positions.astype(np.float32),
        vertex_normals[vertices].astype(np.float32),
        uvs.astype(np.float32),
        rank[corners].reshape(-1, 3),
    )


def texture_maps(image: Image.Image, size: int, material: str) -> dict[str, np.ndarray]:
    """The atlas maps (size × size): every tile holds the reference image, so a texel's colour
    depends only on where it is in its tile. Maps are made at tile size, then laid out."""
    tile = np.asarray(
        image.convert("RGB").resize((math.ceil(size / 3), math.ceil(size / 2)), Image.BILINEAR)
    )
    centres = (np.arange(size) + 0.5) / size
    columns, across = np.divmod(centres * 3, 1)
    rows, down = np.divmod(centres * 2, 1)
    ys, xs = (down * tile.shape[0]).astype(int), (across * tile.shape[1]).astype(int)

    def atlas(tile_map: np.ndarray) -> np.ndarray:
        return tile_map[ys][:, xs]

    if material == "Shaded":
        light = TILE_LIGHT[(rows[:, None] * 3 + columns[None, :]).astype(int)]
        shaded = atlas(tile).astype(np.uint16) * (256 * light[..., None]).astype(np.uint16) >> 8
        return {"shaded": shaded.astype(np.uint8)}
    luminance = tile @ np.array([0.299, 0.587, 0.114]) / 255
    roughness = atlas((255 * (0.35 + 0.6 * (1 - luminance))).astype(np.uint8))
    # Half-metal where the reference is bluer than it is red and green (white or grey stays
    # dielectric, like a glaze), roughness from its luminance: two different maps, so a bake
    # that mixes them up shows.
    red, green, blue = np.moveaxis(tile.astype(np.int16), -1, 0)
    metallic = atlas((np.clip(blue - (red + green) // 2, 0, 255) // 2).astype(np.uint8))
    return {
        "base_color": atlas(tile),
        # glTF packs roughness in green and metalness in blue.
        "metallic_roughness": np.dstack([np.full_like(roughness, 255), roughness, metallic]),
        "normal": atlas(bump_normals(*tile.shape[:2])),
        "roughness": roughness,
        "metallic": metallic,
    }


def bump_normals(height: int, width: int) -> np.ndarray:
    """A tile of tangent-space normals (glTF's: +X right, +Y up in the image) of gentle bumps,
    BUMPS across the tile each way, as RGB bytes: a normal map a bake must carry over."""
    x = (np.arange(width) + 0.5) / width * (2 * math.pi * BUMPS)
    y = (1 - (np.arange(height) + 0.5) / height) * (2 * math.pi * BUMPS)  # up the image
    # Heights sin(x) sin(y) * BUMP_SLOPE; each normal is (-dh/dx, -dh/dy, 1), normalised.
    slope_x = BUMP_SLOPE * np.outer(np.sin(y), np.cos(x))
    slope_y = BUMP_SLOPE * np.outer(np.cos(y), np.sin(x))
    normals = np.dstack([-slope_x, -slope_y, np.ones_like(slope_x)])
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    return np.round(127.5 + 127.5 * normals).astype(np.uint8)


def png(pixels: np.ndarray) -> bytes:
    """PNG bytes, compressed lightly: generation must stay quick at 4K."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def preview_webp(image: Image.Image, material: str) -> bytes:
    """A small picture of the colour atlas (made at preview size: quicker than shrinking)."""
    colour = texture_maps(image, PREVIEW_SIZE, material)[GLB_TEXTURES[material][0]]
    buffer = io.BytesIO()
    Image.fromarray(colour).save(buffer, "WEBP", quality=80)
    return buffer.getvalue()


def model_glb(remeshed: Remeshed, maps: dict[str, np.ndarray], options: ResultOptions) -> bytes:
    """One mesh node named like the service's (root.0), optionally under an Empty parent."""
    mesh_node = {"name": "root.0", "mesh": 0}
    nodes = (
        [{"name": "model", "children": [1]}, mesh_node] if options.wrap_in_empty else [mesh_node]
    )
    writer = GlbWriter(
        {
            "asset": {"version": "2.0", "generator": "Rodin emulator"},
            "scene": 0,
            "scenes": [{"nodes": [0]}],
            "nodes": nodes,
            "materials": [GLB_MATERIALS[options.material]],
            "samplers": [{"magFilter": 9729, "minFilter": 9729}],
        }
    )
    primitive = {
        "attributes": {
            "POSITION": writer.accessor(remeshed.positions, "VEC3", bounds=True),
            "NORMAL": writer.accessor(remeshed.normals, "VEC3"),
            "TEXCOORD_0": writer.accessor(remeshed.uvs, "VEC2"),
        },
        "indices": writer.accessor(
            glb.index_array(remeshed.indices, len(remeshed.positions)), "SCALAR"
        ),
        "material": 0,
    }
    writer.document["meshes"] = [{"name": "root.0", "primitives": [primitive]}]
    writer.document["textures"] = [
        {"sampler": 0, "source": writer.image(png(maps[kind]), "image/png")}
        for kind in GLB_TEXTURES[options.material]
    ]
    return writer.to_bytes()


def material_mtl(material: str) -> bytes:
    lines = ["newmtl material", *MTL_HEADERS[material]]
    lines += [f"{MTL_STATEMENTS[kind]} {name}" for name, kind in OBJ_TEXTURES[material].items()]
    return ("\n".join(lines) + "\n").encode()


def model_stl(remeshed: Remeshed) -> bytes:
    """Binary STL: geometry only, no textures."""
    corners = remeshed.positions[remeshed.indices]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-30)
    records = np.zeros(
        len(corners), dtype=[("normal", "<f4", 3), ("corners", "<f4", (3, 3)), ("attr", "<u2")]
    )
    records["normal"], records["corners"] = normals, corners
    header = b"Rodin emulator".ljust(80, b"\0")
    return header + len(records).to_bytes(4, "little") + records.tobytes()
