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
from rodin_texture_addon.rodin.client import ERROR_BODY_CHARS, MAX_REDIRECTS, _never_sent

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


@pytest.fixture
def model(client, done_task):
    """The model's listed file, a fresh link."""
    return choose_model_file(client.list_results(done_task.task_uuid), "glb")


@pytest.fixture
def netrc_login(tmp_path, monkeypatch):
    """A .netrc login for 127.0.0.1, which requests would add to any request it may."""
    path = tmp_path / "netrc"
    path.write_text("machine 127.0.0.1 login netrc-user password netrc-secret\n")
    monkeypatch.setenv("NETRC", str(path))


def request_times(emulator, endpoint):
    return [r.time for r in emulator.requests if r.path.endswith(f"/{endpoint}")]


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


def test_a_rate_limited_call_waits_at_least_retry_after(client, emulator, task):
    emulator.inject("status", Fault.rate_limit(retry_after=1))
    assert client.status(task.subscription_key).jobs
    first, second = request_times(emulator, "status")
    assert second - first >= 1


def test_a_malformed_retry_after_falls_back_to_the_default_wait(emulator, task, client_for):
    client = client_for(retry=RetryPolicy(attempts=2, base_delay=0.01, default_retry_after=0.5))
    emulator.inject("status", Fault.rate_limit(retry_after="soon"))
    assert client.status(task.subscription_key).jobs
    first, second = request_times(emulator, "status")
    assert second - first >= 0.5


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
    """Every try goes through the request gate: it counts the connection attempts."""
    attempts = []
    client = RodinClient(
        ClientSettings(
            api_key="test-key",
            base_url=f"http://127.0.0.1:{unused_port}/api/v2",
            retry=RetryPolicy(attempts=3, base_delay=0.01),
        ),
        request_gate=attempts.append,
    )
    with pytest.raises(errors.NetworkError):
        client.submit(TextureRequest(*request_files))
    assert len(attempts) == 3, "a connection never made is safe to retry, even for a submit"
    attempts.clear()
    with pytest.raises(errors.NetworkError):
        client.balance()
    assert len(attempts) == 3


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


def test_a_redirected_link_is_followed_without_any_credentials(
    client, emulator, model, tmp_path, netrc_login
):
    emulator.inject("files", Fault.redirect())
    path = client.download(model, tmp_path)
    assert path.read_bytes()[:4] == b"glTF"
    file_requests = [r for r in emulator.requests if r.server == "files"]
    assert len(file_requests) == 2, "the link, then where it redirected"
    assert all("authorization" not in {h.lower() for h in r.headers} for r in file_requests)


def test_a_netrc_login_does_not_replace_the_key(client, emulator, netrc_login):
    assert client.balance() == 100
    (sent,) = emulator.requests
    assert sent.headers["Authorization"] == "Bearer test-key"


def test_a_redirect_to_plain_http_elsewhere_is_refused_before_connecting(
    emulator, client_for, model, forwarding_proxy, tmp_path
):
    """Through a proxy, which records every address the client asks for."""
    proxied = client_for(proxy_url=forwarding_proxy.url)
    emulator.inject("files", Fault.redirect("http://files.example.invalid/x"))
    with pytest.raises(errors.InvalidInput, match=r"redirect: 'http://files\.example\.invalid/x'"):
        proxied.download(model, tmp_path)
    assert forwarding_proxy.seen == [model.url]
    assert list(tmp_path.iterdir()) == []


def test_redirects_of_a_link_are_followed_a_bounded_number_of_times(
    client, emulator, model, tmp_path
):
    emulator.inject("files", Fault.redirect(), times=MAX_REDIRECTS + 1)
    with pytest.raises(errors.DownloadError, match="redirected more than"):
        client.download(model, tmp_path)
    assert len([r for r in emulator.requests if r.server == "files"]) == MAX_REDIRECTS + 1


def test_an_api_redirect_is_refused_so_the_key_stays_with_the_service(client, emulator):
    emulator.inject("check_balance", Fault.redirect(f"{emulator.file_base_url}/files/elsewhere"))
    with pytest.raises(errors.RedirectRefused, match="redirected to 'http"):
        client.balance()
    assert [r.server for r in emulator.requests] == ["api"]


def test_a_gzip_encoded_file_is_written_decoded(client, emulator, done_task, tmp_path):
    plain = client.download(
        choose_model_file(client.list_results(done_task.task_uuid), "glb"), tmp_path / "plain"
    )
    emulator.inject("files", Fault.gzip())
    model = choose_model_file(client.list_results(done_task.task_uuid), "glb")
    assert client.download(model, tmp_path / "gzip").read_bytes() == plain.read_bytes()


def test_the_size_limit_counts_the_decoded_bytes_of_a_gzip_file(client, emulator, model, tmp_path):
    size = len(client.download(model, tmp_path / "plain").read_bytes())
    emulator.inject("files", Fault.gzip())
    with pytest.raises(errors.DownloadError, match="limit"):
        client.download(model, tmp_path / "gzip", max_bytes=size - 1)
    assert not (tmp_path / "gzip").exists() or list((tmp_path / "gzip").iterdir()) == []


def test_a_file_without_a_length_is_written_and_held_to_the_limit(
    client, emulator, model, tmp_path
):
    emulator.inject("files", Fault.chunked(), times=2)
    progress = []
    path = client.download(model, tmp_path / "whole", progress=lambda *seen: progress.append(seen))
    size = path.stat().st_size
    assert progress[-1] == (size, None)
    with pytest.raises(errors.DownloadError, match="limit"):
        client.download(model, tmp_path / "limited", max_bytes=size - 1)
    assert list((tmp_path / "limited").iterdir()) == []


def test_a_cancel_during_a_retry_wait_stops_the_download_at_once(client, emulator, model, tmp_path):
    emulator.inject("files", Fault.rate_limit(retry_after=30))
    cancel = threading.Event()

    def cancel_once_refused():
        while not [r for r in emulator.requests if r.server == "files"]:
            time.sleep(0.01)
        cancel.set()

    threading.Thread(target=cancel_once_refused, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(errors.Cancelled):
        client.download(model, tmp_path, cancel=cancel)
    assert time.monotonic() - started < 10, "waited for the 30 s Retry-After"
    assert list(tmp_path.iterdir()) == []


def test_a_cancel_mid_stream_stops_after_that_chunk_and_leaves_no_file(
    client, emulator, model, tmp_path
):
    emulator.inject("files", Fault.chunked(pieces=4))
    cancel = threading.Event()
    progress = []

    def cancel_after_first_chunk(done, total):
        progress.append(done)
        cancel.set()

    with pytest.raises(errors.Cancelled):
        client.download(model, tmp_path, progress=cancel_after_first_chunk, cancel=cancel)
    assert len(progress) == 1, "chunks were written after the cancel"
    assert list(tmp_path.iterdir()) == []


def test_an_expired_link_is_a_download_error_and_fresh_links_work(
    client, emulator, done_task, tmp_path
):
    emulator.configure(link_lifetime=0.2)
    model = choose_model_file(client.list_results(done_task.task_uuid), "glb")
    time.sleep(0.4)
    with pytest.raises(errors.DownloadError, match="expired"):
        client.download(model, tmp_path)
    emulator.configure(link_lifetime=600.0)  # fresh links, long enough for a busy machine
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
    listed = client.list_results(done_task.task_uuid)
    for result in listed:
        path = client.download(result, folder)
        assert path.parent == folder
        assert ".." not in path.name and "/" not in path.name and "\\" not in path.name
    assert {p.parent for p in tmp_path.rglob("*") if p.is_file()} == {folder}
    assert len(list(folder.iterdir())) == len(listed), "names that repeat overwrote each other"


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


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("sk-SECRET\u2019", "character 10 of 10 in the API key is RIGHT SINGLE QUOTATION MARK"),
        ("\u201csk-SECRET\u201d", "character 1 of 11 in the API key is LEFT DOUBLE QUOTATION"),
        ("sk-SE CRET", "character 6 of 10 in the API key is SPACE"),
        ("sk-SEC\tRET", "character 7 of 10 in the API key is U+0009"),
        ("sk-S\u00c9CRET", "character 5 of 9 in the API key is LATIN CAPITAL LETTER E WITH"),
        ("sk-SECRET\u200b", "character 10 of 10 in the API key is ZERO WIDTH SPACE"),
    ],
)
def test_a_key_no_service_could_take_is_refused_without_being_shown(emulator, key, said):
    """Before, such a key reached the HTTP stack, whose UnicodeEncodeError quoted it."""
    with pytest.raises(errors.InvalidInput) as raised:
        RodinClient(ClientSettings(api_key=key, base_url=emulator.base_url))
    assert said in str(raised.value)
    assert "SECRET" not in str(raised.value) and "SECRET" not in repr(raised.value)
    assert emulator.submit_count == 0


def test_the_key_with_blanks_around_it_is_taken_as_pasted(client_for):
    assert client_for(api_key=" \ttest-key\n").balance() >= 0


SECRET = "sk-LEAKY-0123456789abcdef"


def key_fragments(key: str, size: int = 8) -> set[str]:
    return {key[start : start + size] for start in range(len(key) - size + 1)}


def test_a_key_echoed_by_the_service_never_shows_in_errors_or_logs(
    emulator, client_for, caplog, request_files
):
    """A 5xx body with the key across the cut of the message, and the key as an error code."""
    client = client_for(api_key=SECRET, retry=RetryPolicy(attempts=1))
    caplog.set_level(logging.DEBUG)
    emulator.inject("check_balance", Fault.echo_key(500, offset=ERROR_BODY_CHARS - 10))
    emulator.inject("rodin_texture_only", Fault.echo_key(201))
    texts = [repr(client), repr(client.settings)]
    for call in (client.balance, lambda: client.submit(TextureRequest(*request_files))):
        with pytest.raises(errors.RodinError) as raised:
            call()
        assert "***" in str(raised.value), "the echo did not come back"
        texts += [str(raised.value), repr(raised.value), raised.value.code or ""]
    texts += [record.getMessage() for record in caplog.records]
    assert caplog.records, "expected the HTTP stack to log at DEBUG"
    fragments = key_fragments(SECRET)
    assert not [text for text in texts if any(fragment in text for fragment in fragments)]


def test_a_configured_proxy_is_used(emulator, client_for, forwarding_proxy):
    client = client_for(proxy_url=forwarding_proxy.url)
    assert client.balance() == 100
    assert forwarding_proxy.seen == [f"{emulator.base_url}/check_balance"]
    (sent,) = emulator.requests
    assert sent.headers["Authorization"] == "Bearer test-key"


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


PASSWORD = "hunter2-PASSWORD"


@pytest.mark.parametrize(
    "base_url",
    [
        "http://user:{password}@{host}/wrong/api/v2",  # answered: the address looks wrong
        "http://user:{password}@example.invalid/api/v2",  # plain http off this machine
    ],
    ids=["wrong-path", "refused-scheme"],
)
def test_a_password_in_the_service_url_is_in_no_error(client_for, emulator, base_url, caplog):
    host = emulator.base_url.split("//")[1].split("/")[0]
    url = base_url.format(password=PASSWORD, host=host)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(errors.RodinError) as raised:
        client_for(base_url=url).balance()

    said = f"{raised.value} {raised.value!r} {caplog.text}"
    assert PASSWORD not in said and "user:" not in said
    assert "http://" in str(raised.value), "the address is still named, without its login"


def test_without_credentials_leaves_everything_else_of_a_text():
    from rodin_texture_addon.rodin.client import without_credentials

    text = "proxy http://me:s3cret@proxy:3128 then https://tok@files.example/a@b.png?x=y@z"
    assert without_credentials(text) == (
        "proxy http://proxy:3128 then https://files.example/a@b.png?x=y@z"
    )
    assert without_credentials("mail me@example.com at https://host/") == (
        "mail me@example.com at https://host/"
    )
