"""Builders the container's selectors point at.

Each imports its framework inside its body, so choosing one web stack (or runtime)
never imports the other.
"""

from __future__ import annotations

from typing import Any

from hexlit.adapters.web.settings import BindSettings, WebSettings
from hexlit.composition.settings import ConfigError
from hexlit.ports.lifecycle import Lifecycle
from hexlit.ports.runtime import AppRuntime
from hexlit.ports.sessions import Sessions
from hexlit.ports.status import ServerStatus

BUILTIN_PREFIX = "builtin:"


def runtime_kind(app: str, configured: str) -> str:
    """`hexlit.runtime = "auto"` means: the built-in runtime for `builtin:NAME` apps."""
    if configured != "auto":
        return configured
    return "builtin" if app.startswith(BUILTIN_PREFIX) else "streamlit"


def build_builtin_runtime(app: str) -> AppRuntime:
    from hexlit.adapters.runtime.builtin import APPS, BuiltinRuntime

    name = app.removeprefix(BUILTIN_PREFIX) or "counter"
    if name not in APPS:
        raise ConfigError(
            f"unknown built-in app {app!r}; choose one of builtin:{', builtin:'.join(APPS)}"
        )
    return BuiltinRuntime(name)


def build_streamlit_runtime(app: str) -> AppRuntime:
    raise ConfigError(
        f"cannot serve {app!r}: the Streamlit runtime adapter is not part of this build yet; "
        "serve a built-in app such as builtin:counter"
    )


def build_starlette_app(
    sessions: Sessions, status: ServerStatus, lifecycle: Lifecycle, web: WebSettings
) -> Any:
    from hexlit.adapters.web.starlette.app import create_app

    return create_app(sessions, status, lifecycle, web)


def build_tornado_app(
    sessions: Sessions, status: ServerStatus, lifecycle: Lifecycle, web: WebSettings
) -> Any:
    from hexlit.adapters.web.tornado.app import create_app

    return create_app(sessions, status, lifecycle, web)


def build_uvicorn_server(app: Any, web: WebSettings, bind: BindSettings, max_body: int) -> Any:
    from hexlit.adapters.web.starlette.server import UvicornServer

    return UvicornServer(app, web, bind)


def build_tornado_server(app: Any, web: WebSettings, bind: BindSettings, max_body: int) -> Any:
    from hexlit.adapters.web.tornado.server import TornadoServer

    return TornadoServer(app, bind, max_body)
