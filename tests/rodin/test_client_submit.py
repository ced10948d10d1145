"""Submitting a task: local validation (nothing sent), the contract's success rule, errors."""

import math
import os
import struct
import time
import zlib
from pathlib import Path

import pytest
from rodin_emulator import Emulator, Fault

from rodin_texture_addon.rodin import (
    ClientSettings,
    RetryPolicy,
    RodinClient,
    TextureRequest,
    errors,
)

pytestmark = pytest.mark.usefixtures("emulator")


def test_submit_returns_the_task_and_spends_half_a_credit(client, emulator, request_files):
    task = client.submit(TextureRequest(*request_files, prompt="old bronze", seed=7))

    assert task.task_uuid in emulator.tasks
    emulated = emulator.tasks[task.task_uuid]
    assert task.subscription_key == emulated.subscription_key
    assert task.job_uuids == tuple(emulated.job_uuids)
    assert task.consumed == 0.5
    assert emulator.submit_count == 1
    assert emulator.balance == pytest.approx(100 - 0.5)


def test_text_fields_go_as_plain_form_fields_and_files_as_file_parts(
    client, emulator, request_files
):
    client.submit(
        TextureRequest(
            *request_files,
            prompt="rust",
            seed=65535,
            reference_scale=1.5,
            escore=4,
            material="Shaded",
            resolution="High",
            texture_delight=True,
        )
    )
    (sent,) = [r for r in emulator.requests if r.path.endswith("/rodin_texture_only")]
    assert sent.form == {
        "prompt": "rust",
        "seed": "65535",
        "reference_scale": "1.5",
        "escore": "4",
        "geometry_file_format": "glb",
        "material": "Shaded",
        "resolution": "High",
        "texture_delight": "true",
    }
    assert set(sent.files) == {"image", "model"}
    assert sent.files["model"][1] == request_files[1].stat().st_size


def test_enum_values_are_matched_without_case_and_sent_as_the_service_spells_them(
    client, emulator, request_files
):
    client.submit(TextureRequest(*request_files, material="pbr", resolution="basic"))
    (sent,) = [r for r in emulator.requests if r.path.endswith("/rodin_texture_only")]
    assert (sent.form["material"], sent.form["resolution"]) == ("PBR", "Basic")


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (0.009999999776482582, "0.01"),  # 0.01 as Blender's 32-bit float property holds it
        (2.299999952316284, "2.3"),
        (0.01, "0.01"),
        (0.1 + 0.2, "0.30000000000000004"),  # a 64-bit value from Python goes as it is
        (3.0, "3"),
    ],
)
def test_numbers_are_sent_as_written(client, emulator, request_files, given, sent):
    client.submit(TextureRequest(*request_files, reference_scale=given, escore=given))
    (request,) = [r for r in emulator.requests if r.path.endswith("/rodin_texture_only")]
    assert (request.form["reference_scale"], request.form["escore"]) == (sent, sent)


def _file(tmp_path, name, content: bytes, size: int | None = None):
    path = tmp_path / name
    with path.open("wb") as file:
        file.write(content)
        if size is not None:
            file.truncate(size)
    return path


def _png_header(width: int, height: int) -> bytes:
    """A PNG's signature and header chunk (no pixels): what its size is read from."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def _folder(tmp: Path, name: str) -> Path:
    (tmp / name).mkdir()
    return tmp / name


def _fifo(tmp: Path, name: str) -> Path:
    os.mkfifo(tmp / name)
    return tmp / name


# case -> (changes to a good request, given a temporary folder; the field named; words shown)
BAD_INPUTS = {
    "missing image": (lambda tmp: {"image_path": tmp / "nope.png"}, "image", "not found"),
    "image by name only": (
        lambda tmp: {"image_path": _file(tmp, "photo.png", b"text, named like a picture")},
        "image",
        "PNG, JPEG or WebP",
    ),
    "empty image": (lambda tmp: {"image_path": _file(tmp, "e.png", b"")}, "image", "empty"),
    "image of 200 megapixels": (
        lambda tmp: {"image_path": _file(tmp, "huge.png", _png_header(20_000, 10_000))},
        "image",
        "20000 x 10000 pixels (200 megapixels); the service documents no limit",
    ),
    "image a folder": (
        lambda tmp: {"image_path": _folder(tmp, "folder.png")},
        "image",
        "folder.png is not a file",
    ),
    "image a pipe": (
        lambda tmp: {"image_path": _fifo(tmp, "fifo.png")},
        "image",
        "fifo.png is not a file (a folder, a pipe or a device)",
    ),
    "missing model": (lambda tmp: {"model_path": tmp / "nope.glb"}, "model", "not found"),
    "model over 10 MB": (
        lambda tmp: {"model_path": _file(tmp, "huge.glb", b"glTF", 10 * 1024 * 1024 + 1)},
        "model",
        "at most 10 MB",
    ),
    "not a GLB": (
        lambda tmp: {"model_path": _file(tmp, "fake.glb", b"not a glb at all")},
        "model",
        "not a binary glTF",
    ),
    "seed below range": (lambda tmp: {"seed": -1}, "seed", "0 to 65535"),
    "seed above range": (lambda tmp: {"seed": 65536}, "seed", "0 to 65535"),
    "seed as text": (lambda tmp: {"seed": "12"}, "seed", "0 to 65535"),
    "seed as bool": (lambda tmp: {"seed": True}, "seed", "0 to 65535"),
    "material": (lambda tmp: {"material": "Glossy"}, "material", "PBR, Shaded"),
    "resolution": (lambda tmp: {"resolution": "Ultra"}, "resolution", "Basic, High"),
    "format": (
        lambda tmp: {"geometry_file_format": "blend"},
        "geometry_file_format",
        "glb, usdz, fbx, obj, stl",
    ),
    "scale zero": (lambda tmp: {"reference_scale": 0}, "reference_scale", "greater than 0"),
    "scale nan": (lambda tmp: {"reference_scale": math.nan}, "reference_scale", "a number"),
    "escore text": (lambda tmp: {"escore": "high"}, "escore", "a number"),
    "escore negative": (lambda tmp: {"escore": -5}, "escore", "must be 0 or more, not -5"),
    "delight text": (lambda tmp: {"texture_delight": "yes"}, "texture_delight", "true or false"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_refused_before_anything_is_sent(
    case, client, emulator, request_files, tmp_path
):
    make_changes, field, words = BAD_INPUTS[case]
    request = TextureRequest(*request_files)
    for name, value in make_changes(tmp_path).items():
        setattr(request, name, value)

    with pytest.raises(errors.InvalidInput) as raised:
        client.submit(request)

    assert raised.value.field == field
    assert words in str(raised.value)
    assert emulator.requests == []
    assert emulator.balance == 100


def test_an_error_in_a_201_answer_is_a_failure(client, emulator, request_files):
    emulator.inject("rodin_texture_only", Fault.app_error("INVALID_REQUEST", "bad things", 201))
    with pytest.raises(errors.InvalidRequest, match="bad things") as raised:
        client.submit(TextureRequest(*request_files))
    assert raised.value.http_status == 201
    assert raised.value.code == "INVALID_REQUEST"


@pytest.mark.parametrize(
    "body",
    [
        {"error": None, "message": "Submitted.", "jobs": {"uuids": ["j"], "subscription_key": "k"}},
        {"error": "OK", "uuid": "task", "jobs": {"uuids": ["j"]}},
        {"error": "", "uuid": "task"},
    ],
    ids=["no uuid", "no subscription key", "no jobs"],
)
def test_a_2xx_success_without_task_id_or_subscription_key_is_a_service_error(
    body, client, emulator, request_files
):
    emulator.inject("rodin_texture_only", Fault.answer(body, 201))
    with pytest.raises(errors.ServiceError, match="no task id or subscription key"):
        client.submit(TextureRequest(*request_files))


@pytest.mark.parametrize(
    ("code", "error_type"),
    sorted(errors.ERROR_TYPES_BY_CODE.items()),
)
def test_each_service_code_gives_its_typed_error(code, error_type, client, emulator, request_files):
    emulator.inject("rodin_texture_only", Fault.app_error(code, f"message for {code}", 200))
    with pytest.raises(error_type, match=f"message for {code}") as raised:
        client.submit(TextureRequest(*request_files))
    assert raised.value.code == code
    assert raised.value.hint


def test_an_unknown_code_keeps_the_service_code_and_message(client, emulator, request_files):
    emulator.inject("rodin_texture_only", Fault.app_error("BRAND_NEW_CODE", "something new", 201))
    with pytest.raises(errors.ServiceError) as raised:
        client.submit(TextureRequest(*request_files))
    assert str(raised.value) == "BRAND_NEW_CODE: something new"


def test_parallelism_limit_is_typed_and_retryable(client, emulator, request_files):
    emulator.configure(max_parallel_tasks=1)
    client.submit(TextureRequest(*request_files))
    with pytest.raises(errors.ParallelismLimit) as raised:
        client.submit(TextureRequest(*request_files))
    assert raised.value.retryable
    assert emulator.submit_count == 1


def test_running_out_of_credits_is_typed(client, emulator, request_files):
    emulator.balance = 0.0
    with pytest.raises(errors.InsufficientFunds):
        client.submit(TextureRequest(*request_files))


def test_a_submit_is_not_retried_after_a_server_error(client, emulator, request_files):
    emulator.inject("rodin_texture_only", Fault.server_error(500, "SyntaxError: Unexpected token"))
    with pytest.raises(errors.ServiceError, match="HTTP 500"):
        client.submit(TextureRequest(*request_files))
    submits = [r for r in emulator.requests if r.path.endswith("/rodin_texture_only")]
    assert len(submits) == 1


def test_a_submit_is_not_retried_when_the_connection_drops_after_sending(
    client, emulator, request_files
):
    emulator.inject("rodin_texture_only", Fault.disconnect())
    with pytest.raises(errors.NetworkError):
        client.submit(TextureRequest(*request_files))
    submits = [r for r in emulator.requests if r.path.endswith("/rodin_texture_only")]
    assert len(submits) == 1


def test_a_submit_that_timed_out_waiting_for_the_answer_is_not_sent_again(
    client_for, emulator, request_files
):
    """The service got it and spends the credit after the client gave up: one task only."""
    client = client_for(upload_read_timeout=0.3)
    emulator.inject("rodin_texture_only", Fault.slow(1.0))
    with pytest.raises(errors.RequestTimeout):
        client.submit(TextureRequest(*request_files))
    deadline = time.monotonic() + 10
    while emulator.submit_count == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    submits = [r for r in emulator.requests if r.path.endswith("/rodin_texture_only")]
    assert len(submits) == 1
    assert emulator.submit_count == 1 and emulator.balance == pytest.approx(99.5)


def test_a_submit_whose_connection_was_refused_is_sent_again(unused_port, request_files):
    """Nothing listens on the port for the first try; the emulator does from the second."""
    attempts, emulators = [], []

    def gate(_closed):
        attempts.append(None)
        if len(attempts) == 2:
            emulators.append(Emulator(port=unused_port, api_key="test-key").start())

    client = RodinClient(
        ClientSettings(
            api_key="test-key",
            base_url=f"http://127.0.0.1:{unused_port}/api/v2",
            retry=RetryPolicy(attempts=3, base_delay=0.01),
        ),
        request_gate=gate,
    )
    try:
        task = client.submit(TextureRequest(*request_files))
        assert len(attempts) == 2
        (emulator,) = emulators
        assert emulator.submit_count == 1 and task.task_uuid in emulator.tasks
    finally:
        client.close()
        for emulator in emulators:
            emulator.stop()


def test_a_rate_limited_submit_waits_and_is_sent_once_more(client, emulator, request_files):
    emulator.inject("rodin_texture_only", Fault.rate_limit(retry_after=1))
    task = client.submit(TextureRequest(*request_files))
    submits = [r for r in emulator.requests if r.path.endswith("/rodin_texture_only")]
    assert len(submits) == 2
    assert emulator.submit_count == 1
    assert task.task_uuid in emulator.tasks


def test_upload_progress_reaches_the_whole_body(client, request_files):
    seen = []
    client.submit(
        TextureRequest(*request_files), progress=lambda done, total: seen.append((done, total))
    )
    assert seen, "no progress reported"
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1][0] == seen[-1][1]
