"""Pins on the `st.App` internals hexlit reads (adapters/runtime/streamlit/asgi_app.py).

A pin fails when Streamlit renames or changes what an `st.App` keeps of its arguments,
so a new Streamlit release breaks a test here rather than a user's `hexlit run`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from streamlit.runtime import Runtime

from hexlit.adapters.runtime.streamlit.asgi_app import find_app


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    yield


async def endpoint(request: Any) -> PlainTextResponse:
    return PlainTextResponse("x")


def on_error(exc: Exception) -> bool:
    return True


def test_an_st_app_keeps_what_hexlit_reads(tmp_path: Path) -> None:
    route, middleware = Route("/api/x", endpoint), Middleware(GZipMiddleware)
    app = st.App(
        tmp_path / "page.py",
        routes=[route],
        middleware=[middleware],
        lifespan=lifespan,
        exception_handlers={KeyError: endpoint},
        on_script_error=on_error,
        secrets={"db": {"host": "h"}},
        debug=True,
    )
    assert app._user_routes == [route]
    assert app._user_middleware == [middleware]
    assert app._user_lifespan is lifespan
    assert app._exception_handlers == {KeyError: endpoint}
    assert app._on_script_error is on_error
    assert app._programmatic_secrets == {"db": {"host": "h"}}
    assert app._debug is True
    assert app._state == {}
    assert app.script_path == tmp_path / "page.py"


def test_lifespan_makes_the_runtime_and_a_built_app_is_what_it_serves(tmp_path: Path) -> None:
    """`find_app` and `hand_over` rely on: `lifespan()` making the process's one
    `Runtime` in `_runtime`, the outer lifespan being that bound method, and `__call__`
    serving `_starlette_app` once it is set (None until the first request)."""
    (tmp_path / "page.py").write_text("import streamlit as st\n")
    dashboard = st.App(tmp_path / "page.py")
    try:
        lifespan_of_app = dashboard.lifespan()
        assert dashboard._runtime is not None
        assert Runtime._instance is dashboard._runtime
        assert getattr(lifespan_of_app, "__self__", None) is dashboard
        assert dashboard._starlette_app is None
    finally:
        Runtime._instance = None


def test_find_app_leaves_no_streamlit_runtime_behind(tmp_path: Path) -> None:
    (tmp_path / "page.py").write_text("import streamlit as st\n")
    script = tmp_path / "outer.py"
    script.write_text(
        "import streamlit as st\n"
        "from starlette.applications import Starlette\n"
        "from starlette.routing import Mount\n"
        "dashboard = st.App('page.py')\n"
        "app = Starlette(routes=[Mount('/d', app=dashboard)], lifespan=dashboard.lifespan())\n"
    )
    found = find_app(script)
    assert found is not None
    assert found.outer is not None
    assert found.page == tmp_path / "page.py"
    assert Runtime._instance is None
