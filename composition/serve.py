"""Run the chosen web stack until SIGINT/SIGTERM, then shut down in a fixed order.

The server's start and stop hooks start and release the container's resources
(composition/lifecycles.py): the session core, the stores, the Redis connections.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from hexlit.adapters.web.settings import BindSettings
from hexlit.composition.container import Container
from hexlit.composition.lifecycles import releasing, shutdown_resources

log = logging.getLogger("hexlit")

PORT_RETRIES = 100
SHUTDOWN_TIMEOUT = 10.0


async def start_server(container: Container, port_explicit: bool) -> Any:
    """Start the selected server; when the port was not set and is busy, try the next ones.

    Returns the running server (it has `port` and `stop()`).
    """
    bind: BindSettings = container.bind()
    for attempt in range(PORT_RETRIES + 1):
        server = container.web_server(bind=bind)
        try:
            await server.start()
        except OSError as error:
            bind = next_port_when_busy(error, bind, port_explicit, attempt)
            continue
        return server
    raise AssertionError("unreachable")


def next_port_when_busy(
    error: OSError, bind: BindSettings, port_explicit: bool, attempt: int
) -> BindSettings:
    """Streamlit's rule for a busy port: a port the user did not choose moves to the next
    one, up to PORT_RETRIES times; anything else re-raises `error`. One process and the
    workers' supervisor both bind through it."""
    busy = error.errno in (errno.EADDRINUSE, errno.EACCES)
    if not busy or port_explicit or bind.unix_socket or attempt == PORT_RETRIES:
        raise error
    log.info("port %d is busy, trying %d", bind.port, bind.port + 1)
    return replace(bind, port=bind.port + 1)


def display_urls(
    bind: BindSettings,
    port: int | None,
    base_path: str,
    explicit: Mapping[str, Any] | None = None,
    network_address: Callable[[], str | None] | None = None,
) -> list[str]:
    """The lines that tell a person where the app is, in Streamlit's words and order.

    explicit: the options set explicitly; `browser.serverAddress` (the address people
        use) and `browser.serverPort` change the URL shown, as in Streamlit.
    network_address: this machine's LAN address (`network_ipv4` unless a test says).

    A wildcard address gives a Local and a Network URL. The External URL Streamlit adds
    is left out: Streamlit finds it by asking a web service (checkip.amazonaws.com) at
    every start, and hexlit makes no call to the Internet on its own. Set
    `browser.serverAddress` to the public name and that is the URL shown.
    """
    explicit = explicit or {}
    scheme = "https" if bind.tls_cert else "http"
    shown_port = explicit.get("browser.serverPort") or port

    def url(host: str) -> str:
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{shown_port}{base_path}"

    if explicit.get("browser.serverAddress"):
        return [f"URL: {url(str(explicit['browser.serverAddress']))}"]
    if bind.unix_socket:
        return [f"Unix Socket: unix://{bind.unix_socket}"]
    if bind.host not in ("", "0.0.0.0", "::"):
        return [f"URL: {url(bind.host)}"]
    lines = [f"Local URL: {url('localhost')}"]
    network = (network_address or network_ipv4)()
    if network:
        lines.append(f"Network URL: {url(network)}")
    return lines


def network_ipv4() -> str | None:
    """This machine's address on its network, or None (no route, or only loopback).

    `connect` on a UDP socket only picks the outgoing interface: no packet is sent, and
    the address (from the documentation range, RFC 5737) is never reached.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


async def serve(container: Container, port_explicit: bool, worker: bool = False) -> int:
    """Serve until a stop signal; returns the process exit code.

    The signals are taken from the first moment: one that comes while the server starts
    lets the start finish (it is bounded), then stops it in the same order as ever.

    worker: one of several workers (composition/workers.py): the supervisor prints the
    banner, and a stop drains the sessions first, so their snapshots hand them on.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    server = await start_server(container, port_explicit)
    if worker:
        await stop.wait()
        return await stop_server(container, server, drain=True)
    bind: BindSettings = container.bind()
    urls = display_urls(
        bind, server.port, container.web_settings().base_path, container.config.explicit()
    )
    print("\n  You can now view your app in your browser.\n", flush=True)
    for line in urls:
        print(f"  {line}", flush=True)
    stack = container.config.hexlit.web()
    on_uvloop = type(asyncio.get_running_loop()).__module__.startswith("uvloop")
    engine = "uvloop" if on_uvloop else "asyncio"
    if stack == "starlette":
        engine += f", {container.web_settings().http_parser}"
    print(f"\n  Served by hexlit on {stack} ({engine}). Press Ctrl+C to stop.\n", flush=True)

    await stop.wait()
    print("  Stopping...", flush=True)
    # With snapshots, a stop hands the sessions on (503 "server is draining", a snapshot
    # of each, close with 1012) so their browsers continue on a replica or after the
    # restart; without, it closes with 1001 as `streamlit run` does.
    return await stop_server(container, server, drain=container.snapshots() is not None)


async def stop_server(container: Container, server: Any, drain: bool = False) -> int:
    """Stop in a fixed order, bounded by SHUTDOWN_TIMEOUT; `drain` first hands every
    session on (snapshot, close with 1012) before the sessions stop.

    The sessions stop before the server, so each socket closes with 1001 as under
    `streamlit run` (uvicorn would close them with 1012). The server's stop hook then
    releases the resources (`shutdown_resources`: the session core, whose stop is
    idempotent, the stores, the Redis connections); they are released here too, a no-op
    then, in case a server stopped without running its hook.
    """
    try:
        async with asyncio.timeout(SHUTDOWN_TIMEOUT):
            if drain:
                await container.sessions().drain()
            with releasing("the session core"):
                await container.sessions().stop()
            await server.stop()
            await shutdown_resources(container)
    except TimeoutError:
        log.warning("shutdown took longer than %.0f s; exiting anyway", SHUTDOWN_TIMEOUT)
    return 0
