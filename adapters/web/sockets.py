"""Listening sockets for both stacks: TCP (IPv4/IPv6) or a Unix socket."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import ssl

from hexlit.adapters.web.settings import BindSettings

BACKLOG = 2048


def bind_socket(bind: BindSettings) -> socket.socket:
    """A listening, non-blocking socket for `bind`. Port 0 lets the OS choose.

    Raises OSError (for example EADDRINUSE) when the address cannot be bound; its message
    names the address and port ("Address already in use: 127.0.0.1:8501").
    """
    if bind.inherited_fd is not None:
        return inherited_socket(bind.inherited_fd)
    try:
        return _listen(bind)
    except OSError as error:
        where = bind.unix_socket or f"{bind.host or '*'}:{bind.port}"
        raise OSError(error.errno, f"{error.strerror or error}: {where}") from error


def inherited_socket(fd: int) -> socket.socket:
    """The listening socket behind `fd`, bound by a parent process (TCP or Unix alike).

    Every worker accepts on the same socket, so the kernel hands each new connection to
    one of the workers waiting in accept (ADR 0015).
    """
    sock = socket.socket(fileno=fd)
    sock.setblocking(False)
    return sock


def _listen(bind: BindSettings) -> socket.socket:
    if bind.unix_socket:
        path = os.path.expanduser(bind.unix_socket)
        with contextlib.suppress(FileNotFoundError):
            if os.path.exists(path) and not _is_listening(path):
                os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
    elif not bind.host:
        try:
            sock = _bind_tcp("::", bind.port)
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                raise
            sock = _bind_tcp("0.0.0.0", bind.port)
    else:
        sock = _bind_tcp(bind.host, bind.port)
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


def _bind_tcp(host: str, port: int) -> socket.socket:
    """A TCP listener whose accepted sockets send small frames at once (TCP_NODELAY).

    The protocol is given explicitly: asyncio sets TCP_NODELAY only on sockets whose
    `proto` says TCP, and accepted sockets inherit it from the listener. Without it every
    burst of small WebSocket frames waits on the client's delayed ACK (about 40 ms per
    rerun, the stall `streamlit run` 1.67 has).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if os.name != "nt":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def tls_context(bind: BindSettings) -> ssl.SSLContext | None:
    """A server TLS context for `bind`'s certificate and key, or None for plain HTTP.

    Raises OSError or ssl.SSLError when the files cannot be read or do not match.
    """
    if not bind.tls_cert or not bind.tls_key:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(bind.tls_cert, bind.tls_key)
    return context


def bound_port(sock: socket.socket) -> int | None:
    """The TCP port a socket listens on (None for Unix sockets)."""
    if sock.family == socket.AF_UNIX:
        return None
    port: int = sock.getsockname()[1]
    return port


def _is_listening(path: str) -> bool:
    """Whether another live process serves on the Unix socket at `path`."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True
