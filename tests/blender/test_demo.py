"""The README's demo command, small: the shipped vase textured, saved and rendered."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gltf_validator import assert_valid
from PIL import Image

pytestmark = pytest.mark.blender

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"


def blue_pixels(picture: np.ndarray) -> int:
    red, green, blue = (picture[..., channel].astype(int) for channel in range(3))
    return int(np.count_nonzero((blue > red + 40) & (blue > green + 20)))


def test_demo_textures_the_vase_and_renders_it_beside_the_original(tmp_path):
    small = ["--output-dir", str(tmp_path), "--samples", "4", "--size", "192x108"]
    done = subprocess.run(
        [sys.executable, str(DEMO), *small],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]

    printed = dict(re.findall(r"^\s+(\w[\w ()]*?):\s+(/\S+)", done.stdout, re.MULTILINE))
    assert Path(printed["scene"]) == tmp_path / "demo.blend" and (tmp_path / "demo.blend").is_file()
    assert Path(printed["picture"]) == tmp_path / "demo.png"
    model = Path(printed["textured model (downloaded)"])
    assert model.is_relative_to(tmp_path / "results")
    assert_valid(model)

    picture = np.asarray(Image.open(tmp_path / "demo.png").convert("RGB"))
    assert picture.shape == (108, 192, 3)
    original, textured = picture[:, :96], picture[:, 96:]
    assert blue_pixels(textured) > 100 > blue_pixels(original)
