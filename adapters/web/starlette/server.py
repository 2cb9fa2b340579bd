"""Serving the ASGI app with uvicorn on a socket we bind ourselves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

from hexlit.adapters.web.request_head import MAX_HEAD_BYTES
from hexlit.adapters.web.settings import BindSettings, WebSettings
from hexlit.adapters.web.sockets import bind_socket, bound_port
from hexlit.adapters.web.starlette.uvicorn_http import guarded_protocol
from hexlit.adapters.web.starlette.uvicorn_ws import HandshakeSafeWebSocketProtocol

STARTUP_TIMEOUT = 30.0


class _QuietSignals(uvicorn.Server):
    """uvicorn without its own signal handlers: hexlit's CLI owns shutdown order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class UvicornServer:
    """A running uvicorn serving one ASGI app; `start` returns once it listens."""

    def __init__(self, app: ASGIApp, web: WebSettings, bind: BindSettings) -> None:
        self._config = uvicorn.Config(
            app,
            lifespan="on",
            http=guarded_protocol(web),
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            timeout_keep_alive=web.idle_timeout,  # type: ignore[arg-type]  # float works
            server_header=False,
            ws=HandshakeSafeWebSocketProtocol,
            ws_max_size=web.max_message_bytes,
            ws_ping_interval=web.ping_interval,
            ws_ping_timeout=web.ping_interval,
            ws_per_message_deflate=web.websocket_compression,
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=5,
            ssl_certfile=bind.tls_cert,
            ssl_keyfile=bind.tls_key,
        )
        self._bind = bind
        self._server = _QuietSignals(self._config)
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int | None:
        return bound_port(self._socket) if self._socket else None

    async def start(self) -> None:
        if not self._config.loaded:
            self._config.load()  # reads the TLS files: fail before binding, not in serve()
        # No access log (URLs carry login codes and tokens), even if an app's logging
        # set-up (Streamlit's does) gave uvicorn's access logger handlers again; the HTTP
        # protocol never logs access either (uvicorn_http.py), from the first request.
        logging.getLogger("uvicorn.access").disabled = True
        self._socket = bind_socket(self._bind)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        async with asyncio.timeout(STARTUP_TIMEOUT):
            while not self._server.started:
                if self._task.done():
                    self._task.result()
                    raise RuntimeError("uvicorn exited during start-up")
                await asyncio.sleep(0.01)
        logging.getLogger("uvicorn.access").disabled = True  # again, after the app's set-up

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        if self._socket is not None:
            self._socket.close()
