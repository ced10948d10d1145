"""The add-on in real Blender against the emulator: operator to textured object, and back."""

import importlib
import io
import json
import os
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import bpy
import numpy as np
import PIL.Image
import pytest
from gltf_validator import assert_valid
from rodin_emulator import Fault

from . import scenes
from .test_panel import draw

pytestmark = pytest.mark.blender

SECRET_KEY = "sk-rodin-secret-0123456789"
# Seconds a test waits for what the emulator does in well under one before it fails.
DEADLINE = 30
LIVE_PARTS = ("session", "following", "results", "pump", "balance", "checks", "timers", "errors")


def module(addon, name):
    return importlib.import_module(f"{addon.__name__}.{name}")


@pytest.fixture
def rodin(addon, emulator, tmp_path):
    """The add-on's live parts (``rodin.session``, ``.following``, ``.results``, ``.pump``, and
    the rest of ``LIVE_PARTS``), pointed at the emulator with fast polling; reset afterwards."""
    runtime = SimpleNamespace(
        **{name: module(addon, f"blender.{name}") for name in LIVE_PARTS},
        request_type=module(addon, "rodin").TextureRequest,
    )
    jobs = module(addon, "jobs")
    prefs = bpy.context.preferences.addons[addon.__name__].preferences
    prefs.api_key = "test-key"
    prefs.base_url = emulator.base_url
    prefs.results_folder = str(tmp_path / "results")
    runtime.session.get().manager.schedule = jobs.PollSchedule(
        first_delay=0.05, max_interval=0.2, download_retry_delay=0.05, retry_delay=0.1
    )
    history = runtime.session.ledger().path  # each test starts with no task history
    history.unlink(missing_ok=True)
    yield runtime
    runtime.session.shutdown()
    history.unlink(missing_ok=True)


@pytest.fixture
def reference(reference_image):
    image = bpy.data.images.load(str(reference_image))
    bpy.context.scene.rodin_texture_settings.image = image
    return image


@pytest.fixture
def uploads(addon):
    """The extension's uploads folder, where each job stages what it sends."""
    return Path(bpy.utils.extension_path_user(addon.__name__, path="uploads", create=True))


def pump_until(runtime, done, what):
    """Pump as Blender's timer would until ``done()``; fails instead of hanging."""
    deadline = time.monotonic() + DEADLINE
    while not done():
        assert time.monotonic() < deadline, f"no {what} after {DEADLINE} s"
        runtime.pump.pump()
        time.sleep(0.01)


def add_suzanne(name="Suzanne", location=(1.0, 2.0, 0.5)):
    obj = scenes.make_suzanne(name, location, material=False)
    scenes.select_only(obj, active=obj)
    return obj


def object_state(obj):
    state = obj.rodin_texture
    return (state.job_id, state.status, state.task_uuid, state.message)


def object_states():
    """Each object's job, by name: what a refused action must leave as it was."""
    return {obj.name: object_state(obj) for obj in bpy.data.objects}


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
    rodin, emulator, reference, tmp_path, uploads
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
    assert list(uploads.iterdir()) == [], "the upload is removed once submitted"


def test_a_packed_or_generated_image_is_uploaded_as_a_png_copy_then_removed(
    rodin, emulator, uploads, reference
):
    image = bpy.data.images.new("Generated Grid", 16, 16)
    image.generated_type = "COLOR_GRID"
    bpy.context.scene.rodin_texture_settings.image = image
    source = add_suzanne()

    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}

    task = emulator.tasks[source.rodin_texture.task_uuid]
    assert task.image_bytes.startswith(b"\x89PNG\r\n\x1a\n")
    assert task.image_name == "Generated_Grid.png"
    assert uploaded_pixels(task) == blender_pixels(image)
    assert (image.source, image.filepath) == ("GENERATED", ""), "the image is left as it was"
    assert list(uploads.iterdir()) == []

    packed = reference  # a PNG file, packed into the .blend
    packed.pack()
    bpy.context.scene.rodin_texture_settings.image = packed
    assert bpy.ops.rodin_texture.generate() == {"FINISHED"}
    task = emulator.tasks[source.rodin_texture.task_uuid]
    assert task.image_name == f"{bpy.path.clean_name(packed.name)}.png"
    assert uploaded_pixels(task) == blender_pixels(packed)
    assert packed.packed_file is not None, "the image stays packed"
    assert list(uploads.iterdir()) == []


def uploaded_pixels(task) -> list[tuple]:
    """The uploaded image's RGBA bytes, bottom row first (Blender's order)."""
    with PIL.Image.open(io.BytesIO(task.image_bytes)) as picture:
        rows = np.asarray(picture.convert("RGBA"))[::-1]
        return [tuple(pixel) for pixel in rows.reshape(-1, 4).tolist()]


def blender_pixels(image) -> list[tuple]:
    values = np.round(np.array(image.pixels[:]).reshape(-1, 4) * 255).astype(int)
    return [tuple(row) for row in values]


def test_a_refused_submit_leaves_no_upload_behind(rodin, emulator, reference, uploads):
    add_suzanne()
    emulator.inject("rodin_texture_only", Fault.app_error("API_INSUFFICIENT_FUNDS", "none", 201))
    with pytest.raises(RuntimeError, match="API_INSUFFICIENT_FUNDS"):
        bpy.ops.rodin_texture.generate()
    assert list(uploads.iterdir()) == []


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
    rodin.following.start_generation(bpy.context, [source], template, [1])
    with pytest.raises(RuntimeError, match="already has a texture job running"):
        bpy.ops.rodin_texture.generate()
    pump_until(rodin, lambda: source.rodin_texture.task_uuid, "task id")
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
        escore=2.5,
        texture_delight=True,
    )
    sent = emulator.tasks[source.rodin_texture.task_uuid].settings
    assert sent["escore"] == "2.5"
    assert sent["texture_delight"] == "true"
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


def _image_that_is_a_pipe(obj):
    path = Path(tempfile.mkdtemp()) / "fifo.png"
    os.mkfifo(path)
    bpy.context.scene.rodin_texture_settings.image = None
    return {"image_path": str(path)}


def _image_too_large(obj):
    path = Path(tempfile.mkdtemp()) / "huge.png"
    PIL.Image.new("L", (12_000, 5_000)).save(path, compress_level=1)  # 60 megapixels
    bpy.context.scene.rodin_texture_settings.image = None
    return {"image_path": str(path)}


def _vertices_at_no_position(obj):
    positions = np.zeros(len(obj.data.vertices) * 3, dtype=np.float32)
    obj.data.vertices.foreach_get("co", positions)
    positions[[3, 3 * 7 + 1, 3 * 9 + 2]] = [np.nan, np.inf, -np.inf]  # vertices 1, 7 and 9
    obj.data.vertices.foreach_set("co", positions)
    obj.data.update()


def _huge_mesh(obj):
    grid = scenes.make_grid("Dense Grid", subdivisions=480)
    scenes.select_only(grid, active=grid)


def _huge_mesh_without_proxies(obj):
    _huge_mesh(obj)
    return {"use_proxy": False}


def _huge_mesh_replaced(obj):
    _huge_mesh(obj)
    return {"apply_mode": "REPLACE"}


def _no_proxy_can_keep_it(obj):
    """Beside a mesh that could be sent: all or nothing."""
    dust = scenes.make_scattered_triangles()
    scenes.select_only(obj, dust, active=dust)


USER_MISTAKES = {
    "no selection": (_no_selection, "Select a mesh"),
    "not a mesh": (_camera_active, "Camera is a camera, not a mesh"),
    "empty mesh": (_empty_mesh, "no faces"),
    "no image": (_no_image, "Pick a reference image"),
    "unreadable image": (_unreadable_image, "not a PNG, JPEG or WebP"),
    "image a pipe": (_image_that_is_a_pipe, "fifo.png is not a file \\(a folder, a pipe"),
    "image too large": (_image_too_large, "12000 x 5000 pixels \\(60 megapixels\\)"),
    "vertices at no position": (
        _vertices_at_no_position,
        r"Suzanne has \d+ vertices at no real position \(not a number or infinite: vertex 1, ",
    ),
    "mesh over 10 MB, proxies off": (_huge_mesh_without_proxies, "turn on Upload Proxies"),
    "proxy replacing the mesh": (_huge_mesh_replaced, "Replace Mesh would put the proxy"),
    "proxy detail out of range": (
        lambda obj: {"proxy_detail": 5},
        "proxy_detail: must be a whole number from 10 to 100, not 5",
    ),
    "no proxy can keep it": (_no_proxy_can_keep_it, "Dust is over Rodin's limit and cannot"),
}


@pytest.mark.parametrize("mistake", USER_MISTAKES)
def test_user_mistakes_give_a_message_send_nothing_and_change_nothing(
    mistake, rodin, addon, emulator, reference
):
    source = add_suzanne()
    make_mistake, words = USER_MISTAKES[mistake]
    parameters = make_mistake(source) or {}
    before = object_states()
    counts = (len(bpy.data.objects), len(bpy.data.meshes), len(bpy.data.materials))

    with pytest.raises(RuntimeError, match=words):
        bpy.ops.rodin_texture.generate(**parameters)

    assert emulator.requests == []
    assert object_states() == before
    assert (len(bpy.data.objects), len(bpy.data.meshes), len(bpy.data.materials)) == counts
    uploads = Path(bpy.utils.extension_path_user(addon.__name__, path="uploads", create=True))
    assert list(uploads.iterdir()) == [], "no staged upload is left behind"


def test_a_proxy_that_cannot_be_made_is_said_and_nothing_is_sent(
    rodin, addon, emulator, reference, monkeypatch
):
    _huge_mesh(None)

    def out_of_memory(*arguments):
        raise MemoryError("cannot allocate 3.2 GiB")

    monkeypatch.setattr(module(addon, "geometry.proxy"), "build", out_of_memory)
    said = "The upload proxy of Dense Grid could not be made: cannot allocate 3.2 GiB"
    with pytest.raises(RuntimeError, match=said):
        bpy.ops.rodin_texture.generate()
    assert emulator.requests == []
    assert not bpy.data.objects["Dense Grid"].rodin_texture.job_id
    uploads = Path(bpy.utils.extension_path_user(addon.__name__, path="uploads", create=True))
    assert list(uploads.iterdir()) == []


def test_without_a_key_the_button_says_why(rodin, addon, emulator, reference, monkeypatch):
    for name in ("RODIN_API_KEY", "HYPER3D_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    bpy.context.preferences.addons[addon.__name__].preferences.api_key = ""
    add_suzanne()
    assert not bpy.ops.rodin_texture.generate.poll()
    with pytest.raises(RuntimeError, match="No API key"):
        bpy.ops.rodin_texture.generate()
    assert emulator.requests == []


def test_a_key_pasted_with_a_curly_quote_is_refused_and_never_shown(
    rodin, addon, emulator, reference
):
    """Before, the request failed in the HTTP stack and its error, key included, was stored on
    the object (and so shown in the panel and saved in the .blend)."""
    bpy.context.preferences.addons[addon.__name__].preferences.api_key = "sk-SECRET\u2019"
    source = add_suzanne()
    before = object_state(source)
    said = "Character 10 of 10 in the API key is RIGHT SINGLE QUOTATION MARK"
    assert rodin.checks.why_cannot_generate(bpy.context).startswith(said)
    assert not bpy.ops.rodin_texture.generate.poll()
    with pytest.raises(RuntimeError) as raised:
        bpy.ops.rodin_texture.generate()
    assert said in str(raised.value) and "SECRET" not in str(raised.value)
    assert object_state(source) == before
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


def test_with_online_access_off_check_now_and_download_send_nothing(rodin, emulator, reference):
    source = add_suzanne()
    bpy.ops.rodin_texture.generate()
    assert source.rodin_texture.status == "done"
    requests_before = len(emulator.requests)
    bpy.context.preferences.system.use_online_access = False

    for operator in (bpy.ops.rodin_texture.check_now, bpy.ops.rodin_texture.download):
        with pytest.raises(RuntimeError, match="Online access is off"):
            operator()
    with pytest.raises(rodin.errors.UserError, match="Online access is off"):
        rodin.following.download_job(bpy.context, source)  # refused below the operators too

    assert len(emulator.requests) == requests_before
    assert source.rodin_texture.status == "done"


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
    assert bpy.ops.rodin_texture.check_now() == {"FINISHED"}  # headless: waits for the result

    assert source.rodin_texture.status == "done"
    assert source.rodin_texture.result_object is not None
    assert emulator.submit_count == 1


def test_download_again_fetches_the_result_through_fresh_links(rodin, emulator, reference):
    emulator.configure(link_lifetime=1.0)
    source = add_suzanne()
    bpy.ops.rodin_texture.generate()
    model = Path(source.rodin_texture.model_path)
    model.unlink()
    emulator.configure(link_lifetime=600.0)
    time.sleep(1.2)  # every link the first download was given has expired

    bpy.context.view_layer.objects.active = source
    assert bpy.ops.rodin_texture.download() == {"FINISHED"}

    assert source.rodin_texture.status == "done"
    assert model.is_file()
    assert emulator.submit_count == 1
    listings = [r for r in emulator.requests if r.server == "api" and r.path.endswith("/download")]
    assert len(listings) == 2


def test_the_pump_writes_worker_snapshots_onto_the_object(rodin, emulator, reference):
    """The UI path, with the tests standing in for Blender's timer."""
    # Each stage lasts several of the fastest polls' longest interval (0.2 s), so that no
    # poll can step over one however late the worker's thread wakes.
    emulator.configure(waiting_seconds=1.0, generating_seconds=1.0)
    source = add_suzanne()
    context = bpy.context
    settings = context.scene.rodin_texture_settings
    template = module_request(rodin, settings)
    (job_id,) = rodin.following.start_generation(context, [source], template, [7])
    seen = []
    while (
        rodin.session.get().manager.is_running(job_id)
        or not rodin.session.get().manager.updates.empty()
    ):
        rodin.pump.pump()
        if not seen or seen[-1] != source.rodin_texture.status:
            seen.append(source.rodin_texture.status)
    rodin.pump.pump()
    rodin.results.finish_done_jobs()
    if seen[-1] != source.rodin_texture.status:
        seen.append(source.rodin_texture.status)
    assert seen[0] == "uploading" and seen[-1] == "done"
    assert "waiting" in seen and "generating" in seen
    assert source.rodin_texture.result_object is not None


def module_request(runtime, settings):
    """A request template like the operator builds, from the panel's image file."""
    return runtime.request_type(
        image_path=Path(settings.image.filepath), model_path=Path(), material="PBR"
    )


def test_worker_threads_never_call_into_bpy(rodin, addon, emulator, reference):
    calls, files = [], set()
    bpy_folder = Path(bpy.__file__).parent.resolve()
    glue_folder = (Path(addon.__file__).parent / "blender").resolve()

    def profile(frame, event, argument):
        if event == "c_call":
            name = getattr(argument, "__qualname__", "") or ""
            if name.startswith("bpy") or (getattr(argument, "__module__", "") or "").startswith(
                "bpy"
            ):
                calls.append(name)  # e.g. bpy_prop_collection.get, bpy_struct.foreach_get

    def trace(frame, event, argument):
        files.add(frame.f_code.co_filename)  # each function a worker runs ("call" events)

    rodin.session.shutdown()  # the next runtime's threads start under the profiler and the tracer
    threading.setprofile(profile)
    threading.settrace(trace)
    try:
        rodin.session.get().manager.schedule = replace(
            rodin.session.get().manager.schedule, first_delay=0.05, max_interval=0.2
        )
        source = add_suzanne()
        bpy.ops.rodin_texture.generate()
    finally:
        threading.setprofile(None)
        threading.settrace(None)
    assert source.rodin_texture.status == "done"
    assert calls == []
    resolved = {Path(name).resolve() for name in files if not name.startswith("<")}
    assert any("jobs" in path.parts for path in resolved), "the tracer saw the workers' code"
    touching = sorted(
        str(path)
        for path in resolved
        if path.is_relative_to(glue_folder) or path.is_relative_to(bpy_folder)
    )
    assert touching == [], "code that may touch bpy ran on a worker thread"


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


PASSWORD = "hunter2-PASSWORD"


@pytest.mark.parametrize("where", ["{host}/wrong", "example.invalid"], ids=["answered", "refused"])
def test_a_password_in_the_service_url_is_never_shown_or_saved(
    rodin, addon, emulator, reference, tmp_path, capfd, where
):
    host = emulator.base_url.split("//")[1].split("/")[0]
    prefs = bpy.context.preferences.addons[addon.__name__].preferences
    prefs.base_url = f"http://user:{PASSWORD}@{where.format(host=host)}/api/v2"
    source = add_suzanne()

    said = []
    for operator in (bpy.ops.rodin_texture.generate, bpy.ops.rodin_texture.refresh_balance):
        try:
            operator()
        except RuntimeError as error:  # an error report
            said.append(str(error))
    said += [source.rodin_texture.message, source.rodin_texture.hint]
    said.append(rodin.balance.balance_text())
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path), compress=False)
    console = capfd.readouterr()

    everything = " ".join([*said, console.out, console.err])
    assert "looks wrong" in everything or "must be an https:// address" in everything
    assert f"http://{where.format(host=host)}" in everything, "the address is named, no login"
    assert PASSWORD not in everything and "user:" not in everything
    assert PASSWORD.encode() not in path.read_bytes()
    assert emulator.submit_count == 0


def test_disabling_the_add_on_stops_its_timers_and_threads(rodin, addon, emulator, reference):
    import addon_utils

    emulator.configure(generating_seconds=30)
    source = add_suzanne()
    template = module_request(rodin, bpy.context.scene.rodin_texture_settings)
    rodin.timers.TIMERS_FIRE = True  # the pump's timer registered as in Blender's interface
    try:
        rodin.following.start_generation(bpy.context, [source], template, [1])
    finally:
        rodin.timers.TIMERS_FIRE = False
    assert bpy.app.timers.is_registered(rodin.pump.pump)
    assert any(t.name.startswith("rodin-worker") for t in threading.enumerate())

    addon_utils.disable(addon.__name__)
    try:
        assert not [t for t in threading.enumerate() if t.name.startswith("rodin-")]
        assert not bpy.app.timers.is_registered(rodin.pump.pump)
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


# --- results that cannot be applied ---------------------------------------------------------


@pytest.fixture
def corrupt_results(emulator, monkeypatch):
    """The emulator sends a broken GLB for the tasks whose seed is in the returned set."""
    seeds = set()
    result_files = emulator._result_files

    def files(task):
        made = result_files(task)
        if task.settings.get("seed") not in seeds:
            return made
        return {
            name: b"glTF\x02\x00\x00\x00" + b"\x00" * 64 if name.endswith(".glb") else data
            for name, data in made.items()
        }

    monkeypatch.setattr(emulator, "_result_files", files)
    return seeds


def test_a_result_that_cannot_be_imported_fails_generate_with_the_reason(
    rodin, emulator, reference, corrupt_results
):
    corrupt_results.add("5")
    source = add_suzanne()

    with pytest.raises(RuntimeError) as refusal:
        bpy.ops.rodin_texture.generate(seed=5)

    assert "Traceback" not in str(refusal.value)
    assert "Could not apply the result" in str(refusal.value)
    state = source.rodin_texture
    assert state.status == "failed"
    assert "importing" in state.message and "Bad GLB" in state.message
    assert state.hint == "The downloaded file is broken: press Download Again"
    assert state.result_object is None
    with pytest.raises(RuntimeError) as again:  # Apply Result: a report, not a traceback
        bpy.ops.rodin_texture.apply()
    assert "Traceback" not in str(again.value) and "Bad GLB" in str(again.value)

    corrupt_results.discard("5")  # the next download is whole
    assert bpy.ops.rodin_texture.download() == {"FINISHED"}
    assert state.status == "done", state.message
    assert state.result_object is not None and state.result_object.name == "Suzanne_rodin"
    assert emulator.submit_count == 1


def test_download_again_applies_the_result_as_the_panel_now_says(rodin, addon, emulator, reference):
    source = add_suzanne()
    assert bpy.ops.rodin_texture.generate(apply_mode="REPLACE") == {"FINISHED"}
    state = source.rodin_texture
    assert state.result_object is None and source.data.name == "Suzanne_rodin"
    bpy.context.preferences.addons[addon.__name__].preferences.auto_import = False
    bpy.context.scene.rodin_texture_settings.apply_mode = "NEW_OBJECT"

    assert bpy.ops.rodin_texture.download() == {"FINISHED"}

    assert state.status == "done", state.message
    assert state.result_object is not None and state.result_object.name == "Suzanne_rodin"
    assert emulator.submit_count == 1


def test_one_result_that_cannot_be_applied_does_not_stop_the_others(
    rodin, emulator, reference, corrupt_results
):
    corrupt_results.add("1")
    broken, fine = add_suzanne("Broken"), add_suzanne("Fine", location=(4.0, 0.0, 0.0))
    template = module_request(rodin, bpy.context.scene.rodin_texture_settings)

    job_ids = rodin.following.start_generation(bpy.context, [broken, fine], template, [1, 2])
    rodin.pump.wait_for(job_ids)

    assert broken.rodin_texture.status == "failed"
    assert "Bad GLB" in broken.rodin_texture.message
    assert fine.rodin_texture.status == "done"
    assert fine.rodin_texture.result_object is not None


# --- reopening files -------------------------------------------------------------------------


def reopen(path):
    bpy.ops.wm.open_mainfile(filepath=str(path))
    return bpy.data.objects


def test_a_finished_jobs_preview_is_shown_after_reopening(rodin, addon, reference, tmp_path):
    source = add_suzanne()
    bpy.ops.rodin_texture.generate()
    preview = source.rodin_texture.preview_path
    assert rodin.results.preview_image(preview) is not None
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))

    reopened = reopen(path)["Suzanne"]

    assert reopened.rodin_texture.preview_path == preview
    assert rodin.results.preview_image(preview) is not None
    panel = module(addon, "blender.panel")
    scenes.select_only(reopened, active=reopened)
    shown = draw(panel.RODIN_TEXTURE_PT_job)
    assert "template_icon" in [name for name, _, _ in shown.shown]


def test_an_interrupted_upload_without_a_task_is_marked_failed_on_reopening(rodin, tmp_path):
    exporting, uploading = add_suzanne("Exporting"), add_suzanne("Uploading")
    for obj, status in ((exporting, "exporting"), (uploading, "uploading")):
        obj.rodin_texture.job_id, obj.rodin_texture.status = f"job-{status}", status
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))

    objects = reopen(path)

    for name in ("Exporting", "Uploading"):
        state = objects[name].rodin_texture
        assert state.status == "failed"
        assert "Interrupted before the service confirmed" in state.message
        assert state.hint
    assert not rodin.session.is_following("job-uploading")


def test_job_times_past_2038_and_those_of_older_files_survive_saving(rodin, addon, tmp_path):
    after_2038 = 2**31 + 3600.0  # an IntProperty holds at most 2**31 - 1
    jobs, panel = module(addon, "jobs"), module(addon, "blender.panel")
    later, older = add_suzanne("Later"), add_suzanne("Older")
    snapshot = jobs.JobSnapshot(
        job_id="job-later", phase=jobs.Phase.DONE, task_uuid="task-later", submitted_at=after_2038
    )
    later.rodin_texture.write(replace(snapshot, finished_at=after_2038 + 90))
    older.rodin_texture.job_id = "job-older"
    older.rodin_texture["submitted_at"] = 1_700_000_000  # where files from before kept them
    older.rodin_texture["finished_at"] = 1_700_000_300
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))

    objects = reopen(path)

    reopened = objects["Later"].rodin_texture.snapshot()
    assert (reopened.submitted_at, reopened.finished_at) == (after_2038, after_2038 + 90)
    reopened = objects["Older"].rodin_texture.snapshot()
    assert (reopened.submitted_at, reopened.finished_at) == (1_700_000_000, 1_700_000_300)
    scenes.select_only(objects["Older"], active=objects["Older"])
    assert "Elapsed: 300 s" in draw(panel.RODIN_TEXTURE_PT_job).texts()


def submitted_job(rodin, emulator, generating_seconds=30):
    """A Suzanne whose task is submitted and still generating (for ``generating_seconds``)."""
    emulator.configure(generating_seconds=generating_seconds)
    source = add_suzanne()
    template = module_request(rodin, bpy.context.scene.rodin_texture_settings)
    rodin.following.start_generation(bpy.context, [source], template, [1])
    pump_until(rodin, lambda: source.rodin_texture.task_uuid, "task id")
    return source


def _job_panel_texts(addon, obj):
    scenes.select_only(obj, active=obj)
    shown = draw(module(addon, "blender.panel").RODIN_TEXTURE_PT_job)
    return " | ".join(shown.texts()), shown.operators()


def test_a_job_opened_without_a_key_says_it_is_not_followed(
    rodin, addon, emulator, reference, tmp_path, monkeypatch
):
    source = submitted_job(rodin, emulator)
    texts, _ = _job_panel_texts(addon, source)
    assert "Not being followed" not in texts
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    rodin.session.shutdown()  # as if Blender had closed
    for name in ("RODIN_API_KEY", "HYPER3D_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    bpy.context.preferences.addons[addon.__name__].preferences.api_key = ""

    reopened = reopen(path)["Suzanne"]

    assert reopened.rodin_texture.status in ("waiting", "generating")
    texts, operators = _job_panel_texts(addon, reopened)
    assert "Not being followed: No API key" in texts
    assert "rodin_texture.resume" in operators


def test_a_job_cut_off_by_restarting_the_add_on_says_so_and_resumes(
    rodin, addon, emulator, reference
):
    import addon_utils

    source = submitted_job(rodin, emulator)
    addon_utils.disable(addon.__name__)
    addon_utils.enable(addon.__name__, default_set=True)
    rodin.session.get().manager.schedule = module(addon, "jobs").PollSchedule(
        first_delay=0.05, max_interval=0.2
    )

    texts, operators = _job_panel_texts(addon, source)
    assert "Not being followed: nothing follows it now" in texts
    assert "rodin_texture.resume" in operators

    emulator.finish_generating()
    assert bpy.ops.rodin_texture.resume() == {"FINISHED"}
    assert source.rodin_texture.status == "done"
    assert "Not being followed" not in _job_panel_texts(addon, source)[0]
    assert emulator.submit_count == 1


# --- the results folder, the balance, the Python function -----------------------------------


def test_results_go_beside_the_saved_file_else_into_the_extensions_folder(
    rodin, addon, reference, tmp_path
):
    bpy.context.preferences.addons[addon.__name__].preferences.results_folder = ""
    preferences = module(addon, "blender.preferences")
    user_results = Path(bpy.utils.extension_path_user(addon.__name__, path="results"))
    assert preferences.results_folder() == user_results
    path = tmp_path / "project" / "scene.blend"
    path.parent.mkdir()
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    source = add_suzanne()

    bpy.ops.rodin_texture.generate()

    model = Path(source.rodin_texture.model_path)
    assert model.is_relative_to(path.parent / "rodin_results")


def test_the_balance_is_drawn_when_it_arrives_with_no_job_running(rodin, emulator, monkeypatch):
    redraws = []
    monkeypatch.setattr(
        rodin.pump, "redraw_sidebars", lambda: redraws.append(rodin.balance.balance_text())
    )
    rodin.balance.refresh_balance(bpy.context).join()

    assert rodin.pump.pump() is None  # the answer is drawn: the pump may stop
    assert redraws == ["100 credits"]
    assert rodin.pump.pump() is None
    assert redraws == ["100 credits"], "drawn once"


def test_start_applies_results_only_when_asked(rodin, addon, emulator, reference_image):
    """Headless, results are applied by default; a script may ask for the download alone."""
    api = module(addon, "blender.api")
    source = add_suzanne()

    rodin.pump.wait_for(api.start(bpy.context, [source], reference_image, apply=False))

    assert source.rodin_texture.status == "done" and source.rodin_texture.model_path
    assert source.rodin_texture.result_object is None
    assert [obj.name for obj in bpy.data.objects] == ["Suzanne"]


def test_the_python_function_textures_objects_and_returns_the_results(
    rodin, addon, emulator, reference_image, uploads
):
    api = module(addon, "blender.api")
    meshes = [add_suzanne(f"Mesh{i}", location=(i * 3.0, 0, 0)) for i in range(2)]
    bpy.ops.object.select_all(action="DESELECT")  # it takes its objects, not the selection

    results = api.texture_objects(
        meshes, reference_image, prompt="rust", seed=9, escore=1.5, apply_mode="NEW_OBJECT"
    )

    assert [result.name for result in results] == ["Mesh0_rodin", "Mesh1_rodin"]
    for obj, result in zip(meshes, results, strict=True):
        assert obj.rodin_texture.status == "done"
        assert result.rodin_texture.source_object == obj
        sent = emulator.tasks[obj.rodin_texture.task_uuid].settings
        assert (sent["prompt"], sent["seed"], sent["escore"]) == ("rust", "9", "1.5")
    assert list(uploads.iterdir()) == []


def test_the_python_function_raises_naming_what_failed(
    rodin, addon, emulator, reference_image, tmp_path
):
    api = module(addon, "blender.api")
    source = add_suzanne()
    emulator.fail_next_task()
    with pytest.raises(api.TextureError, match="Suzanne: failed"):
        api.texture_objects([source], reference_image)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(api.TextureError, match="not a PNG, JPEG or WebP"):
        api.texture_objects([source], text)
    bpy.context.preferences.system.use_online_access = False
    with pytest.raises(api.TextureError, match="Online access is off"):
        api.texture_objects([source], reference_image)
    assert emulator.submit_count == 1
