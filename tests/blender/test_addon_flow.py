"""The add-on in real Blender against the emulator: operator to textured object, and back."""

import importlib
import json
import threading
from dataclasses import replace
from pathlib import Path

import bpy
import numpy as np
import pytest
from gltf_validator import assert_valid
from rodin_emulator import Fault

from . import scenes

pytestmark = pytest.mark.blender

SECRET_KEY = "sk-rodin-secret-0123456789"


def module(addon, name):
    return importlib.import_module(f"{addon.__name__}.{name}")


@pytest.fixture
def rodin(addon, emulator, tmp_path):
    """The add-on's runtime, pointed at the emulator with fast polling; reset afterwards."""
    runtime = module(addon, "blender.runtime")
    jobs = module(addon, "jobs")
    prefs = bpy.context.preferences.addons[addon.__name__].preferences
    prefs.api_key = "test-key"
    prefs.base_url = emulator.base_url
    prefs.results_folder = str(tmp_path / "results")
    runtime.get().manager.schedule = jobs.PollSchedule(
        first_delay=0.05, max_interval=0.2, download_retry_delay=0.05, retry_delay=0.1
    )
    yield runtime
    runtime.shutdown()


@pytest.fixture
def reference(reference_image):
    image = bpy.data.images.load(str(reference_image))
    bpy.context.scene.rodin_texture_settings.image = image
    return image


def add_suzanne(name="Suzanne", location=(1.0, 2.0, 0.5)):
    obj = scenes.make_suzanne(name, location, material=False)
    scenes.select_only(obj, active=obj)
    return obj


def object_state(obj):
    state = obj.rodin_texture
    return (state.job_id, state.status, state.task_uuid, state.message)


def assert_aligned(result, source):
    scenes.assert_boxes_match(
        scenes.evaluated_world_box(result), scenes.evaluated_world_box(source)
    )


def material_inputs(obj):
    """Names of the Principled BSDF inputs fed by image textures."""
    linked = set()
    for slot in obj.material_slots:
        for link in slot.material.node_tree.links:
            if link.to_node.type == "BSDF_PRINCIPLED":
                linked.add(link.to_socket.name)
    return linked


def test_generate_textures_a_mesh_and_places_the_result_over_it(
    rodin, emulator, reference, tmp_path
):
    source = add_suzanne()

    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}

    state = source.rodin_texture
    assert state.status == "done", state.message
    assert state.task_uuid in emulator.tasks and state.subscription_key
    result = state.result_object
    assert result is not None and result.name == "Suzanne_rodin"
    assert result.rodin_texture.source_object == source
    assert_aligned(result, source)
    assert "Base Color" in material_inputs(result)
    assert Path(state.model_path).is_file() and Path(state.preview_path).is_file()
    assert_valid(Path(state.model_path))
    assert json.loads(state.settings_json)["material"] == "PBR"


def test_the_upload_holds_the_meshs_world_geometry_and_nothing_else(
    rodin, emulator, reference, tmp_path
):
    source = add_suzanne()
    bpy.ops.rodin_texture.generate()

    uploaded = tmp_path / "uploaded.glb"
    uploaded.write_bytes(emulator.tasks[source.rodin_texture.task_uuid].model_bytes)
    assert_valid(uploaded)
    document, binary = scenes.read_glb(uploaded)
    for key in ("materials", "textures", "images", "animations", "skins", "cameras"):
        assert not document.get(key), key
    (mesh,) = document["meshes"]
    for primitive in mesh["primitives"]:
        assert set(primitive["attributes"]) <= {"POSITION", "NORMAL"}
    positions = scenes.gltf_to_blender(
        scenes.accessor_array(document, binary, mesh["primitives"][0]["attributes"]["POSITION"])
    )
    low, high = scenes.evaluated_world_box(source)
    assert np.allclose(positions.min(axis=0), low, atol=1e-4)
    assert np.allclose(positions.max(axis=0), high, atol=1e-4)


def test_shaded_results_show_their_colour_map_as_emission(rodin, emulator, reference):
    source = add_suzanne()
    bpy.ops.rodin_texture.generate(material="Shaded")
    result = source.rodin_texture.result_object
    assert result is not None
    assert any("Emission" in name for name in material_inputs(result))
    assert emulator.tasks[source.rodin_texture.task_uuid].settings["material"] == "Shaded"


def test_replace_mode_gives_the_original_the_result_mesh(rodin, emulator, reference):
    source = add_suzanne()
    source_mesh = source.data
    bpy.context.scene.rodin_texture_settings.apply_mode = "REPLACE"
    objects_before = set(bpy.data.objects)

    bpy.ops.rodin_texture.generate()

    assert set(bpy.data.objects) == objects_before
    assert source.data != source_mesh
    assert "Base Color" in material_inputs(source)
    assert source.modifiers[0].name == "Subdivision"


def test_a_running_job_is_never_submitted_twice(rodin, emulator, reference):
    emulator.configure(generating_seconds=30)
    source = add_suzanne()
    template = module_request(rodin, bpy.context.scene.rodin_texture_settings)
    rodin.start_generation(bpy.context, [source], template, [1])
    with pytest.raises(RuntimeError, match="already has a texture job running"):
        bpy.ops.rodin_texture.generate()
    while not source.rodin_texture.task_uuid:
        rodin.pump()
    assert emulator.submit_count == 1


def test_several_selected_meshes_make_one_task_each_in_flight_together(rodin, emulator, reference):
    emulator.configure(waiting_seconds=0.5)
    objects = [add_suzanne(f"Mesh{i}", location=(i * 3.0, 0, 0)) for i in range(3)]
    for obj in objects:
        obj.select_set(True)

    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}

    assert emulator.submit_count == 3
    submit_times = sorted(task.submit_time for task in emulator.tasks.values())
    assert submit_times[-1] - submit_times[0] < 0.5, "all three were in flight at once"
    for obj in objects:
        assert obj.rodin_texture.status == "done"
        assert_aligned(obj.rodin_texture.result_object, obj)


def test_keyword_parameters_override_the_panel(rodin, emulator, reference, reference_image):
    bpy.context.scene.rodin_texture_settings.image = None
    source = add_suzanne()
    bpy.ops.rodin_texture.generate(
        image_path=str(reference_image),
        prompt="weathered bronze",
        seed=4242,
        material="Shaded",
        resolution="High",
        reference_scale=2.0,
    )
    sent = emulator.tasks[source.rodin_texture.task_uuid].settings
    assert sent["prompt"] == "weathered bronze"
    assert sent["seed"] == "4242"
    assert sent["material"] == "Shaded"
    assert sent["resolution"] == "High"
    assert float(sent["reference_scale"]) == 2.0


def _no_selection(obj):
    bpy.ops.object.select_all(action="DESELECT")
    bpy.context.view_layer.objects.active = None


def _camera_active(obj):
    bpy.ops.object.select_all(action="DESELECT")
    bpy.ops.object.camera_add()


def _empty_mesh(obj):
    bpy.ops.object.select_all(action="DESELECT")
    empty = bpy.data.objects.new("Empty Mesh", bpy.data.meshes.new("Nothing"))
    bpy.context.collection.objects.link(empty)
    empty.select_set(True)
    bpy.context.view_layer.objects.active = empty


def _no_image(obj):
    bpy.context.scene.rodin_texture_settings.image = None


def _unreadable_image(obj):
    path = Path(bpy.app.tempdir or "/tmp") / "not-an-image.png"
    path.write_text("plain text")
    bpy.context.scene.rodin_texture_settings.image = None
    return {"image_path": str(path)}


def _huge_mesh(obj):
    grid = scenes.make_grid("Dense Grid", subdivisions=480)
    scenes.select_only(grid, active=grid)


USER_MISTAKES = {
    "no selection": (_no_selection, "Select a mesh"),
    "not a mesh": (_camera_active, "not a mesh"),
    "empty mesh": (_empty_mesh, "no faces"),
    "no image": (_no_image, "Pick a reference image"),
    "unreadable image": (_unreadable_image, "not a PNG, JPEG or WebP"),
    "mesh over 10 MB": (_huge_mesh, "over Rodin's 10 MB limit"),
}


@pytest.mark.parametrize("mistake", USER_MISTAKES)
def test_user_mistakes_give_a_message_send_nothing_and_change_nothing(
    mistake, rodin, addon, emulator, reference
):
    source = add_suzanne()
    make_mistake, words = USER_MISTAKES[mistake]
    parameters = make_mistake(source) or {}
    before = {obj.name: object_state(obj) for obj in bpy.data.objects}
    counts = (len(bpy.data.objects), len(bpy.data.meshes), len(bpy.data.materials))

    with pytest.raises(RuntimeError, match=words):
        bpy.ops.rodin_texture.generate(**parameters)

    assert emulator.requests == []
    assert {obj.name: object_state(obj) for obj in bpy.data.objects} == before
    assert (len(bpy.data.objects), len(bpy.data.meshes), len(bpy.data.materials)) == counts
    uploads = Path(bpy.utils.extension_path_user(addon.__name__, path="uploads", create=True))
    assert list(uploads.iterdir()) == [], "no staged upload is left behind"


def test_without_a_key_the_button_says_why(rodin, addon, emulator, reference, monkeypatch):
    for name in ("RODIN_API_KEY", "HYPER3D_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    bpy.context.preferences.addons[addon.__name__].preferences.api_key = ""
    add_suzanne()
    assert not bpy.ops.rodin_texture.generate.poll()
    with pytest.raises(RuntimeError, match="No API key"):
        bpy.ops.rodin_texture.generate()
    assert emulator.requests == []


def test_the_key_can_come_from_the_environment(rodin, addon, emulator, reference, monkeypatch):
    monkeypatch.setenv("RODIN_API_KEY", "test-key")
    bpy.context.preferences.addons[addon.__name__].preferences.api_key = ""
    source = add_suzanne()
    bpy.ops.rodin_texture.generate()
    assert source.rodin_texture.status == "done"


def test_with_online_access_off_nothing_is_sent(rodin, emulator, reference):
    add_suzanne()
    bpy.context.preferences.system.use_online_access = False
    with pytest.raises(RuntimeError, match="Online access is off"):
        bpy.ops.rodin_texture.generate()
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.app_error("API_INSUFFICIENT_FUNDS", "no money", 201), "API_INSUFFICIENT_FUNDS"),
        (Fault.app_error("API_NO_ACTIVE_SUBSCRIPTION", "no plan", 200), "no plan"),
        (Fault.app_error("IMAGE_CONTENT_VIOLATION", "not allowed", 201), "not allowed"),
        (Fault.server_error(500, "SyntaxError: Unexpected token"), "HTTP 500"),
    ],
)
def test_a_refused_submit_shows_on_the_object(fault, words, rodin, emulator, reference):
    source = add_suzanne()
    emulator.inject("rodin_texture_only", fault)
    with pytest.raises(RuntimeError, match=words):
        bpy.ops.rodin_texture.generate()
    state = source.rodin_texture
    assert state.status == "failed"
    assert words in state.message
    assert state.hint
    assert state.result_object is None


def test_a_failed_generation_can_be_generated_again(rodin, emulator, reference):
    source = add_suzanne()
    emulator.fail_next_task()
    with pytest.raises(RuntimeError, match="Failed"):
        bpy.ops.rodin_texture.generate()
    assert source.rodin_texture.status == "failed"
    bpy.ops.rodin_texture.generate()
    assert source.rodin_texture.status == "done"
    assert emulator.submit_count == 2


def test_a_job_cut_off_by_an_error_is_resumed_by_check_now_without_a_new_submit(
    rodin, addon, emulator, reference
):
    source = add_suzanne()
    emulator.configure(waiting_seconds=0.3)
    emulator.inject("status", Fault.app_error("PERMISSION_DENIED", "key revoked", 401))
    with pytest.raises(RuntimeError, match="key revoked"):
        bpy.ops.rodin_texture.generate()
    assert source.rodin_texture.status == "failed" and source.rodin_texture.task_uuid

    bpy.context.view_layer.objects.active = source
    bpy.ops.rodin_texture.check_now()
    rodin.wait_for([source.rodin_texture.job_id])

    assert source.rodin_texture.status == "done"
    assert emulator.submit_count == 1


def test_download_again_fetches_the_result_through_fresh_links(rodin, emulator, reference):
    source = add_suzanne()
    bpy.ops.rodin_texture.generate()
    model = Path(source.rodin_texture.model_path)
    model.unlink()
    emulator.configure(link_lifetime=0.01)  # the first links have long expired

    bpy.context.view_layer.objects.active = source
    assert bpy.ops.rodin_texture.download() == {"FINISHED"}

    assert source.rodin_texture.status == "done"
    assert model.is_file()
    assert emulator.submit_count == 1


def test_the_pump_writes_worker_snapshots_onto_the_object(rodin, emulator, reference):
    """The UI path, with the tests standing in for Blender's timer."""
    source = add_suzanne()
    context = bpy.context
    settings = context.scene.rodin_texture_settings
    template = module_request(rodin, settings)
    (job_id,) = rodin.start_generation(context, [source], template, [7])
    seen = []
    while rodin.get().manager.is_running(job_id) or not rodin.get().manager.updates.empty():
        rodin.pump()
        if not seen or seen[-1] != source.rodin_texture.status:
            seen.append(source.rodin_texture.status)
    rodin.pump()
    rodin.finish_done_jobs()
    if seen[-1] != source.rodin_texture.status:
        seen.append(source.rodin_texture.status)
    assert seen[0] == "uploading" and seen[-1] == "done"
    assert "waiting" in seen and "generating" in seen
    assert source.rodin_texture.result_object is not None


def module_request(runtime, settings):
    """A request template like the operator builds, from the panel settings."""
    rodin_module = importlib.import_module(runtime.__name__.rsplit(".", 2)[0] + ".rodin")
    images = importlib.import_module(runtime.__name__.rsplit(".", 1)[0] + ".images")
    return rodin_module.TextureRequest(
        image_path=images.upload_path(settings.image), model_path=Path(), material="PBR"
    )


def test_worker_threads_never_call_into_bpy(rodin, emulator, reference):
    calls = []
    bpy_folder = str(Path(bpy.__file__).parent)

    def profile(frame, event, argument):
        if event == "call" and frame.f_code.co_filename.startswith(bpy_folder):
            calls.append(frame.f_code.co_name)
        elif event == "c_call":
            name = getattr(argument, "__qualname__", "") or ""
            if name.startswith("bpy") or (getattr(argument, "__module__", "") or "").startswith(
                "bpy"
            ):
                calls.append(name)  # e.g. bpy_prop_collection.get, bpy_struct.foreach_get

    rodin.shutdown()  # the next runtime's threads start under the profiler
    threading.setprofile(profile)
    try:
        rodin.get().manager.schedule = replace(
            rodin.get().manager.schedule, first_delay=0.05, max_interval=0.2
        )
        source = add_suzanne()
        bpy.ops.rodin_texture.generate()
    finally:
        threading.setprofile(None)
    assert source.rodin_texture.status == "done"
    assert calls == []


def test_a_saved_file_holds_no_trace_of_the_key(rodin, addon, emulator, reference, tmp_path):
    emulator.configure(api_key=SECRET_KEY)
    bpy.context.preferences.addons[addon.__name__].preferences.api_key = SECRET_KEY
    source = add_suzanne()
    bpy.ops.rodin_texture.generate()
    assert source.rodin_texture.status == "done"
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path), compress=False)
    data = path.read_bytes()
    assert source.rodin_texture.task_uuid.encode() in data, "the job is saved with the file"
    assert SECRET_KEY.encode() not in data


def test_disabling_the_add_on_stops_its_timers_and_threads(rodin, addon, emulator, reference):
    import addon_utils

    emulator.configure(generating_seconds=30)
    source = add_suzanne()
    template = module_request(rodin, bpy.context.scene.rodin_texture_settings)
    rodin.start_generation(bpy.context, [source], template, [1])
    assert any(t.name.startswith("rodin-worker") for t in threading.enumerate())

    addon_utils.disable(addon.__name__)
    try:
        assert not [t for t in threading.enumerate() if t.name.startswith("rodin-")]
        assert not bpy.app.timers.is_registered(rodin.pump)
        assert not hasattr(bpy.types.Object, "rodin_texture")
        assert not _operator_exists()
    finally:
        addon_utils.enable(addon.__name__, default_set=True)
    assert _operator_exists()


def _operator_exists():
    try:
        bpy.ops.rodin_texture.generate.get_rna_type()
    except KeyError:
        return False
    return True
