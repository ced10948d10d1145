"""Status timelines, result lists, signed links on the file host, hostile names."""

import time
from urllib.parse import urlsplit

import pytest
import requests

from .conftest import TIMEOUT


def test_status_goes_waiting_with_a_queue_countdown_then_generating_then_done(api, emulator):
    emulator.configure(waiting_seconds=0.3, generating_seconds=0.2, queue_length=3)
    task = api.submitted()
    seen = []
    while not seen or seen[-1]["status"] != "Done":
        (job,) = api.status(task).json()["jobs"]
        seen.append(job)
        time.sleep(0.01)

    assert {job["uuid"] for job in seen} == set(task["jobs"]["uuids"])
    phases = [job["status"] for job in seen]
    assert phases == sorted(phases, key=["Waiting", "Generating", "Done"].index)
    assert {"Waiting", "Generating"} <= set(phases)
    queue = [job["queue_length"] for job in seen if job["status"] == "Waiting"]
    assert queue[0] == 3 and queue == sorted(queue, reverse=True) and queue[-1] <= 1
    assert all("queue_length" not in job for job in seen if job["status"] != "Waiting")


def test_finish_generating_ends_tasks_in_flight_and_leaves_later_ones_their_timeline(api, emulator):
    emulator.configure(waiting_seconds=30, generating_seconds=30)
    waiting = api.submitted()
    assert [job["status"] for job in api.status(waiting).json()["jobs"]] == ["Waiting"]

    emulator.finish_generating()
    later = api.submitted()

    assert [job["status"] for job in api.status(waiting).json()["jobs"]] == ["Done"]
    assert [job["status"] for job in api.status(later).json()["jobs"]] == ["Waiting"]
    assert api.download(waiting).json()["list"], "its result is there to download"


def test_a_task_marked_to_fail_ends_with_a_failed_job_and_the_next_one_is_done(
    api, emulator, instant
):
    emulator.configure(jobs_per_task=2)
    emulator.fail_next_task()
    failing, fine = api.submitted(), api.submitted()

    assert [job["status"] for job in api.wait_until_finished(failing)] == ["Done", "Failed"]
    assert [job["status"] for job in api.wait_until_finished(fine)] == ["Done", "Done"]
    assert emulator.tasks[failing["uuid"]].failed
    assert api.download(failing).json() == {"list": []}


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_status_and_download_take_json_or_form_bodies(api, instant, form):
    task = api.submitted()
    assert api.status(task, form=form).json()["jobs"][0]["status"] == "Done"
    names = [entry["name"] for entry in api.download(task, form=form).json()["list"]]
    assert names == ["base_basic_pbr.glb", "preview.webp"]


def test_swapped_or_unknown_ids_are_no_such_task(api, instant):
    task = api.submitted()
    for wrong in (task["jobs"]["uuids"][0], task["jobs"]["subscription_key"], "nonsense"):
        answer = api.post("download", task_uuid=wrong)
        assert answer.status_code == 404
        assert answer.json()["error"] == "NO_SUCH_TASK"
    for wrong in (task["uuid"], task["jobs"]["uuids"][0]):
        assert api.post("status", subscription_key=wrong).json()["error"] == "NO_SUCH_TASK"


@pytest.mark.parametrize("endpoint", ["status", "download"])
def test_a_missing_id_is_an_invalid_request(api, endpoint):
    for answer in (api.post(endpoint), api.post(endpoint, form=True, other="x")):
        assert answer.status_code == 400
        assert answer.json()["error"] == "INVALID_REQUEST"


def test_the_list_is_incomplete_until_done(api, emulator):
    emulator.configure(waiting_seconds=0.2, generating_seconds=0.2)
    task = api.submitted()
    assert api.download(task).json() == {"list": []}
    while api.status(task).json()["jobs"][0]["status"] == "Waiting":
        time.sleep(0.01)
    assert [entry["name"] for entry in api.download(task).json()["list"]] == ["preview.webp"]


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({}, ["base_basic_pbr.glb", "preview.webp"]),
        ({"material": "Shaded"}, ["base_basic_shaded.glb", "preview.webp"]),
        ({"resolution": "High"}, ["base_high_pbr.glb", "preview.webp"]),
        ({"geometry_file_format": "stl"}, ["base_basic_pbr.stl", "preview.webp"]),
        ({"geometry_file_format": "fbx"}, ["base_basic_pbr.glb", "preview.webp"]),
        (
            {"geometry_file_format": "usdz", "material": "Shaded"},
            ["base_basic_shaded.glb", "preview.webp"],
        ),
        (
            {"geometry_file_format": "obj"},
            [
                "base.obj",
                "material.mtl",
                "texture_diffuse.png",
                "texture_roughness.png",
                "texture_metallic.png",
                "texture_normal.png",
                "preview.webp",
            ],
        ),
        (
            {"geometry_file_format": "obj", "material": "Shaded"},
            ["base.obj", "material.mtl", "shaded.png", "preview.webp"],
        ),
    ],
)
def test_a_done_task_lists_its_files_by_the_contracts_names(api, instant, fields, names):
    task = api.submitted(**fields)
    assert [entry["name"] for entry in api.download(task).json()["list"]] == names


def test_files_come_from_another_port_without_the_key_and_with_a_length(api, emulator, instant):
    task = api.submitted()
    (model, preview) = api.download(task).json()["list"]
    api_port = urlsplit(emulator.base_url).port
    assert urlsplit(model["url"]).port == urlsplit(emulator.file_base_url).port != api_port
    assert model["url"].startswith(emulator.file_base_url + "/")

    answer = requests.get(model["url"], timeout=TIMEOUT)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "model/gltf-binary"
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    assert answer.content[:4] == b"glTF"
    assert requests.get(preview["url"], timeout=TIMEOUT).content[8:12] == b"WEBP"
    (fetch, _) = [r for r in emulator.requests if r.server == "files"]
    assert fetch.method == "GET" and fetch.path == urlsplit(model["url"]).path
    assert "User-Agent" in fetch.headers
    assert all(
        r.headers.get("Authorization") == "Bearer test-key"
        for r in emulator.requests
        if r.server == "api"
    )
    assert not [
        r for r in emulator.requests if r.server == "files" and "Authorization" in r.headers
    ]


def test_links_expire_and_a_new_download_call_gives_fresh_ones(api, emulator, instant):
    emulator.configure(link_lifetime=1.0)
    task = api.submitted()
    url = api.download(task).json()["list"][0]["url"]
    assert requests.get(url, timeout=TIMEOUT).status_code == 200
    time.sleep(1.1)

    expired = requests.get(url, timeout=TIMEOUT)
    fresh = api.download(task).json()["list"][0]["url"]

    assert expired.status_code == 403 and b"expired" in expired.content
    assert fresh != url
    assert requests.get(fresh, timeout=TIMEOUT).status_code == 200


def test_tampered_links_are_refused(api, instant):
    url = api.download(api.submitted()).json()["list"][0]["url"]
    later = url.replace("expires=", "expires=9")
    assert requests.get(later, timeout=TIMEOUT).status_code == 403
    assert requests.get(url[: url.index("?")], timeout=TIMEOUT).status_code == 403
    assert requests.get(url[:-1], timeout=TIMEOUT).status_code == 403


def test_malicious_names_list_every_file_under_hostile_paths(api, emulator, instant):
    emulator.set_malicious_names(True)
    task = api.submitted()
    listed = api.download(task).json()["list"]

    names = {entry["name"] for entry in listed}
    assert {"../../base_basic_pbr.glb", "/etc/base_basic_pbr.glb"} <= names
    assert {"..\\..\\base_basic_pbr.glb", "Pbr/base_basic_pbr.glb", "../../preview.webp"} <= names
    assert all(requests.get(e["url"], timeout=TIMEOUT).status_code == 200 for e in listed)
    emulator.set_malicious_names(False)
    assert api.download(task).json()["list"][0]["name"] == "base_basic_pbr.glb"
