"""Status, result lists, downloads, balance, retries and the connection rules of the client."""

import logging
import threading
import time

import certifi
import pytest
import requests
from rodin_emulator import Fault

from rodin_texture_addon.rodin import (
    ClientSettings,
    ResultFile,
    RetryPolicy,
    RodinClient,
    TextureRequest,
    choose_model_file,
    choose_preview,
    errors,
)
from rodin_texture_addon.rodin.client import _never_sent

pytestmark = pytest.mark.usefixtures("emulator")


def wait_until_done(client, task, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = client.status(task.subscription_key)
        if report.done or report.failure:
            return report
        time.sleep(0.05)
    raise AssertionError("the emulated task never finished")


@pytest.fixture
def task(client, request_files):
    return client.submit(TextureRequest(*request_files))


@pytest.fixture
def done_task(client, task):
    assert wait_until_done(client, task).done
    return task


def test_status_goes_waiting_with_queue_then_generating_then_done(client, emulator, task):
    emulator_task = emulator.tasks[task.task_uuid]
    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        report = client.status(task.subscription_key)
        seen.append((report.phase.value, report.queue_length))
        if report.done:
            break
        time.sleep(0.02)
    phases = [phase for phase, _ in seen]
    assert phases[0] == "Waiting" and seen[0][1] is not None
    assert "Generating" in phases
    assert phases[-1] == "Done"
    assert [job.uuid for job in report.jobs] == list(emulator_task.job_uuids)


def test_status_sends_the_subscription_key_exactly_as_received(client, emulator, task):
    client.status(task.subscription_key)
    (sent,) = [r for r in emulator.requests if r.path.endswith("/status")]
    assert sent.json == {"subscription_key": task.subscription_key}


def test_a_failed_job_fails_the_task(client, emulator, request_files):
    emulator.fail_next_task()
    task = client.submit(TextureRequest(*request_files))
    report = wait_until_done(client, task)
    assert not report.done
    assert "Failed" in report.failure


def test_status_is_retried_after_server_errors_drops_and_rate_limits(client, emulator, task):
    emulator.inject("status", Fault.server_error(503, "busy"))
    emulator.inject("status", Fault.disconnect())
    emulator.inject("status", Fault.rate_limit(retry_after=0))
    report = client.status(task.subscription_key)
    assert report.jobs
    assert len([r for r in emulator.requests if r.path.endswith("/status")]) == 4


def test_retries_give_up_with_the_last_error(emulator, task, client_for):
    client = client_for(retry=RetryPolicy(attempts=2, base_delay=0.01))
    emulator.inject("status", Fault.server_error(502, "bad gateway"), times=2)
    with pytest.raises(errors.ServiceError, match="HTTP 502"):
        client.status(task.subscription_key)


def test_rate_limit_reports_the_wait_asked_for(emulator, task, client_for):
    client = client_for(retry=RetryPolicy(attempts=1))
    emulator.inject("status", Fault.rate_limit(retry_after=7))
    with pytest.raises(errors.RateLimited) as raised:
        client.status(task.subscription_key)
    assert raised.value.retry_after == 7


def test_a_slow_answer_times_out(emulator, task, client_for):
    client = client_for(read_timeout=0.2, retry=RetryPolicy(attempts=2, base_delay=0.01))
    emulator.inject("status", Fault.slow(1.0), times=2)
    with pytest.raises(errors.RequestTimeout):
        client.status(task.subscription_key)


def test_a_refused_connection_counts_as_never_sent():
    with pytest.raises(requests.ConnectionError) as raised:
        requests.get("http://127.0.0.1:9/", timeout=2)
    assert _never_sent(raised.value)


def test_an_unreachable_service_is_a_network_error_for_every_call(unused_port, request_files):
    client = RodinClient(
        ClientSettings(
            api_key="test-key",
            base_url=f"http://127.0.0.1:{unused_port}/api/v2",
            retry=RetryPolicy(attempts=2, base_delay=0.01),
        )
    )
    with pytest.raises(errors.NetworkError):
        client.submit(TextureRequest(*request_files))
    with pytest.raises(errors.NetworkError):
        client.balance()


def test_a_bad_key_is_an_authentication_error(emulator, client_for):
    client = client_for(api_key="wrong-key")
    with pytest.raises(errors.AuthenticationError) as raised:
        client.balance()
    assert raised.value.http_status == 401


def test_balance_is_a_number(client, emulator):
    emulator.balance = 12.5
    assert client.balance() == 12.5


def test_download_lists_the_model_and_preview_after_done(client, done_task):
    files = client.list_results(done_task.task_uuid)
    assert choose_model_file(files, "glb").file_name == "base_basic_pbr.glb"
    assert choose_preview(files).file_name == "preview.webp"


def test_download_with_a_job_uuid_is_no_such_task(client, done_task):
    with pytest.raises(errors.TaskNotFound):
        client.list_results(done_task.job_uuids[0])


def test_download_streams_to_disk_without_the_key_reaching_the_file_host(
    client, emulator, done_task, tmp_path
):
    files = client.list_results(done_task.task_uuid)
    model = choose_model_file(files, "glb")
    progress = []
    path = client.download(
        model, tmp_path, progress=lambda done, total: progress.append((done, total))
    )

    assert path == tmp_path / "base_basic_pbr.glb"
    assert path.read_bytes()[:4] == b"glTF"
    assert progress[-1] == (path.stat().st_size, path.stat().st_size)
    file_requests = [r for r in emulator.requests if r.server == "files"]
    api_requests = [r for r in emulator.requests if r.server == "api"]
    assert file_requests
    assert all("authorization" not in {h.lower() for h in r.headers} for r in file_requests)
    assert all(r.headers.get("Authorization") == "Bearer test-key" for r in api_requests)
    assert emulator.file_base_url.split(":")[-1] != emulator.base_url.split(":")[-1].split("/")[0]


def test_an_expired_link_is_a_download_error_and_fresh_links_work(
    client, emulator, done_task, tmp_path
):
    emulator.configure(link_lifetime=0.2)
    model = choose_model_file(client.list_results(done_task.task_uuid), "glb")
    time.sleep(0.4)
    with pytest.raises(errors.DownloadError, match="expired"):
        client.download(model, tmp_path)
    fresh = choose_model_file(client.list_results(done_task.task_uuid), "glb")
    assert client.download(fresh, tmp_path).is_file()


def test_a_truncated_body_leaves_no_file(client, emulator, done_task, tmp_path):
    model = choose_model_file(client.list_results(done_task.task_uuid), "glb")
    emulator.inject("files", Fault.truncate(0.5))
    with pytest.raises(errors.DownloadError, match="cut short"):
        client.download(model, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_file_over_the_size_limit_is_refused(client, done_task, tmp_path):
    model = choose_model_file(client.list_results(done_task.task_uuid), "glb")
    with pytest.raises(errors.DownloadError, match="limit"):
        client.download(model, tmp_path, max_bytes=1000)
    assert list(tmp_path.iterdir()) == []


def test_a_cancelled_download_leaves_no_file(client, done_task, tmp_path):
    model = choose_model_file(client.list_results(done_task.task_uuid), "glb")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(errors.Cancelled):
        client.download(model, tmp_path, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_malicious_names_stay_inside_the_target_folder(client, emulator, done_task, tmp_path):
    emulator.set_malicious_names(True)
    folder = tmp_path / "results"
    for result in client.list_results(done_task.task_uuid):
        path = client.download(result, folder)
        assert path.parent == folder
        assert ".." not in path.name and "/" not in path.name and "\\" not in path.name
    assert {p.parent for p in tmp_path.rglob("*") if p.is_file()} == {folder}


def test_an_empty_list_right_after_done_is_passed_on(client, emulator, done_task):
    emulator.inject("download", Fault.empty_list())
    assert client.list_results(done_task.task_uuid) == []
    assert client.list_results(done_task.task_uuid)


@pytest.mark.parametrize(
    "url",
    ["http://api.hyper3d.com/api/v2", "ftp://example.com/api", "not a url", ""],
)
def test_plain_http_is_refused_except_for_loopback(url):
    with pytest.raises(errors.InvalidInput, match="https"):
        RodinClient(ClientSettings(api_key="k", base_url=url))


def test_loopback_and_https_addresses_are_accepted():
    for url in (
        "http://127.0.0.1:8000/api/v2",
        "http://localhost/api",
        "https://api.hyper3d.com/api/v2",
    ):
        RodinClient(ClientSettings(api_key="k", base_url=url)).close()


def test_a_file_link_over_plain_http_to_another_host_is_refused(client, tmp_path):
    with pytest.raises(errors.InvalidInput, match="https"):
        client.download(ResultFile("http://files.example.com/x.glb", "x.glb"), tmp_path)


def test_a_missing_key_is_refused_before_any_request():
    with pytest.raises(errors.InvalidInput, match="API key"):
        RodinClient(ClientSettings(api_key="  "))


def test_the_key_never_shows_in_reprs_errors_or_logs(emulator, client_for, caplog, request_files):
    secret = "sk-very-secret-key-123"
    client = client_for(api_key=secret, retry=RetryPolicy(attempts=1))
    caplog.set_level(logging.DEBUG)
    texts = [repr(client), repr(client.settings)]
    for call in (client.balance, lambda: client.submit(TextureRequest(*request_files))):
        with pytest.raises(errors.RodinError) as raised:
            call()
        texts += [str(raised.value), repr(raised.value), raised.value.hint]
    texts += [record.getMessage() for record in caplog.records]
    assert caplog.records, "expected the HTTP stack to log at DEBUG"
    assert not [text for text in texts if secret in text]


def test_a_configured_proxy_is_used(emulator, client_for, unused_port):
    client = client_for(proxy_url=f"http://127.0.0.1:{unused_port}", retry=RetryPolicy(attempts=1))
    with pytest.raises(errors.NetworkError):
        client.balance()
    assert emulator.requests == []


def test_the_environment_proxy_settings_are_honoured(emulator, client, unused_port, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{unused_port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(errors.NetworkError):
        client.balance()
    assert emulator.requests == []


def test_a_custom_ca_bundle_is_trusted_for_tls(tls_emulator, company_ca, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # must not override the setting
    client = RodinClient(
        ClientSettings(api_key="test-key", base_url=tls_emulator.base_url, ca_bundle=company_ca)
    )
    assert tls_emulator.base_url.startswith("https://")
    assert client.balance() == 100


def test_an_unknown_certificate_authority_is_refused_with_what_to_do(tls_emulator):
    client = RodinClient(
        ClientSettings(api_key="test-key", base_url=tls_emulator.base_url, retry=RetryPolicy(1))
    )
    with pytest.raises(errors.NetworkError, match="CA bundle"):
        client.balance()
    assert tls_emulator.requests == []


@pytest.mark.parametrize("value", ["OK", ""])
def test_ok_and_empty_error_values_are_not_failures(value, client, emulator, task):
    """The answer gets past the error check and fails later, for its missing job list."""
    emulator.inject("status", Fault.app_error(value, "all good", 200))
    with pytest.raises(errors.ServiceError, match="no job list"):
        client.status(task.subscription_key)
