"""Make the demo's inputs once: a vase (vase.glb, geometry only) and a glaze pattern (glaze.png).

    .venv/bin/python scripts/demo_assets/make_assets.py

The files are committed; this script records how they were made.
"""

import math
import os
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
RINGS = 48
SEGMENTS = 64
IMAGE_SIZE = 512


def vase_profile() -> list[tuple[float, float]]:
    """(radius, height) from the foot to the lip: a belly, a narrow neck, a flared lip."""
    points = []
    for index in range(RINGS + 1):
        t = index / RINGS
        belly = 0.55 * math.exp(-(((t - 0.35) / 0.28) ** 2))
        lip = 0.22 * math.exp(-(((t - 1.0) / 0.12) ** 2))
        points.append((0.18 + belly + lip, 2.0 * t))
    return points


def vase_mesh():
    """Vertices and quads of the lathed profile, closed at the foot."""
    vertices, faces = [], []
    for radius, height in vase_profile():
        for segment in range(SEGMENTS):
            angle = 2 * math.pi * segment / SEGMENTS
            vertices.append((radius * math.cos(angle), radius * math.sin(angle), height))
    for ring in range(RINGS):
        for segment in range(SEGMENTS):
            a = ring * SEGMENTS + segment
            b = ring * SEGMENTS + (segment + 1) % SEGMENTS
            faces.append((a, b, b + SEGMENTS, a + SEGMENTS))
    faces.append(tuple(reversed(range(SEGMENTS))))
    return vertices, faces


def save_vase(path: Path):
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="rodin-assets-"))
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    mesh = bpy.data.meshes.new("Vase")
    vertices, faces = vase_mesh()
    mesh.from_pydata(vertices, [], faces)
    mesh.shade_smooth()
    vase = bpy.data.objects.new("Vase", mesh)
    bpy.context.scene.collection.objects.link(vase)
    vase.select_set(True)
    bpy.ops.export_scene.gltf(
        filepath=str(path), export_format="GLB", use_selection=True, export_materials="NONE"
    )


def save_glaze(path: Path):
    """Blue bands and leaves on a cream glaze: rings once projected onto the vase."""
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), (236, 226, 204))
    draw = ImageDraw.Draw(image)
    blue, dark = (38, 82, 150), (24, 44, 92)
    for top, height in ((40, 26), (120, 10), (372, 10), (440, 30)):
        draw.rectangle((0, top, IMAGE_SIZE, top + height), fill=blue)
    for index in range(8):
        x = 32 + index * 64
        draw.ellipse((x - 22, 190, x + 22, 320), fill=blue, outline=dark, width=4)
        draw.line((x, 196, x, 314), fill=(236, 226, 204), width=3)
        draw.ellipse((x - 8, 160, x + 8, 176), fill=(190, 70, 50))
    image.filter(ImageFilter.GaussianBlur(0.8)).save(path, optimize=True)


if __name__ == "__main__":
    save_glaze(HERE / "glaze.png")
    save_vase(HERE / "vase.glb")
    for name in ("glaze.png", "vase.glb"):
        print(f"{HERE / name}: {(HERE / name).stat().st_size} bytes")
