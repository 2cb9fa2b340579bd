"""Request smuggling shapes and malformed request heads, written byte for byte.

RFC 9112 §6.1 and §6.3: a request with both `Transfer-Encoding` and `Content-Length`
may be refused; if it is answered, the connection MUST be closed after the answer, so a
request hidden in its body is never read as the next one. A `Content-Length` that is
not one plain number, or several different ones, and a transfer coding the server does
not understand make the framing unknowable: 400 (or 501) and close. §3.2: a request
without `Host`, or with two, is answered with 400.
"""

from __future__ import annotations

import pytest

from tests.hostile.wire import errors_logged, exchange, still_serves
from tests.support.server import ServerUnderTest

H = "Host: 127.0.0.1\r\n"
HIDDEN = f"GET /_stcore/health HTTP/1.1\r\n{H}Connection: close\r\n\r\n"
"""The request an attacker hides in a body, hoping it is read as the next one."""

SMUGGLING = {
    "CL+TE": f"POST /_stcore/health HTTP/1.1\r\n{H}Content-Length: 4\r\n"
    f"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n{HIDDEN}",
    "TE+CL on GET": f"GET /_stcore/health HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n"
    f"Content-Length: 30\r\n\r\n0\r\n\r\n{HIDDEN}",
    "two different CL": f"POST /_stcore/health HTTP/1.1\r\n{H}Content-Length: 0\r\n"
    f"Content-Length: {len(HIDDEN)}\r\n\r\n{HIDDEN}",
    "CL list": f"POST /_stcore/health HTTP/1.1\r\n{H}Content-Length: 0, {len(HIDDEN)}\r\n\r\n"
    f"{HIDDEN}",
    "CL with a sign": f"POST /_stcore/health HTTP/1.1\r\n{H}Content-Length: +0\r\n\r\n{HIDDEN}",
    "negative CL": f"POST /_stcore/health HTTP/1.1\r\n{H}Content-Length: -1\r\n\r\n{HIDDEN}",
    "TE xchunked": f"POST /_stcore/health HTTP/1.1\r\n{H}Transfer-Encoding: xchunked\r\n\r\n"
    f"0\r\n\r\n{HIDDEN}",
    "TE chunked, identity": f"POST /_stcore/health HTTP/1.1\r\n{H}"
    f"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n{HIDDEN}",
    "TE with a space before the colon": f"POST /_stcore/health HTTP/1.1\r\n{H}"
    f"Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n{HIDDEN}",
    "TE twice": f"POST /_stcore/health HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n"
    f"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n{HIDDEN}",
    "TE on HTTP/1.0": f"POST /_stcore/health HTTP/1.0\r\n{H}Transfer-Encoding: chunked\r\n"
    f"Content-Length: 5\r\n\r\n0\r\n\r\n{HIDDEN}",
}


@pytest.mark.parametrize("shape", SMUGGLING)
def test_a_smuggled_request_is_never_answered(server: ServerUnderTest, shape: str) -> None:
    reply = exchange(server.port, SMUGGLING[shape].encode())
    assert not reply.hung, "no answer and no close"
    statuses = [response.status for response in reply.responses]
    assert len(statuses) <= 1, f"the hidden request was answered: {statuses}"
    assert reply.closed
    assert all(400 <= status < 500 or status == 501 for status in statuses), statuses
    still_serves(server.port)


@pytest.mark.parametrize("shape", ["CL+TE", "TE+CL on GET"])
def test_a_body_length_given_twice_is_400_with_its_reason(
    server: ServerUnderTest, shape: str
) -> None:
    """The same answer on every stack, whichever way its HTTP parser would have read it."""
    reply = exchange(server.port, SMUGGLING[shape].encode())
    assert [response.status for response in reply.responses] == [400]
    assert b"both Content-Length and Transfer-Encoding" in reply.first.body
    assert reply.closed


def test_a_pipelined_body_length_given_twice_is_refused(server: ServerUnderTest) -> None:
    """The same request sent right behind an ordinary one, in the same packet: the first
    may be answered, the second is refused and the hidden one never answered."""
    ordinary = f"GET /_stcore/health HTTP/1.1\r\n{H}\r\n"
    reply = exchange(server.port, (ordinary + SMUGGLING["CL+TE"]).encode())
    statuses = [response.status for response in reply.responses]
    assert statuses in ([200, 400], [400]), statuses
    assert reply.closed
    still_serves(server.port)


MALFORMED_HEADS = {
    "header line without a colon": f"GET /_stcore/health HTTP/1.1\r\n{H}garbage\r\n",
    "NUL in a header value": f"GET /_stcore/health HTTP/1.1\r\n{H}X-A: a\0b\r\n",
    "space inside the target": f"GET /_stcore/health x HTTP/1.1\r\n{H}",
    "method with a bad character": f"G@T /_stcore/health HTTP/1.1\r\n{H}",
    "chunk size not hex": f"POST /_stcore/health HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n"
    "\r\nzz\r\nab\r\n0\r\n",
    "chunk size overflowing": f"POST /_stcore/health HTTP/1.1\r\n{H}"
    "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffffffff\r\nab\r\n0\r\n",
    "negative chunk size": f"POST /_stcore/health HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n"
    "\r\n-1\r\nab\r\n0\r\n",
}


@pytest.mark.parametrize("shape", MALFORMED_HEADS)
def test_a_malformed_request_is_400_and_closed(server: ServerUnderTest, shape: str) -> None:
    reply = exchange(server.port, f"{MALFORMED_HEADS[shape]}Connection: close\r\n\r\n".encode())
    assert not reply.hung, "no answer and no close"
    assert [response.status for response in reply.responses] == [400]
    assert reply.closed
    still_serves(server.port)


@pytest.mark.parametrize(
    "hosts", [(), ("127.0.0.1", "evil.example")], ids=["no Host", "two Host lines"]
)
def test_a_missing_or_repeated_host_is_400(server: ServerUnderTest, hosts: tuple[str, ...]) -> None:
    """httptools lets both through; the core's Host check refuses them on every stack."""
    lines = "".join(f"Host: {host}\r\n" for host in hosts)
    reply = exchange(
        server.port, f"GET /_stcore/health HTTP/1.1\r\n{lines}Connection: close\r\n\r\n".encode()
    )
    assert not reply.hung
    assert reply.status == 400
    still_serves(server.port)


def test_a_malformed_chunked_body_logs_no_traceback(server: ServerUnderTest) -> None:
    """A bad chunk size on a route that reads no body: the client gets its 400, and the
    log gets no error an attacker could repeat at will."""
    raw = MALFORMED_HEADS["chunk size not hex"] + "Connection: close\r\n\r\n"
    with errors_logged() as errors:
        for _ in range(3):
            assert exchange(server.port, raw.encode()).status == 400
        still_serves(server.port)
    assert [record.getMessage()[:80] for record in errors] == []
