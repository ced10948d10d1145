"""Every injected fault, over real HTTP, and that faults are used up in order."""

import gzip
import time

import pytest
import requests
from rodin_emulator import Fault

from .conftest import TIMEOUT


def test_rate_limit_is_a_429_with_retry_after_then_normal_answers(api, emulator):
    task = api.submitted()
    emulator.inject("status", Fault.rate_limit(retry_after=3))

    limited = api.status(task)

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert limited.json()["error"] == "RATE_LIMITED"
    assert api.status(task).status_code == 200


def test_server_error_has_the_status_and_message(api, emulator):
    emulator.inject("check_balance", Fault.server_error(503, "busy"))
    answer = api.session.get(api.url("check_balance"), timeout=TIMEOUT)
    assert answer.status_code == 503
    assert answer.json() == {"error": "UNKNOWN", "message": "busy"}


def test_the_default_server_error_is_a_500_with_a_javascript_message(api, emulator):
    emulator.inject("rodin_texture_only", Fault.server_error())
    answer = api.submit()
    assert answer.status_code == 500
    assert "is not valid JSON" in answer.json()["message"]
    assert emulator.submit_count == 0


def test_an_app_error_on_submit_spends_nothing(api, emulator):
    emulator.inject("rodin_texture_only", Fault.app_error("IMAGE_CONTENT_VIOLATION", "no"))
    answer = api.submit()
    assert answer.status_code == 201
    assert answer.json() == {"error": "IMAGE_CONTENT_VIOLATION", "message": "no"}
    assert emulator.submit_count == 0 and emulator.balance == 100.0 and not emulator.tasks


def test_a_slow_answer_comes_after_the_delay(api, emulator):
    emulator.inject("check_balance", Fault.slow(0.3))
    started = time.monotonic()
    answer = api.session.get(api.url("check_balance"), timeout=TIMEOUT)
    assert answer.json() == {"balance": 100.0}
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("endpoint", ["rodin_texture_only", "status", "check_balance"])
def test_a_disconnect_closes_without_an_answer(api, emulator, endpoint):
    task = api.submitted()
    emulator.inject(endpoint, Fault.disconnect())
    send = {
        "rodin_texture_only": api.submit,
        "status": lambda: api.status(task),
        "check_balance": lambda: api.session.get(api.url("check_balance"), timeout=TIMEOUT),
    }[endpoint]

    with pytest.raises(requests.ConnectionError):
        send()
    assert send().status_code in (200, 201)
    assert emulator.submit_count == 1 + (endpoint == "rodin_texture_only")


def test_a_truncated_file_has_the_full_length_but_half_the_body(api, emulator, instant):
    url = api.download(api.submitted()).json()["list"][0]["url"]
    full = requests.get(url, timeout=TIMEOUT).content
    emulator.inject("files", Fault.truncate(0.5))

    with requests.get(url, stream=True, timeout=TIMEOUT) as answer:
        assert int(answer.headers["Content-Length"]) == len(full)
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            answer.content  # noqa: B018  (reading the body is the point)
    assert requests.get(url, timeout=TIMEOUT).content == full


def test_an_empty_list_even_though_done_then_the_full_list(api, emulator, instant):
    task = api.submitted()
    emulator.inject("download", Fault.empty_list())
    assert api.download(task).json() == {"list": []}
    assert len(api.download(task).json()["list"]) == 2


def test_faults_are_used_in_order_and_times_repeats_them(api, emulator):
    emulator.inject("check_balance", Fault.server_error(502, "bad gateway"), times=2)
    emulator.inject("check_balance", Fault.app_error("PERMISSION_DENIED", "revoked", 401))
    statuses = [
        api.session.get(api.url("check_balance"), timeout=TIMEOUT).status_code for _ in range(4)
    ]
    assert statuses == [502, 502, 401, 200]


def test_faults_are_checked_against_their_endpoint(emulator):
    with pytest.raises(ValueError, match="files only"):
        emulator.inject("status", Fault.truncate())
    with pytest.raises(ValueError, match="download only"):
        emulator.inject("files", Fault.empty_list())
    for files_only in (Fault.gzip(), Fault.chunked()):
        with pytest.raises(ValueError, match="files only"):
            emulator.inject("download", files_only)
    with pytest.raises(ValueError, match="unknown endpoint"):
        emulator.inject("generate", Fault.disconnect())


def test_a_redirect_points_back_to_the_same_link_which_then_answers(api, emulator, instant):
    url = api.download(api.submitted()).json()["list"][0]["url"]
    emulator.inject("files", Fault.redirect())

    moved = requests.get(url, allow_redirects=False, timeout=TIMEOUT)

    assert moved.status_code == 302
    assert moved.headers["Location"] == url.removeprefix(emulator.file_base_url)
    assert requests.get(url, allow_redirects=False, timeout=TIMEOUT).status_code == 200


def test_a_redirect_can_point_anywhere(api, emulator):
    emulator.inject("check_balance", Fault.redirect("http://files.example.invalid/x", 307))
    moved = api.session.get(api.url("check_balance"), allow_redirects=False, timeout=TIMEOUT)
    assert (moved.status_code, moved.headers["Location"]) == (307, "http://files.example.invalid/x")


def test_a_gzip_file_has_the_compressed_length_and_encoding(api, emulator, instant):
    url = api.download(api.submitted()).json()["list"][0]["url"]
    full = requests.get(url, timeout=TIMEOUT).content
    emulator.inject("files", Fault.gzip())

    with requests.get(url, stream=True, timeout=TIMEOUT) as answer:
        raw = answer.raw.read(decode_content=False)
    assert answer.headers["Content-Encoding"] == "gzip"
    assert int(answer.headers["Content-Length"]) == len(raw) != len(full)
    assert gzip.decompress(raw) == full


def test_a_chunked_file_has_no_length_and_comes_in_pieces(api, emulator, instant):
    url = api.download(api.submitted()).json()["list"][0]["url"]
    full = requests.get(url, timeout=TIMEOUT).content
    emulator.inject("files", Fault.chunked(pieces=3))

    with requests.get(url, stream=True, timeout=TIMEOUT) as answer:
        pieces = list(answer.raw.read_chunked())
    assert "Content-Length" not in answer.headers
    assert answer.headers["Transfer-Encoding"] == "chunked"
    assert len(pieces) == 3 and b"".join(pieces) == full


def test_echo_key_sends_the_key_back_as_code_and_at_the_offset(api, emulator):
    emulator.inject("check_balance", Fault.echo_key(status=500, offset=290))
    answer = api.session.get(api.url("check_balance"), timeout=TIMEOUT)
    assert answer.status_code == 500
    assert answer.text.index("test-key") == 290
    assert answer.json()["error"] == "test-key"


def test_answer_sends_the_body_as_given(api, emulator):
    emulator.inject("rodin_texture_only", Fault.answer({"error": None, "uuid": "t"}, 201))
    answer = api.submit()
    assert (answer.status_code, answer.json()) == (201, {"error": None, "uuid": "t"})
    assert emulator.submit_count == 0


def test_a_malformed_retry_after_is_sent_as_given(api, emulator):
    emulator.inject("check_balance", Fault.rate_limit(retry_after="soon"))
    answer = api.session.get(api.url("check_balance"), timeout=TIMEOUT)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "soon")
