"""Shared by the benchmark scripts (scripts/bench_*.py): the add-on in real Blender, meshes of a
given size, the emulator in its own process, medians and tables.

Benchmarks print ratios measured in one run, side by side, because these machines are noisy.
"""

import atexit
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
PACKAGE = "rodin_texture_addon"
ADDON_MODULE = f"bl_ext.bench.{PACKAGE}"
API_KEY = "bench-key"
TRIANGLE_COUNTS = (1_000, 100_000, 1_000_000)
# Blender's glTF exporter set to write geometry only, as the add-on once used it: the baseline
# of the submit benchmark and the writer of the Draco variant in the upload benchmark.
BLENDER_EXPORT_OPTIONS = {
    "export_format": "GLB",
    "use_selection": True,
    "export_apply": True,
    "export_yup": True,
    "export_normals": True,
    "export_texcoords": False,
    "export_tangents": False,
    "export_materials": "NONE",
    "export_image_format": "NONE",
    "export_vertex_color": "NONE",
    "export_attributes": False,
    "export_animations": False,
    "export_skins": False,
    "export_morph": False,
    "export_cameras": False,
    "export_lights": False,
    "export_extras": False,
    "export_draco_mesh_compression_enable": False,
    "will_save_settings": False,
}

# The add-on's bpy-free packages (client, job manager), as the tests import them.
sys.path.insert(0, str(REPO))


def scratch_folder(prefix: str) -> Path:
    """A temporary folder removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


# --- Blender ---------------------------------------------------------------------------------


def blender_with_addon():
    """Import bpy with a throw-away user folder, load the add-on from the working tree as the
    extension ``bl_ext.bench.rodin_texture_addon``, allow online access; return a loader of
    the add-on's modules (``addon("blender.session")``)."""
    os.environ["BLENDER_USER_RESOURCES"] = str(scratch_folder("bench-blender-user-"))
    import bpy  # noqa: I001  (addon_utils is importable only once bpy is)
    import addon_utils

    extensions = scratch_folder("bench-extensions-")
    staged = extensions / PACKAGE
    staged.mkdir()
    for entry in (REPO / PACKAGE).iterdir():
        if entry.name != "__pycache__":
            (staged / entry.name).symlink_to(entry)
    (staged / "blender_manifest.toml").symlink_to(REPO / "blender_manifest.toml")
    bpy.context.preferences.extensions.repos.new(
        name="bench", module="bench", custom_directory=str(extensions), source="USER"
    )
    addon_utils.enable(ADDON_MODULE, default_set=True)
    # A timer left registered would keep the interpreter from exiting.
    atexit.register(addon_utils.disable, ADDON_MODULE, default_set=True)
    bpy.context.preferences.system.use_online_access = True

    def addon(name: str):
        return importlib.import_module(f"{ADDON_MODULE}.{name}")

    return addon


def addon_preferences():
    import bpy

    return bpy.context.preferences.addons[ADDON_MODULE].preferences


def make_grid_object(name: str, triangles: int, *, with_uvs_and_material: bool = True):
    """A smooth, gently rippled grid of exactly ``triangles`` triangles (as quads), built with
    numpy; with a UV map and a textured material, as a user's mesh has, unless told not to."""
    import bpy

    quads = triangles // 2
    columns = int(np.sqrt(quads * 2))
    while quads % columns:
        columns -= 1
    rows = quads // columns
    xs, ys = np.meshgrid(np.linspace(-1, 1, columns + 1), np.linspace(-0.5, 0.5, rows + 1))
    zs = 0.05 * np.sin(xs * 9.0) * np.cos(ys * 7.0)
    coordinates = np.stack([xs, ys, zs], axis=-1).reshape(-1, 3).astype(np.float32)
    corner = (np.arange(rows)[:, None] * (columns + 1) + np.arange(columns)[None, :]).ravel()
    loops = np.stack([corner, corner + 1, corner + columns + 2, corner + columns + 1], axis=1)
    mesh = bpy.data.meshes.new(name)
    mesh.vertices.add(len(coordinates))
    mesh.vertices.foreach_set("co", coordinates.ravel())
    mesh.loops.add(loops.size)
    mesh.loops.foreach_set("vertex_index", loops.ravel().astype(np.int32))
    mesh.polygons.add(quads)
    mesh.polygons.foreach_set("loop_start", np.arange(0, loops.size, 4, dtype=np.int32))
    mesh.update(calc_edges=True)
    mesh.shade_smooth()
    if with_uvs_and_material:
        uvs = mesh.uv_layers.new(name="UVMap")
        uvs.data.foreach_set("uv", (coordinates[loops.ravel(), :2] + 1).ravel() / 2)
        material = bpy.data.materials.new(f"{name} material")
        material.use_nodes = True
        mesh.materials.append(material)
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.location = (0.5, -1.0, 2.0)
    obj.rotation_euler = (0.3, 0.0, 0.7)
    bpy.context.view_layer.update()
    return obj


def select_only(obj):
    import bpy

    view_layer = bpy.context.view_layer
    view_layer.update()
    for other in view_layer.objects:
        other.select_set(other is obj)
    view_layer.objects.active = obj


def blender_export(obj, path: Path, **changes):
    """Blender's own glTF exporter writing ``obj`` alone, geometry only (see above)."""
    import bpy

    select_only(obj)
    known = bpy.ops.export_scene.gltf.get_rna_type().properties.keys()
    options = {name: value for name, value in BLENDER_EXPORT_OPTIONS.items() if name in known}
    bpy.ops.export_scene.gltf(filepath=str(path), **{**options, **changes})
    return path.stat().st_size


def reference_image(folder: Path) -> Path:
    from PIL import Image

    path = folder / "reference.png"
    image = Image.new("RGB", (64, 64))
    image.putdata([(x * 4, y * 4, 128) for y in range(64) for x in range(64)])
    image.save(path)
    return path


# --- The emulator in its own process -----------------------------------------------------------


class EmulatorProcess:
    """``scripts/emulator.py`` in a child process (its work does not share this process's GIL),
    driven through its control routes."""

    def __init__(self, *arguments: str):
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPTS / "emulator.py"), "--api-key", API_KEY, *arguments],
            stdout=subprocess.PIPE,
            text=True,
        )
        first_line = self.process.stdout.readline()
        self.base_url = first_line.rsplit(" ", 1)[-1].strip()
        if not self.base_url.startswith("http"):
            self.process.kill()
            raise RuntimeError(f"the emulator did not start: {first_line!r}")
        self._control = self.base_url.removesuffix("/api/v2") + "/_emulator"

    def control(self, route: str, payload: dict | None = None):
        request = urllib.request.Request(
            f"{self._control}/{route}",
            data=json.dumps(payload or {}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as answer:
            return json.load(answer)

    def delay_every_answer(self, seconds: float):
        """Every API request (the next 10,000) is answered only after ``seconds``."""
        for endpoint in ("rodin_texture_only", "status", "download", "check_balance"):
            fault = {"endpoint": endpoint, "kind": "slow", "args": {"seconds": seconds}}
            self.control("inject", {**fault, "times": 10_000})

    def stop(self):
        self.process.terminate()
        self.process.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def use_emulator(base_url: str):
    """Point the add-on at the emulator, with the highest request budget it allows."""
    preferences = addon_preferences()
    preferences.api_key = API_KEY
    preferences.base_url = base_url
    preferences.requests_per_minute = 600


# --- Numbers ---------------------------------------------------------------------------------


def timed(function, *arguments, **keywords) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = function(*arguments, **keywords)
    return time.perf_counter() - start, result


def median(values) -> float:
    return statistics.median(values)


def print_table(title: str, headers: list[str], rows: list[list]):
    """A plain-text table; floats are printed as given (format them before)."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(str(h).rjust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    sys.stdout.flush()


def megabytes(size: int) -> str:
    return f"{size / 2**20:.2f} MB"
