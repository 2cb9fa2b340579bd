"""Helpers for the upload and media conformance tests: a live session, the XSRF cookie,
multipart bodies, and the built-in app's file commands."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from websockets.sync.client import ClientConnection, connect

from tests.support.server import ServerUnderTest

TIMEOUT = 10.0
BOUNDARY = "----hexlitTestBoundary7MA4YWxkTrZu0gW"


@dataclass
class LiveSession:
    """An open session of the built-in `counter` app, plus this browser's XSRF cookie."""

    server: ServerUnderTest
    ws: ClientConnection
    session_id: str
    xsrf: str

    def command(self, text: str, replies: int = 1) -> list[str]:
        self.ws.send(text.encode())
        return [self._recv() for _ in range(replies)]

    def _recv(self) -> str:
        frame = self.ws.recv(timeout=TIMEOUT)
        assert isinstance(frame, bytes)
        return frame.decode()

    def upload_url(self, file_id: str | None = None) -> str:
        if file_id is None:
            (line,) = self.command("upload-urls 1")
            _, file_id, _ = line.split()
        return self.server.url(
            f"{self.server.base_path}/_stcore/upload_file/{self.session_id}/{file_id}"
        )

    def put(self, url: str, body: bytes, **headers: str) -> httpx.Response:
        sent = {
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "X-Xsrftoken": self.xsrf,
            "Cookie": f"_streamlit_xsrf={self.xsrf}",
            **headers,
        }
        return httpx.put(url, content=body, headers=sent, timeout=TIMEOUT)

    def files(self, *file_ids: str) -> list[str]:
        self.ws.send(f"files {','.join(file_ids)}".encode())
        return self._drain_file_lines(len(file_ids))

    def _drain_file_lines(self, expected_at_most: int) -> list[str]:
        lines = []
        self.ws.send(b"marker-end")
        while (line := self._recv()) != "marker-end":
            lines.append(line)
        assert len(lines) <= expected_at_most
        return lines


@contextmanager
def live_session(server: ServerUnderTest) -> Iterator[LiveSession]:
    health = httpx.get(server.url(f"{server.base_path}/_stcore/health"), timeout=TIMEOUT)
    xsrf = health.cookies.get("_streamlit_xsrf") or ""
    with connect(
        server.ws_url(), subprotocols=["streamlit", xsrf or "x"], open_timeout=TIMEOUT
    ) as ws:  # type: ignore[list-item]
        hello = ws.recv(timeout=TIMEOUT)
        assert isinstance(hello, bytes)
        session_id = hello.decode().split()[1]
        yield LiveSession(server, ws, session_id, xsrf)


def multipart(*parts: tuple[str, bytes, str]) -> bytes:
    """A browser-shaped multipart body: (file name, data, content type) per part."""
    chunks = []
    for name, data, content_type in parts:
        chunks.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    return b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_request(
    server: ServerUnderTest, head: str, body: bytes, close_early: bool = False
) -> int | None:
    """Send a request by hand; return its status (None if the server hung up first)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(head.encode() + body)
        if close_early:
            return None
        line = sock.makefile("rb").readline()
        return int(line.split()[1]) if line else None
