"""The add-on's main job, headless: texture the shipped vase from the shipped glaze image.

    scripts/demo [--output-dir demo_output] [--real]

Builds the extension zip and installs it into a throw-away Blender user folder, as a user
would; starts the local Rodin emulator (no key, no network); imports scripts/demo_assets/vase.glb,
runs ``bpy.ops.rodin_texture.generate`` with glaze.png, saves a .blend, and renders the original
beside the textured result with Cycles on the CPU. With ``--real`` and RODIN_API_KEY set, the
same run goes to the real service (it costs 0.5 credits).
"""

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "scripts" / "demo_assets"
MODEL = ASSETS / "vase.glb"
IMAGE = ASSETS / "glaze.png"
ADDON = "bl_ext.user_default.rodin_texture_addon"
EMULATOR_SETTINGS = {
    "api_key": "demo-key",
    "waiting_seconds": 1.0,
    "generating_seconds": 2.0,
    "texture_size": 1024,
}
SPACING = 1.9  # between the two vases, in metres
LABELS = ("Original", "Textured by Rodin")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=Path, default=REPO / "demo_output")
    parser.add_argument("--real", action="store_true", help="use the real service (RODIN_API_KEY)")
    parser.add_argument("--samples", type=int, default=32, help="Cycles samples")
    parser.add_argument("--size", default="640x360", help="picture size, WIDTHxHEIGHT")
    options = parser.parse_args(argv)
    if options.real and not os.environ.get("RODIN_API_KEY"):
        parser.error("--real needs the RODIN_API_KEY environment variable")
    return options


def install_addon(bpy, work: Path):
    """Build the zip and install it the way Blender's Install from Disk does."""
    import build_extension

    extension = build_extension.build(work / "dist")
    bpy.ops.extensions.package_install_files(
        filepath=str(extension), repo="user_default", enable_on_install=True
    )
    return extension


def configure(bpy, base_url: str | None, results: Path):
    context = bpy.context
    context.preferences.system.use_online_access = True  # running the demo is the consent
    prefs = context.preferences.addons[ADDON].preferences
    if base_url:
        prefs.api_key = EMULATOR_SETTINGS["api_key"]
        prefs.base_url = base_url
    prefs.results_folder = str(results)


def texture_vase(bpy):
    """Import the vase and texture it with the add-on's operator; returns (original, result)."""
    bpy.ops.wm.read_homefile(use_empty=True)
    before = set(bpy.data.objects)
    bpy.ops.import_scene.gltf(filepath=str(MODEL))
    (original,) = (obj for obj in bpy.data.objects if obj not in before and obj.type == "MESH")
    bpy.ops.object.select_all(action="DESELECT")
    original.select_set(True)
    bpy.context.view_layer.objects.active = original

    bpy.ops.rodin_texture.generate(image_path=str(IMAGE))

    state = original.rodin_texture
    if state.status != "done" or state.result_object is None:
        raise SystemExit(f"the texture job did not finish: {state.status}: {state.message}")
    return original, state.result_object


def stage_scene(bpy, original, result, width: int, height: int, samples: int):
    """Side by side on a floor, a key light, soft fill from the sky, a camera framing both."""
    from mathutils import Vector

    original.location.x -= SPACING / 2
    result.location.x += SPACING / 2
    scene = bpy.context.scene

    bpy.ops.mesh.primitive_plane_add(size=40.0, location=(0.0, 0.0, 0.0))
    floor = bpy.context.active_object
    floor.name = "Floor"
    floor_material = bpy.data.materials.new("Floor")
    floor_material.use_nodes = True
    bsdf = floor_material.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (0.55, 0.52, 0.48, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.8
    floor.data.materials.append(floor_material)

    key = bpy.data.lights.new("Key", type="AREA")
    key.energy, key.size = 650.0, 3.0
    key_object = bpy.data.objects.new("Key", key)
    key_object.location = (-3.5, -4.0, 5.0)
    key_object.rotation_euler = (
        (Vector((0, 0, 1.0)) - key_object.location).to_track_quat("-Z", "Y").to_euler()
    )
    scene.collection.objects.link(key_object)

    world = bpy.data.worlds.new("Sky")
    world.use_nodes = True
    background = world.node_tree.nodes["Background"]
    background.inputs["Color"].default_value = (0.75, 0.8, 0.9, 1.0)
    background.inputs["Strength"].default_value = 0.6
    scene.world = world

    camera = bpy.data.cameras.new("Camera")
    camera.lens = 50.0
    camera_object = bpy.data.objects.new("Camera", camera)
    camera_object.location = (0.0, -8.0, 2.5)
    target = Vector((0.0, 0.0, 0.95))
    camera_object.rotation_euler = (
        (target - camera_object.location).to_track_quat("-Z", "Y").to_euler()
    )
    scene.collection.objects.link(camera_object)
    scene.camera = camera_object

    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_denoising = True
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"


@contextlib.contextmanager
def output_to(log: Path):
    """Send what Blender prints (the render's progress lines) to a log file instead."""
    sys.stdout.flush()
    saved = os.dup(1)
    with log.open("w") as stream:
        os.dup2(stream.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def label_picture(path: Path, width: int):
    """Write the two captions under the vases."""
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.open(path).convert("RGB")
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(12, width // 40))
    for index, text in enumerate(LABELS):
        centre = width * (0.3 + 0.4 * index)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        x, y = centre - (right - left) / 2, picture.height - (bottom - top) - width // 40
        draw.text((x, y), text, font=font, fill=(255, 255, 255), stroke_width=2,
                  stroke_fill=(40, 40, 40))  # fmt: skip
    picture.save(path)


def main(argv=None) -> int:
    options = parse_arguments(argv)
    width, height = (int(value) for value in options.size.lower().split("x"))
    output = options.output_dir.resolve()
    output.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="rodin-demo-") as work:
        # Blender must not read or write the user's own configuration.
        os.environ["BLENDER_USER_RESOURCES"] = str(Path(work) / "blender-user")
        sys.path[:0] = [str(REPO / "scripts")]
        import bpy  # noqa: I001  (after BLENDER_USER_RESOURCES)
        import addon_utils

        from rodin_emulator import Emulator

        emulator = None if options.real else Emulator(**EMULATOR_SETTINGS).start()
        try:
            extension = install_addon(bpy, Path(work))
            configure(bpy, emulator.base_url if emulator else None, output / "results")
            print(f"Rodin demo: texturing {MODEL.name} from {IMAGE.name} against "
                  f"{'the real service' if options.real else 'the local emulator'}")  # fmt: skip
            original, result = texture_vase(bpy)
            model = original.rodin_texture.model_path
            stage_scene(bpy, original, result, width, height, options.samples)
            blend = output / "demo.blend"
            bpy.ops.wm.save_as_mainfile(filepath=str(blend))
            picture = output / "demo.png"
            bpy.context.scene.render.filepath = str(picture)
            print(f"Rendering {width}x{height}, {options.samples} samples (Cycles, CPU)...")
            with output_to(output / "render.log"):
                bpy.ops.render.render(write_still=True)
            label_picture(picture, width)
        finally:
            if ADDON in bpy.context.preferences.addons:
                addon_utils.disable(ADDON, default_set=True)
            if emulator:
                emulator.stop()

    print(f"""
Rodin demo finished in {time.monotonic() - started:.0f} s
  extension zip (installed into a temporary Blender user folder): {extension.name}
  textured model (downloaded): {model}
  scene:   {blend}
  picture: {picture}  (left: original, right: textured by Rodin)""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
