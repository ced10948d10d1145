"""A mesh over Rodin's 10 MB sent as an upload proxy, in real Blender against the emulator (which
refuses a model over 10 MB): a million triangles, end to end. Heavy: it runs on the default and
the newest Blender; the smaller proxy tests and the refusals (among the user mistakes of
test_addon_flow.py) run on every Blender."""

from pathlib import Path

import bpy
import pytest
from gltf_validator import assert_valid

from . import scenes
from .fidelity import generate_and_compare
from .test_addon_flow import rodin  # noqa: F401  (fixture)
from .test_bake import PSNR_THRESHOLD, mesh_state, reference, wavy_reference  # noqa: F401

pytestmark = [pytest.mark.blender, pytest.mark.heavy]
LIMIT = 10 * 1024 * 1024


@pytest.fixture
def scan():
    obj = scenes.make_scan()
    scenes.select_only(obj, active=obj)
    return obj


def triangle_count(obj) -> int:
    mesh = obj.data
    return len(mesh.loops) - 2 * len(mesh.polygons)


def test_a_million_triangles_go_as_a_proxy_whose_result_is_baked_onto_the_mesh(
    addon,
    rodin,  # noqa: F811
    reference,  # noqa: F811
    emulator,
    scan,
    tmp_path,
):
    triangles = triangle_count(scan)
    assert triangles > 990_000
    before = mesh_state(scan)

    scores = generate_and_compare(scan, tmp_path)

    (task,) = emulator.tasks.values()
    assert 0.85 * LIMIT < len(task.model_bytes) <= LIMIT
    upload = tmp_path / "upload.glb"
    upload.write_bytes(task.model_bytes)
    assert_valid(upload)
    state = scan.rodin_texture
    proxy = state.proxy
    assert proxy["source_triangles"] == triangles
    assert 200_000 < proxy["triangles"] < triangles / 2
    assert 0 < proxy["mean_deviation"] < proxy["worst_deviation"] < 0.01
    (record,) = rodin.session.ledger().tasks()
    assert record.proxy == proxy
    assert mesh_state(scan) == before, "the mesh itself is not changed"
    assert scan.material_slots[0].material.name == "Scan_rodin"
    assert state.result_object.name == "Scan_rodin_proxy"
    assert triangle_count(state.result_object) == proxy["triangles"]
    print("PSNR per view:", {k: [f"{v:.1f}" for v in views] for k, views in scores.items()})
    assert all(min(views) > PSNR_THRESHOLD for views in scores.values()), scores
    uploads = Path(bpy.utils.extension_path_user(addon.__name__, path="uploads", create=True))
    assert list(uploads.iterdir()) == [], "no staged upload is left behind"
