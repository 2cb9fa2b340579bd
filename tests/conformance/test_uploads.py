"""`PUT/DELETE /_stcore/upload_file/{session}/{file}`: the upload rules on every stack."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.files import BOUNDARY, live_session, multipart, raw_request, sha256
from tests.support.metrics import counter, wait_for_counter
from tests.support.server import ServerUnderTest

TIMEOUT = 10.0
MIB = 1024 * 1024


def stored_bytes(server: ServerUnderTest) -> int:
    """Bytes in a server's memory upload store (for servers made by the test itself)."""
    return int(server.container.upload_store().stored_bytes)


def test_an_upload_reaches_the_session_intact(server: ServerUnderTest) -> None:
    data = os.urandom(300_000) + b"--" + BOUNDARY.encode() + b"\r\n--tail"
    with live_session(server) as session:
        url = session.upload_url()
        response = session.put(url, multipart(("data é.bin", data, "application/x-test")))
        assert response.status_code == 204
        file_id = url.rsplit("/", 1)[1]
        assert session.files(file_id) == [f"file data é.bin {len(data)} {sha256(data)}"]


def test_the_same_file_id_is_replaced(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        url = session.upload_url()
        session.put(url, multipart(("a.txt", b"first", "text/plain")))
        assert session.put(url, multipart(("a.txt", b"second", "text/plain"))).status_code == 204
        assert session.files(url.rsplit("/", 1)[1]) == [f"file a.txt 6 {sha256(b'second')}"]


@pytest.mark.parametrize(
    "headers",
    [{"X-Xsrftoken": ""}, {"X-Xsrftoken": "2|00000000|" + "0" * 32 + "|1"}, {"Cookie": ""}],
)
def test_without_a_matching_xsrf_token_it_is_403(
    server: ServerUnderTest, headers: dict[str, str]
) -> None:
    with live_session(server) as session:
        response = session.put(
            session.upload_url(), multipart(("a", b"x", "text/plain")), **headers
        )
        assert (response.status_code, response.text) == (403, "XSRF token missing or invalid")


def test_xsrf_cookie_with_a_percent_encoded_bar_is_accepted(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        mangled = session.xsrf.replace("|", "%7C")
        response = session.put(
            session.upload_url(),
            multipart(("a", b"x", "text/plain")),
            Cookie=f"_streamlit_xsrf={mangled}",
        )
        assert response.status_code == 204


def test_a_session_that_is_not_live_is_400_without_echoing_its_id(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        url = session.upload_url().replace(
            session.session_id, "00000000-dead-beef-0000-000000000000"
        )
        response = session.put(url, multipart(("a", b"x", "text/plain")))
        assert response.status_code == 400
        assert "sticky sessions" in response.text
        assert "dead-beef" not in response.text


@pytest.mark.parametrize("file_id", ["..%2f..%2fetc", "a%00b", "x" * 65])
def test_bad_file_ids_are_400(server: ServerUnderTest, file_id: str) -> None:
    with live_session(server) as session:
        response = session.put(session.upload_url(file_id), multipart(("a", b"x", "text/plain")))
        assert response.status_code == 400


def test_content_length_over_the_limit_is_413_up_front(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"server.maxUploadSize": 1})
    with live_session(server) as session:
        url = session.upload_url()
        path = url.split(str(server.port), 1)[1]
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {5 * MIB}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"X-Xsrftoken: {session.xsrf}\r\nCookie: _streamlit_xsrf={session.xsrf}\r\n\r\n"
        )
        assert raw_request(server, head, b"") == 413  # answered before any body byte


def test_a_streamed_body_over_the_limit_is_413_and_leaves_nothing(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"server.maxUploadSize": 1})

    def chunks() -> object:
        body = multipart(("big.bin", os.urandom(3 * MIB), "application/octet-stream"))
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    with live_session(server) as session:
        url = session.upload_url()
        try:
            response = httpx.put(
                url,
                content=chunks(),  # type: ignore[arg-type]
                headers={
                    "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                    "X-Xsrftoken": session.xsrf,
                    "Cookie": f"_streamlit_xsrf={session.xsrf}",
                },
                timeout=TIMEOUT,
            )
            status = response.status_code
        except httpx.TransportError:  # the server may hang up while we still send
            status = 413
        assert status == 413
        assert session.files(url.rsplit("/", 1)[1]) == []
    assert stored_bytes(server) == 0


def test_a_file_over_the_limit_within_the_framing_margin_is_413(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"server.maxUploadSize": 1})
    with live_session(server) as session:
        body = multipart(("f.bin", b"\0" * (MIB + 1000), "application/octet-stream"))
        assert session.put(session.upload_url(), body).status_code == 413
    assert stored_bytes(server) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (multipart(("a", b"1", "text/plain"), ("b", b"2", "text/plain")), None, "Expected 1 file"),
        (multipart(("a", b"1", "text/plain"))[:-10], None, "truncated"),
        (f"--{BOUNDARY}--\r\n".encode(), None, "Expected 1 file, but got 0"),
        (b"plain", "text/plain", "multipart"),
    ],
)
def test_malformed_bodies_are_400_and_leave_nothing(
    server: ServerUnderTest, body: bytes, content_type: str | None, reason: str
) -> None:
    with live_session(server) as session:
        extra = {"Content-Type": content_type} if content_type else {}
        url = session.upload_url()
        response = session.put(url, body, **extra)
        assert response.status_code == 400
        assert reason in response.text
        assert session.files(url.rsplit("/", 1)[1]) == []


def test_a_non_integer_content_length_is_400(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        path = session.upload_url().split(str(server.port), 1)[1]
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n"
            f"X-Xsrftoken: {session.xsrf}\r\nCookie: _streamlit_xsrf={session.xsrf}\r\n\r\n"
        )
        assert raw_request(server, head, b"") == 400


@pytest.mark.parametrize("store", ["memory", "filesystem"])
def test_a_client_that_hangs_up_mid_upload_leaves_nothing(
    make_server: Callable[..., ServerUnderTest], store: str, tmp_path: Path
) -> None:
    server = make_server({"hexlit.store": store, "hexlit.storeDir": str(tmp_path)})
    with live_session(server) as session:
        url = session.upload_url()
        path = url.split(str(server.port), 1)[1]
        body = multipart(("half.bin", os.urandom(2 * MIB), "application/octet-stream"))
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"X-Xsrftoken: {session.xsrf}\r\nCookie: _streamlit_xsrf={session.xsrf}\r\n\r\n"
        )
        aborted = {"outcome": "aborted"}
        aborted_before = counter(server, "hexlit_uploads_total", **aborted)
        raw_request(server, head, body[: len(body) // 2], close_early=True)
        counted = wait_for_counter(
            server, "hexlit_uploads_total", lambda n: n > aborted_before, **aborted
        )
        assert counted == aborted_before + 1
        assert session.files(url.rsplit("/", 1)[1]) == []
    assert list(tmp_path.rglob("*.part")) == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_delete_removes_the_file_and_needs_the_token(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        url = session.upload_url()
        session.put(url, multipart(("a.txt", b"bye", "text/plain")))
        forbidden = httpx.delete(url, timeout=TIMEOUT)
        assert forbidden.status_code == 403
        headers = {"X-Xsrftoken": session.xsrf, "Cookie": f"_streamlit_xsrf={session.xsrf}"}
        assert httpx.delete(url, headers=headers, timeout=TIMEOUT).status_code == 204
        assert session.files(url.rsplit("/", 1)[1]) == []


def test_preflight_and_cors_headers(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        origin = f"http://127.0.0.1:{server.port}"
        response = httpx.options(session.upload_url(), headers={"Origin": origin}, timeout=TIMEOUT)
        assert response.status_code == 204
        assert response.headers["access-control-allow-methods"] == "PUT, OPTIONS, DELETE"
        assert response.headers["access-control-allow-headers"] == "X-Xsrftoken, Content-Type"
        assert response.headers["access-control-allow-credentials"] == "true"
        assert response.headers["access-control-allow-origin"] == origin
        foreign = httpx.options(
            session.upload_url(), headers={"Origin": "https://evil.example"}, timeout=TIMEOUT
        )
        assert "access-control-allow-origin" not in foreign.headers


def test_files_go_when_the_session_ends(make_server: Callable[..., ServerUnderTest]) -> None:
    server = make_server({"server.disconnectedSessionTTL": 0.2})
    with live_session(server) as session:
        session.put(session.upload_url(), multipart(("a.txt", b"gone soon", "text/plain")))
        assert stored_bytes(server) == 9
    deadline = time.monotonic() + TIMEOUT
    while stored_bytes(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored_bytes(server) == 0


def test_files_are_not_served_across_sessions(server: ServerUnderTest) -> None:
    with live_session(server) as first, live_session(server) as second:
        url = first.upload_url()
        first.put(url, multipart(("mine.txt", b"secret", "text/plain")))
        assert second.files(url.rsplit("/", 1)[1]) == []
        # and the second session cannot write into the first one's files with its token
        response = second.put(url, multipart(("x", b"x", "text/plain")))
        assert response.status_code in (204, 403)


@pytest.mark.parametrize(
    "disposition",
    ['form-data; name="file"', 'form-data; name="file"; filename=""'],
)
def test_a_part_without_a_filename_is_a_form_field_not_a_file(
    server: ServerUnderTest, disposition: str
) -> None:
    """A part without a filename is a form field (RFC 7578 §4.2): no file was sent."""
    with live_session(server) as session:
        url = session.upload_url()
        body = (
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\nabc\r\n--{BOUNDARY}--\r\n"
        )
        response = session.put(url, body.encode())
        assert (response.status_code, response.text) == (400, "Expected 1 file, but got 0")
        assert session.files(url.rsplit("/", 1)[1]) == []


def test_form_fields_beside_the_file_are_ignored(server: ServerUnderTest) -> None:
    """As Streamlit reads the body: fields are not files; the one file part is stored."""
    with live_session(server) as session:
        url = session.upload_url()
        field = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n'
        response = session.put(url, field.encode() + multipart(("a.txt", b"data", "text/plain")))
        assert response.status_code == 204
        assert session.files(url.rsplit("/", 1)[1]) == [f"file a.txt 4 {sha256(b'data')}"]
