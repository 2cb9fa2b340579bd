"""Loopback helpers shared by the suites: a free port, a request sent exactly as written."""

from __future__ import annotations

import socket

TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def raw_get_status(port: int, raw_path: str) -> int:
    """The status for a GET whose request line is sent as written (no client normalising
    `..` or percent-encodings away)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {raw_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return int(sock.makefile("rb").readline().split()[1])
