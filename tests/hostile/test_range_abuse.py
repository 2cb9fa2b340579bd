"""`Range` abuse on `/media/...`: many, overlapping, reversed, huge and suffix ranges.

A range header never makes the answer bigger than the file (no multipart
amplification), never costs a 500, and never hangs. RFC 9110 §14.2: a server may
ignore `Range` (200 with the whole file) or answer a range it cannot or will not
serve with 416 and `Content-Range: bytes */size`; hexlit serves single ranges only.
"""

from __future__ import annotations

import httpx

from tests.hostile.wire import exchange, still_serves
from tests.support.files import live_session
from tests.support.server import ServerUnderTest

SIZE = 1000
TIMEOUT = 10.0
DATA = bytes(index % 251 for index in range(SIZE))
HUGE = "9" * 5000
"""More digits than Python converts to an int by default (4300); every header here
stays under 16 KiB, so the head itself is not oversized."""

REFUSED = {
    "a thousand ranges": "bytes=" + ",".join(f"{i}-{i}" for i in range(1000)),
    "overlapping ranges": "bytes=0-999,0-999,0-999,0-999,0-999",
    "ranges covering each other": "bytes=0-,1-,2-,3-,4-,5-",
    "reversed": "bytes=500-100",
    "start beyond the end": f"bytes={SIZE}-",
    "huge start": f"bytes={HUGE}-",
    "empty suffix": "bytes=-0",
    "negative start": "bytes=--5",
    "signed numbers": "bytes=+1-+5",
    "hex numbers": "bytes=0x10-0x20",
    "non-ASCII digits": "bytes=\uff11-\uff15",
    "other unit": "items=0-5",
    "no equals sign": "bytes 0-5",
    "trailing comma": "bytes=0-5,",
    "only a comma": "bytes=,",
    "six thousand commas": "bytes=" + "," * 6000,
}

SERVED = {
    "huge end": (f"bytes=0-{HUGE}", 0, SIZE - 1),
    "huge suffix": (f"bytes=-{HUGE}", 0, SIZE - 1),
    "suffix longer than the file": ("bytes=-5000", 0, SIZE - 1),
    "leading zeros": ("bytes=" + "0" * 3000 + "10-" + "0" * 3000 + "19", 10, 19),
    "unit in upper case": ("BYTES=10-19", 10, 19),
}


def test_abusive_ranges_are_416_and_never_amplify(server: ServerUnderTest) -> None:
    wrong = []
    with live_session(server) as session:
        (reply,) = session.command(f"media media {SIZE} video/mp4")
        path = reply.split()[1]
        for shape, header in REFUSED.items():
            raw = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: {header}\r\n"
                "Connection: close\r\n\r\n"
            )
            answer = exchange(server.port, raw.encode())
            assert not answer.hung, shape
            response = answer.first
            if response.status == 416:
                ok = response.headers.get("content-range") == f"bytes */{SIZE}"
            else:  # RFC 9110 also lets a server ignore the header: the whole file, once
                ok = (response.status, response.body) == (200, DATA)
            if not ok or len(response.body) > SIZE:
                wrong.append((shape, response.status, response.headers.get("content-range")))
    assert wrong == []
    still_serves(server.port)


def test_huge_and_suffix_ranges_are_clamped_to_the_file(server: ServerUnderTest) -> None:
    wrong = []
    with live_session(server) as session, httpx.Client(timeout=TIMEOUT) as client:
        (reply,) = session.command(f"media media {SIZE} video/mp4")
        url = server.url(reply.split()[1])
        for shape, (header, start, end) in SERVED.items():
            response = client.get(url, headers={"Range": header})
            expected = (206, DATA[start : end + 1], f"bytes {start}-{end}/{SIZE}")
            got = (response.status_code, response.content, response.headers.get("content-range"))
            if got != expected:
                wrong.append((shape, got[0], got[2]))
    assert wrong == []
    still_serves(server.port)
