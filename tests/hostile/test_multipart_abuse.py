"""Malformed, truncated, duplicated and oversized multipart upload bodies.

Each is refused with 400 and a reason, leaves nothing stored, and the server goes on
serving. RFC 2046 framing is followed where lenient parsers differ: a preamble before
the first delimiter and an epilogue after the closing one are ignored, not refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.wire import put_upload, still_serves
from tests.support.files import BOUNDARY, live_session, multipart, sha256
from tests.support.server import ServerUnderTest

B = BOUNDARY
PART_HEAD = f'--{B}\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\n'
GOOD = multipart(("f.txt", b"payload", "text/plain"))

BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "no boundary parameter": (GOOD, "multipart/form-data"),
    "empty boundary": (GOOD, "multipart/form-data; boundary="),
    "boundary over 70 characters": (
        GOOD.replace(B.encode(), b"b" * 71),
        "multipart/form-data; boundary=" + "b" * 71,
    ),
    "body framed by another boundary": (GOOD.replace(B.encode(), b"other-boundary"), ""),
    "truncated in the part headers": (PART_HEAD.encode()[:-20], ""),
    "truncated after the part headers": ((PART_HEAD + "\r\n").encode(), ""),
    "truncated in the data": ((PART_HEAD + "\r\npay").encode(), ""),
    "no closing delimiter": ((PART_HEAD + f"\r\npayload\r\n--{B}\r\n").encode(), ""),
    "two file parts": (
        multipart(("f.txt", b"one", "text/plain"), ("f.txt", b"two", "text/plain")),
        "",
    ),
    "a 1 MiB part header": (
        (PART_HEAD + "X-Pad: " + "a" * (1024 * 1024) + f"\r\n\r\npayload\r\n--{B}--\r\n").encode(),
        "",
    ),
    "ten thousand part headers": (
        (PART_HEAD + "X-A: b\r\n" * 10_000 + f"\r\npayload\r\n--{B}--\r\n").encode(),
        "",
    ),
    "no Content-Disposition": (
        f"--{B}\r\nContent-Type: text/plain\r\n\r\npayload\r\n--{B}--\r\n".encode(),
        "",
    ),
    "Content-Disposition attachment": (
        f'--{B}\r\nContent-Disposition: attachment; filename="f.txt"\r\n\r\n'
        f"x\r\n--{B}--\r\n".encode(),
        "",
    ),
    "part headers without a colon": (
        (PART_HEAD + f"garbage\r\n\r\npayload\r\n--{B}--\r\n").encode(),
        "",
    ),
    "three thousand empty file parts": (
        multipart(*[(f"{index}.txt", b"", "text/plain") for index in range(3000)]),
        "",
    ),
}


def test_malformed_bodies_are_400_and_leave_nothing(server: ServerUnderTest) -> None:
    """Every shape in one session (a fresh file id each), so the suite stays quick."""
    wrong = []
    with live_session(server) as session:
        for shape, (body, content_type) in BAD_BODIES.items():
            url = session.upload_url()
            reply = put_upload(session, url, body, content_type)
            assert not reply.hung, shape
            if reply.status != 400 or not reply.first.body.strip():
                wrong.append((shape, reply.status, reply.first.body[:80]))
            if session.files(file_id(url)):
                wrong.append((shape, "stored", b""))
    assert wrong == []
    still_serves(server.port)


def test_a_part_with_two_content_dispositions_is_400(server: ServerUnderTest) -> None:
    body = (
        PART_HEAD + 'Content-Disposition: form-data; name="g"; filename="g.txt"\r\n\r\n'
        f"payload\r\n--{B}--\r\n"
    ).encode()
    with live_session(server) as session:
        url = session.upload_url()
        reply = put_upload(session, url, body)
        assert not reply.hung
        assert reply.status == 400
        assert session.files(file_id(url)) == []


@pytest.mark.parametrize(
    "body",
    [
        b"a preamble the parser ignores\r\n" + GOOD,
        GOOD + b"an epilogue after the closing delimiter, also ignored\r\n--" + B.encode(),
    ],
    ids=["preamble", "epilogue"],
)
def test_preamble_and_epilogue_are_ignored_per_rfc_2046(
    server: ServerUnderTest, body: bytes
) -> None:
    with live_session(server) as session:
        url = session.upload_url()
        assert session.put(url, body).status_code == 204
        assert session.files(file_id(url)) == [f"file f.txt 7 {sha256(b'payload')}"]


def test_a_traversal_filename_is_only_a_name(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    """The filename is metadata: the filesystem store never builds a path from it."""
    store = tmp_path / "deep" / "store"
    server = make_server({"hexlit.store": "filesystem", "hexlit.storeDir": str(store)})
    name = "../../../escaped.txt"
    with live_session(server) as session:
        url = session.upload_url()
        assert session.put(url, multipart((name, b"payload", "text/plain"))).status_code == 204
        assert session.files(file_id(url)) == [f"file {name} 7 {sha256(b'payload')}"]
        everything = [path for path in tmp_path.rglob("*") if path.is_file()]
        assert everything, "the upload is stored"
        assert all(path.is_relative_to(store) for path in everything), everything
        assert not any("escaped" in path.name for path in everything), everything
    still_serves(server.port)


def file_id(url: str) -> str:
    return url.rsplit("/", 1)[1]
