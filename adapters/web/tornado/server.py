"""Serving the Tornado application on a socket we bind ourselves."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from tornado.httpserver import HTTPServer

from hexlit.adapters.web.settings import BindSettings
from hexlit.adapters.web.sockets import bind_socket, bound_port, tls_context
from hexlit.adapters.web.tornado.app import HexlitApplication

CLOSE_TIMEOUT = 5.0
BUFFERED_BODY_LIMIT = 1024 * 1024
"""Tornado buffers request bodies whole: 1 MiB for every route but uploads, which stream
(and raise the cap for themselves, bounded by the upload rules instead)."""


class TornadoServer:
    """A running Tornado `HTTPServer`; `start` returns once it listens and the core runs."""

    def __init__(self, app: HexlitApplication, bind: BindSettings) -> None:
        self._app = app
        self._bind = bind
        self._server = HTTPServer(
            app, max_body_size=BUFFERED_BODY_LIMIT, xheaders=False, ssl_options=tls_context(bind)
        )
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int | None:
        return bound_port(self._socket) if self._socket else None

    async def start(self) -> None:
        self._socket = bind_socket(self._bind)
        await self._app.start()
        self._server.add_sockets([self._socket])

    async def stop(self) -> None:
        self._server.stop()
        await self._app.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.close_all_connections(), CLOSE_TIMEOUT)
