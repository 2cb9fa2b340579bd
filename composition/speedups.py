"""Optional speed-ups, used when installed (`pip install "hexlit[speed]"`), as uvicorn does.

`hexlit.loop` picks the event loop: "auto" (the default) runs on uvloop when it can be
imported and on the standard library's asyncio loop otherwise. `hexlit.http` picks the
HTTP/1.1 parser of the Starlette stack: "auto" takes httptools when it can be imported,
else h11. Naming one explicitly that is not installed is a configuration error, not a
silent fallback. What each buys on this machine is in docs/performance.md.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from collections.abc import Callable

from hexlit.composition.settings import ConfigError

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def event_loop_factory(choice: str) -> LoopFactory | None:
    """The loop factory for `asyncio.Runner`; None means asyncio's own loop."""
    if choice == "asyncio" or (choice == "auto" and not _installed("uvloop")):
        return None
    if not _installed("uvloop"):
        raise ConfigError('hexlit.loop = "uvloop" but uvloop is not installed')
    factory: LoopFactory = importlib.import_module("uvloop").new_event_loop
    return factory


def http_parser(choice: str) -> str:
    """The uvicorn `http` implementation: "h11" or "httptools"."""
    if choice == "h11" or (choice == "auto" and not _installed("httptools")):
        return "h11"
    if not _installed("httptools"):
        raise ConfigError('hexlit.http = "httptools" but httptools is not installed')
    return "httptools"
