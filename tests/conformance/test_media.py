"""`GET/HEAD /media/{file}`: whole files, byte ranges, attachments, on every stack."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.support.files import LiveSession, live_session
from tests.support.metrics import counter
from tests.support.server import ServerUnderTest

TIMEOUT = 10.0
SIZE = 1000


def expected(size: int = SIZE) -> bytes:
    """The bytes the built-in app generates for `media ... SIZE ...`."""
    return bytes(index % 251 for index in range(size))


def add_media(session: LiveSession, kind: str = "media", size: int = SIZE, name: str = "") -> str:
    (reply,) = session.command(f"media {kind} {size} video/mp4 {name}".strip())
    assert reply.startswith("media /media/")
    return reply.split()[1]


def get(server: ServerUnderTest, path: str, method: str = "GET", **headers: str) -> httpx.Response:
    return httpx.request(method, server.url(path), headers=headers, timeout=TIMEOUT)


def test_whole_file(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        response = get(server, add_media(session))
    assert response.status_code == 200
    assert response.content == expected()
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(SIZE)
    assert "content-disposition" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=10-19", 10, 19),
        ("bytes=990-", 990, 999),
        ("bytes=-5", 995, 999),
        ("bytes=0-5000", 0, 999),
    ],
)
def test_single_ranges_are_206(server: ServerUnderTest, header: str, start: int, end: int) -> None:
    with live_session(server) as session:
        response = get(server, add_media(session), Range=header)
    assert response.status_code == 206
    assert response.content == expected()[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"
    assert response.headers["content-length"] == str(end - start + 1)


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=x"]
)
def test_unsatisfiable_ranges_are_416(server: ServerUnderTest, header: str) -> None:
    with live_session(server) as session:
        response = get(server, add_media(session), Range=header)
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"


def test_head_has_headers_and_no_body(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        response = get(server, add_media(session), "HEAD")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(SIZE)


@pytest.mark.parametrize(
    "name",
    ["0" * 32 + ".mp4", "nope", "..%2f..%2fetc%2fpasswd", "%2e%2e", "A" * 32 + ".bin"],
)
def test_unknown_or_odd_names_are_404(server: ServerUnderTest, name: str) -> None:
    response = get(server, f"/media/{name}")
    assert (response.status_code, response.text) == (404, "File not found")


def test_downloads_are_attachments_with_an_encoded_name(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        ascii_download = get(server, add_media(session, "downloadable", name="report.csv"))
        unicode_download = get(server, add_media(session, "downloadable", name='ré "x".txt'))
        nameless = get(server, add_media(session, "downloadable"))
    assert ascii_download.headers["content-disposition"] == 'attachment; filename="report.csv"'
    assert unicode_download.headers["content-disposition"] == (
        "attachment; filename*=utf-8''" + quote('ré "x".txt', safe="")
    )
    assert (
        nameless.headers["content-disposition"] == 'attachment; filename="streamlit_download.mp4"'
    )


def test_forgotten_media_is_404(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        url = add_media(session, size=321)
        assert get(server, url).status_code == 200
        media_id = url.rsplit("/", 1)[1].split(".")[0]
        session.command(f"forget {media_id}")
        assert get(server, url).status_code == 404


def test_media_preflight(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        assert get(server, add_media(session), "OPTIONS").status_code == 204


def test_health_hands_out_the_xsrf_cookie_and_keeps_its_token(server: ServerUnderTest) -> None:
    from hexlit.domain.xsrf import decode_token

    first = get(server, "/_stcore/health")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("_streamlit_xsrf=2|")
    assert "Path=/" in cookie
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" not in cookie
    value = first.cookies["_streamlit_xsrf"]
    again = get(server, "/_stcore/health", Cookie=f"_streamlit_xsrf={value}")
    renewed = again.cookies["_streamlit_xsrf"]
    old, new = decode_token(value), decode_token(renewed)
    assert old is not None
    assert new is not None
    assert (new.token, new.timestamp) == (old.token, old.timestamp)
    assert renewed != value  # a fresh mask each time


def test_media_is_never_gzipped(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        url = add_media(session, size=50_000)
        response = get(server, url, **{"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert response.content == expected(50_000)


def test_a_client_that_leaves_stops_the_read(server: ServerUnderTest) -> None:
    """A download abandoned after its first bytes does not read the rest of the file."""
    size = 64 * 1024 * 1024
    with live_session(server) as session:
        path = add_media(session, size=size)
        served_before = counter(server, "hexlit_media_bytes_total")
        with httpx.stream("GET", server.url(path), timeout=TIMEOUT) as response:
            assert response.status_code == 200
            next(response.iter_raw(64 * 1024))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:  # let the server notice, then read the counter
            settled = counter(server, "hexlit_media_bytes_total")
            time.sleep(0.2)
            if counter(server, "hexlit_media_bytes_total") == settled:
                break
    assert counter(server, "hexlit_media_bytes_total") - served_before < size // 2


def test_a_half_read_file_is_closed_when_the_client_leaves(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    """The filesystem store's handle closes when the download is abandoned, not at GC."""
    server = make_server({"hexlit.store": "filesystem", "hexlit.storeDir": str(tmp_path)})
    with live_session(server) as session:
        path = add_media(session, size=32 * 1024 * 1024)
        with httpx.stream("GET", server.url(path), timeout=TIMEOUT) as response:
            chunks = response.iter_raw(64 * 1024)  # kept: a dropped iterator closes the stream
            next(chunks)
            assert wait_for(lambda: open_files_under(tmp_path) != []), "the file is being read"
        assert wait_for(lambda: open_files_under(tmp_path) == []), open_files_under(tmp_path)


def wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def open_files_under(folder: Path) -> list[str]:
    """This process's open files below `folder` (the servers under test run in-process)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith(str(folder)):
                found.append(target)
    return found
