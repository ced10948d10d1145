"""Submits: the key, the success answer, every strictness rule, funds and the parallelism cap."""

from datetime import datetime

import numpy as np
import pytest
import requests
from rodin_emulator import glb

from .conftest import CUBE, PNG, TIMEOUT, image_bytes

UNAUTHORIZED = {"error": "UNAUTHORIZED", "message": "Active API key is required."}
ROUTES = [
    ("post", "rodin_texture_only"),
    ("post", "status"),
    ("post", "download"),
    ("get", "check_balance"),
]


@pytest.mark.parametrize(("method", "endpoint"), ROUTES)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-key", "test-key", "Bearer  test-key"]
)
def test_every_api_route_needs_the_bearer_key(emulator, method, endpoint, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    answer = requests.request(
        method, f"{emulator.base_url}/{endpoint}", headers=headers, timeout=TIMEOUT
    )
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED


def test_a_submit_answers_201_with_the_contract_shape_and_spends_half_a_credit(api, emulator):
    answer = api.submit(prompt="rusty metal", seed="7", material="Shaded")

    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"error", "message", "uuid", "submit_time", "consumed", "jobs"}
    assert body["error"] is None and body["message"] == "Submitted." and body["consumed"] == 0.5
    assert body["submit_time"].endswith("Z")
    datetime.fromisoformat(body["submit_time"])
    jobs = body["jobs"]
    assert set(jobs) == {"uuids", "subscription_key"} and len(jobs["uuids"]) == 1
    key = jobs["subscription_key"]
    assert len(key.split(".")) == 3, "shaped like a JWT"
    assert len({body["uuid"], jobs["uuids"][0], key}) == 3

    assert api.session.get(api.url("check_balance"), timeout=TIMEOUT).json() == {"balance": 99.5}
    assert emulator.balance == 99.5 and emulator.submit_count == 1
    task = emulator.tasks[body["uuid"]]
    assert task.settings == {"prompt": "rusty metal", "seed": "7", "material": "Shaded"}
    assert task.model_bytes == CUBE and task.image_bytes == PNG
    assert task.job_uuids == tuple(jobs["uuids"]) and task.subscription_key == key
    assert task.model_name == "model.glb" and not task.failed


def test_every_valid_value_is_accepted(api, emulator):
    for fields in (
        {"seed": "0", "material": "PBR", "resolution": "High", "texture_delight": "true"},
        {"seed": "65535", "reference_scale": "2.5", "escore": "0", "texture_delight": "false"},
        *({"geometry_file_format": value} for value in ("glb", "usdz", "fbx", "obj", "stl")),
    ):
        api.submitted(**fields)
    for name, data in (("reference.jpg", image_bytes("JPEG")), ("ref.webp", image_bytes("WEBP"))):
        api.submitted(files={"image": (name, data), "model": ("model.glb", CUBE)})
    assert emulator.submit_count == 9


def test_a_simple_obj_model_is_accepted(api, emulator):
    obj = b"v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 1\nvt 0 0\nf 1/1 2/1 3/1 4/1\n"
    body = api.submitted(files={"image": ("reference.png", PNG), "model": ("model.obj", obj)})
    assert len(emulator.tasks[body["uuid"]].mesh.indices) == 2


def text_as_file(field: str):
    return {
        "image": ("reference.png", PNG),
        "model": ("model.glb", CUBE),
        field: ("value.txt", b"PBR"),
    }


def parts(image=PNG, model=CUBE):
    return {"image": ("reference.png", image), "model": ("model.glb", model)}


REJECTIONS = {
    "no image": ({"model": ("model.glb", CUBE)}, {}, "image is required"),
    "no model": ({"image": ("reference.png", PNG)}, {}, "model is required"),
    "two images": (
        [("image", ("a.png", PNG)), ("image", ("b.png", PNG)), ("model", ("m.glb", CUBE))],
        {},
        "image is required: exactly one",
    ),
    "image as text": ({"model": ("model.glb", CUBE)}, {"image": "x"}, "image must be a file"),
    "model as text": ({"image": ("r.png", PNG)}, {"model": "x"}, "model must be a file"),
    **{
        f"{field} as a file part": (text_as_file(field), {}, f"{field} must be a plain form field")
        for field in (
            "prompt",
            "seed",
            "reference_scale",
            "escore",
            "geometry_file_format",
            "material",
            "resolution",
            "texture_delight",
        )
    },
    "material lower case": (None, {"material": "pbr"}, "material must be one of PBR, Shaded"),
    "material unknown": (None, {"material": "Matte"}, "not 'Matte'"),
    "resolution": (None, {"resolution": "basic"}, "resolution must be one of Basic, High"),
    "format upper case": (None, {"geometry_file_format": "GLB"}, "geometry_file_format"),
    "format gltf": (None, {"geometry_file_format": "gltf"}, "glb, usdz, fbx, obj, stl"),
    "delight True": (None, {"texture_delight": "True"}, "texture_delight must be one of"),
    "delight 1": (None, {"texture_delight": "1"}, "texture_delight"),
    "seed negative": (None, {"seed": "-1"}, "seed must be a whole number from 0 to 65535"),
    "seed too big": (None, {"seed": "65536"}, "not '65536'"),
    "seed fraction": (None, {"seed": "1.5"}, "seed must be a whole number"),
    "seed boolean": (None, {"seed": "true"}, "seed must be a number"),
    "reference_scale text": (None, {"reference_scale": '"big"'}, "reference_scale must be a"),
    "escore null": (None, {"escore": "null"}, "escore must be a number"),
    "model over 10 MB": (
        parts(model=CUBE + b"\0" * (10 * 1024 * 1024 + 1 - len(CUBE))),
        {},
        "model is larger than 10 MB",
    ),
    "image not an image": (parts(image=b"plain text"), {}, "image is not a readable PNG"),
    "image a GIF": (parts(image=image_bytes("GIF")), {}, "not GIF"),
    "model garbage": (parts(model=b"\x00\x01garbage"), {}, "model is not a usable GLB or OBJ"),
    "model broken GLB": (parts(model=CUBE[:40]), {}, "model is not a usable GLB"),
    "model without triangles": (
        parts(model=glb.mesh_glb(glb.CUBE_POSITIONS, np.zeros((0, 3), int))),
        {},
        "no triangles",
    ),
    "model all flat": (
        parts(model=glb.mesh_glb(np.ones((3, 3)), [[0, 1, 2]])),
        {},
        "zero area",
    ),
}


@pytest.mark.parametrize("case", REJECTIONS)
def test_a_bad_submit_is_an_invalid_request_naming_the_field(api, emulator, case):
    files, fields, words = REJECTIONS[case]
    answer = api.submit(files=files, **fields)

    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "INVALID_REQUEST"
    assert words in body["message"]
    assert emulator.submit_count == 0 and emulator.balance == 100.0 and not emulator.tasks


def test_a_body_that_is_not_multipart_is_an_invalid_request(api):
    answer = api.post("rodin_texture_only", image="x", model="y")
    assert answer.status_code == 400
    assert "multipart/form-data" in answer.json()["message"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"seed": "abc"}, "Unexpected token 'a', \"abc\" is not valid JSON"),
        ({"reference_scale": ""}, "Unexpected end of JSON input"),
        ({"escore": "3.5x"}, "Unexpected non-whitespace character after JSON at position 3"),
        ({"seed": "NaN"}, "Unexpected token 'N', \"NaN\" is not valid JSON"),
    ],
)
def test_a_number_that_is_not_json_is_a_500_with_a_javascript_message(
    api, emulator, fields, message
):
    answer = api.submit(**fields)
    assert answer.status_code == 500
    assert answer.json() == {"error": "UNKNOWN", "message": message}
    assert emulator.submit_count == 0


def test_without_half_a_credit_a_submit_is_insufficient_fund(api, emulator):
    emulator.balance = 0.75
    api.submitted()

    answer = api.submit()

    assert answer.status_code == 201
    assert answer.json()["error"] == "INSUFFICIENT_FUND"
    assert "uuid" not in answer.json()
    assert emulator.balance == 0.25 and emulator.submit_count == 1


def test_the_parallelism_cap_counts_tasks_not_yet_finished(api, emulator):
    emulator.configure(max_parallel_tasks=2, waiting_seconds=0.1, generating_seconds=0.1)
    emulator.fail_next_task()
    first = api.submitted()
    api.submitted()

    answer = api.submit()

    assert answer.status_code == 201
    assert answer.json()["error"] == "API_PARALLELISM_LIMIT_REACHED"
    assert emulator.submit_count == 2 and emulator.balance == 99.0
    api.wait_until_finished(first)  # Failed: it no longer counts
    api.submitted()
