"""A real hexlit server for tests: built by the composition root, on a loopback port.

Each server runs in its own thread with its own event loop, so a test drives it with
ordinary blocking clients (httpx, websockets.sync) exactly as a browser would, over real
sockets. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import uvloop

from hexlit.composition.container import Container, build_container
from hexlit.composition.serve import start_server, stop_server
from hexlit.composition.settings import load_config

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


SPEED = "+speed"
"""`starlette+speed`: the Starlette stack on uvloop and httptools (the `speed` extra);
plain `starlette` pins h11 and asyncio's loop, so both paths are tested."""


class ServerUnderTest:
    """`with ServerUnderTest("tornado", options) as server: server.url("/_stcore/health")`."""

    def __init__(
        self,
        stack: str,
        options: Mapping[str, Any] | None = None,
        app: str = "builtin:counter",
        workdir: Path | None = None,
    ) -> None:
        self.stack = stack
        web = stack.removesuffix(SPEED)
        overrides = {
            "server.address": "127.0.0.1",
            "server.port": 0,
            "hexlit.http": "httptools" if stack.endswith(SPEED) else "h11",
            **(options or {}),
            "hexlit.web": web,
        }
        home = workdir or Path("/nonexistent-hexlit-test-home")
        config = load_config(environ={}, cwd=home, home=home, overrides=overrides)
        self.container: Container = build_container(config, app)
        self.loop = uvloop.new_event_loop() if stack.endswith(SPEED) else asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name=f"hexlit-{stack}", daemon=True
        )
        self._server: Any = None
        self.port = 0

    def __enter__(self) -> ServerUnderTest:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        self._server = self.call(start_server(self.container, port_explicit=True), START_TIMEOUT)
        self.port = self._server.port

    def stop(self) -> None:
        """Stop as `hexlit run` does (sessions, server, then the container's
        `shutdown_resources` releases the stores and the Redis connections: a Redis client
        left open is a ResourceWarning, and on uvloop a `loop.close()` that hangs while
        warnings are errors), then end the loop's thread."""
        if self._server is not None:
            server, self._server = self._server, None
            self.call(stop_server(self.container, server), STOP_TIMEOUT)
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(STOP_TIMEOUT)
        if not self._thread.is_alive():
            self.loop.close()

    def call(self, coroutine: Any, timeout: float = 10.0) -> Any:
        """Run `coroutine` on the server's loop and wait for its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    @property
    def base_path(self) -> str:
        return str(self.container.web_settings().base_path)

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def ws_url(self, path: str = "/_stcore/stream") -> str:
        return self.url(self.base_path + path, scheme="ws")
