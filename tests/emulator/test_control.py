"""Driving the emulator: its Python API, its HTTP control routes, and the command line."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from rodin_emulator import Emulator, Fault

from .conftest import TIMEOUT, Api

REPO = Path(__file__).resolve().parents[2]


def test_reset_restores_the_constructor_settings_with_overrides(api, emulator):
    emulator.configure(api_key="other", balance=3.0, queue_length=9)
    emulator.inject("status", Fault.slow(1))
    emulator.fail_next_task()

    emulator.reset(balance=7.0)

    assert emulator.balance == 7.0 and emulator.settings.queue_length == 2
    assert emulator.settings.api_key == "test-key"
    assert emulator.requests == [] and emulator.tasks == {} and emulator.submit_count == 0
    task = api.submitted()
    assert not emulator.tasks[task["uuid"]].failed
    started = time.monotonic()
    api.status(task)
    assert time.monotonic() - started < 0.5, "the slow fault was cleared"
    emulator.reset()
    assert emulator.balance == 100.0


def test_configure_changes_settings_at_run_time(api, emulator):
    emulator.configure(api_key="new-key")
    assert api.submit().status_code == 401
    api.session.headers["Authorization"] = "Bearer new-key"
    assert api.submit().status_code == 201
    with pytest.raises(TypeError):
        emulator.configure(no_such_setting=1)


def test_the_request_log_is_a_snapshot(api, emulator):
    api.submitted(prompt="hello")
    log = emulator.requests
    (submit,) = log
    assert submit.server == "api" and submit.method == "POST"
    assert submit.path == "/api/v2/rodin_texture_only"
    assert submit.form == {"prompt": "hello"}
    assert submit.files["image"][0] == "reference.png" and submit.files["model"][1] > 0
    assert submit.json is None
    api.session.get(api.url("check_balance"), timeout=TIMEOUT)
    assert len(log) == 1 and len(emulator.requests) == 2


def control(emulator, route: str, **body) -> requests.Response:
    root = emulator.base_url.rsplit("/api/", 1)[0]
    if route in ("state", "requests"):
        return requests.get(f"{root}/_emulator/{route}", timeout=TIMEOUT)
    return requests.post(f"{root}/_emulator/{route}", json=body, timeout=TIMEOUT)


def test_the_http_control_routes_drive_the_emulator(api, emulator):
    assert control(emulator, "configure", waiting_seconds=0, generating_seconds=0).ok
    assert control(emulator, "fail_next_task").ok
    task = api.submitted()
    assert api.wait_until_finished(task)[0]["status"] == "Failed"
    inject = {"endpoint": "status", "kind": "rate_limit", "args": {"retry_after": 2}, "times": 2}
    assert control(emulator, "inject", **inject).ok
    assert [api.status(task).status_code for _ in range(3)] == [429, 429, 200]

    state = control(emulator, "state").json()
    assert state == {"submit_count": 1, "balance": 99.5, "task_uuids": [task["uuid"]]}
    log = control(emulator, "requests").json()
    assert [entry["path"] for entry in log][:2] == ["/api/v2/rodin_texture_only", "/api/v2/status"]
    assert log[0]["files"]["model"][0] == "model.glb"
    assert log[1]["json"] == {"subscription_key": task["jobs"]["subscription_key"]}

    assert control(emulator, "reset", balance=5).ok
    assert control(emulator, "state").json() == {
        "submit_count": 0,
        "balance": 5.0,
        "task_uuids": [],
    }
    assert emulator.requests == [], "control requests are not logged"


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("configure", {"colour": "red"}),
        ("reset", {"colour": "red"}),
        ("inject", {"endpoint": "status", "kind": "explode"}),
        ("inject", {"endpoint": "nowhere", "kind": "disconnect"}),
        ("inject", {"endpoint": "status", "kind": "truncate"}),
        ("inject", {"endpoint": "status", "kind": "slow", "args": {"minutes": 1}}),
    ],
)
def test_bad_control_requests_are_refused(emulator, route, body):
    answer = control(emulator, route, **body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "INVALID_REQUEST"


def test_the_command_line_serves_until_sigterm(tmp_path):
    command = [sys.executable, "scripts/emulator.py", "--api-key", "cli-key", "--waiting", "0"]
    command += ["--generating", "0", "--texture-size", "16"]
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ""}
    )
    try:
        lines = read_lines(process, 2)
        assert lines[0].startswith("Rodin emulator API: http://127.0.0.1:")
        assert lines[0].endswith("/api/v2") and lines[1].startswith("Rodin emulator files: http")
        base_url = lines[0].split(": ", 1)[1]
        emulator = SimpleNamespace(base_url=base_url)
        api = Api(emulator)
        api.session.headers["Authorization"] = "Bearer cli-key"
        assert api.session.get(api.url("check_balance"), timeout=TIMEOUT).json() == {
            "balance": 100.0
        }
        files = api.files(api.submitted())
        assert files["base_basic_pbr.glb"].content[:4] == b"glTF"
        assert control(emulator, "state").json()["submit_count"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        process.stdout.close()


def read_lines(process: subprocess.Popen, count: int) -> list[str]:
    """The first lines a process prints, waiting at most TIMEOUT seconds for them."""
    lines = []
    reader = threading.Thread(
        target=lambda: lines.extend(process.stdout.readline().strip() for _ in range(count)),
        daemon=True,
    )
    reader.start()
    reader.join(TIMEOUT)
    assert len(lines) == count, "the emulator did not print its addresses"
    return lines


def test_an_emulator_can_run_beside_the_session_one_and_stops_cleanly(emulator):
    with Emulator(api_key="k") as other:
        url = f"{other.base_url}/check_balance"
        assert other.base_url != emulator.base_url
        assert requests.get(url, timeout=TIMEOUT).status_code == 401
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=TIMEOUT)
    with pytest.raises(RuntimeError, match="not started"):
        _ = other.base_url
