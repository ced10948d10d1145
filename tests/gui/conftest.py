"""The GUI tier: the built extension installed into Blender with a real window (``$BLENDER``, or
the one ``scripts/setup-gui`` makes), driven as a person drives it, against the emulator.

Each test runs one scenario of ``scripts/gui_blender/scenarios.py`` in a new Blender; its
screenshots, log and report stay in ``out/gui/<test>/`` for a developer to open.
"""

import build_extension
import gui_blender
import pytest

OUT = gui_blender.REPO / "out" / "gui"
# With the service's pacing (a first check after 5 s, the next 7.5 s later), each stage shows
# long enough to be seen and photographed in the window.
GUI_TIMINGS = {"waiting_seconds": 3.0, "generating_seconds": 8.0, "texture_size": 256}


@pytest.fixture(scope="session")
def extension_zip(tmp_path_factory):
    return build_extension.build(tmp_path_factory.mktemp("dist"))


@pytest.fixture
def window(request, emulator, extension_zip, reference_image, tmp_path):
    """``window(scenario, **params)``: runs a scenario in a new windowed Blender, with the
    common parameters filled in, and returns its report."""
    emulator.reset(**GUI_TIMINGS)

    def run(scenario, timeout=300, **params):
        common = {
            "zip": str(extension_zip),
            "base_url": emulator.base_url,
            "api_key": "test-key",
            "results": str(tmp_path / "results"),
            "image": str(reference_image),
        }
        out_dir = OUT / request.node.name
        return gui_blender.run(scenario, out_dir, {**common, **params}, timeout=timeout)

    return run
