"""The README's pictures of the add-on in Blender's real window, made anew.

    .venv/bin/python scripts/window_pictures.py [--output-dir scripts/demo_assets/window]

Runs the ``pictures`` scenario of ``gui_blender`` (the shipped vase and glaze, the emulator,
Blender with a window as the GUI tier has it) and crops its screenshots to the sidebar, or to
the viewport with the sidebar for the textured result.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import build_extension
import gui_blender
import numpy as np
from PIL import Image
from rodin_emulator import Emulator

ASSETS = Path(__file__).resolve().parent / "demo_assets"
PANELS = {
    "panel-image": "panel-image.png",
    "panel-generating": "panel-generating.png",
    "panel-zh-done": "panel-zh-done.png",
    "panel-zh-baking": "panel-zh-baking.png",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=Path, default=ASSETS / "window")
    options = parser.parse_args(argv)
    settings = {"api_key": "key", "waiting_seconds": 3, "generating_seconds": 8}
    with (
        tempfile.TemporaryDirectory(prefix="rodin-pictures-") as folder,
        Emulator(**settings, texture_size=1024) as emulator,
    ):
        params = {
            "zip": str(build_extension.build(Path(folder) / "dist")),
            "base_url": emulator.base_url,
            "api_key": "key",
            "results": str(Path(folder) / "results"),
            "image": str(ASSETS / "glaze.png"),
            "model": str(ASSETS / "vase.glb"),
        }
        report = gui_blender.run("pictures", gui_blender.REPO / "out" / "pictures", params, 600)
    options.output_dir.mkdir(parents=True, exist_ok=True)
    left, top, width, height = report.facts["rects"]["sidebar"]
    for shot, name in PANELS.items():
        panel = Image.open(report.shot(shot)).crop((left, top, left + width, top + height))
        save(trim_bottom(panel), options.output_dir / name)
    left, top, width, height = report.facts["rects"]["area"]
    result = Image.open(report.shot("result")).crop((left, top, left + width, top + height))
    save(result, options.output_dir / "result.png")
    return 0


def trim_bottom(picture: Image.Image, margin: int = 8, tabs: int = 30) -> Image.Image:
    """The picture without the rows of plain background below the last panel (the tab strip
    at the right and the region's edge at the bottom are not looked at)."""
    pixels = np.asarray(picture.convert("RGB")).astype(int)[:-margin, :-tabs]
    # Rows where few pixels differ from the background: a grid line of the viewport behind.
    plain = (np.abs(pixels - pixels[-1:, :1]).max(axis=2) >= 4).mean(axis=1) < 0.05
    last = len(plain) - int(np.argmin(plain[::-1]))
    return picture.crop((0, 0, picture.width, min(picture.height, last + margin)))


def save(picture: Image.Image, path: Path) -> None:
    picture.convert("RGB").save(path, optimize=True)
    print(f"{path} ({picture.width} x {picture.height})")


if __name__ == "__main__":
    sys.exit(main())
