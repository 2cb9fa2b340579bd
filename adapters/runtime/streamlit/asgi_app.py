"""`st.App` and ASGI apps that mount it, found in a script as `streamlit run` 1.67 finds them.

`streamlit run app.py` looks (without running it) for `app = st.App(...)`, or a
Starlette/FastAPI app, and then serves that object with uvicorn. hexlit finds it with
Streamlit's own finder (`discover_asgi_app`), imports the script, and hands what the
object holds to the composition root, which serves the App's page through hexlit's core
and the App's own routes, middleware, lifespan and exception handlers around it.

An `st.App` keeps what it was given in private attributes; the ones read here are
pinned by `tests/contracts/test_streamlit_app_object.py`, so a Streamlit release that
renames one fails a test rather than a user.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamlit import config as streamlit_config
from streamlit.runtime import Runtime
from streamlit.web.server.app_discovery import discover_asgi_app
from streamlit.web.server.starlette.starlette_app import App

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


class AppObjectError(Exception):
    """The script holds an ASGI app hexlit cannot serve; the message says why."""


@dataclass(frozen=True)
class ScriptHooks:
    """What an `st.App` adds to its page's runtime: `on_script_error` and `secrets`."""

    on_script_error: Callable[[Exception], bool | None] | None = None
    secrets: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class FoundApp:
    """An ASGI app found in a script.

    page: the Streamlit script hexlit's runtime runs (the App's `script_path`).
    st_app: the `st.App` instance. outer: the Starlette/FastAPI app that mounts it, when
    the script's app is one (None when the script's app is the `st.App` itself).
    """

    page: Path
    hooks: ScriptHooks
    st_app: App
    routes: Sequence[Any]
    middleware: Sequence[Any]
    lifespan: Lifespan | None
    exception_handlers: Mapping[Any, Any]
    debug: bool
    outer: Any = None


def find_app(script: Path) -> FoundApp | None:
    """The ASGI app `streamlit run script` would serve, or None for a plain script."""
    discovered = discover_asgi_app(script)
    if not discovered.is_asgi_app or discovered.app_name is None:
        return None
    module = _import_script(script)
    name = discovered.app_name
    found = getattr(module, name, None)
    if isinstance(found, App):
        return _describe(found, script)
    mounted = _mounted_apps(found)
    if len(mounted) != 1:
        what = "no st.App" if not mounted else f"{len(mounted)} st.App instances"
        raise AppObjectError(
            f"{script}: `{name}` mounts {what}; hexlit serves an ASGI app that mounts "
            "exactly one st.App (run an app without Streamlit with uvicorn)"
        )
    _drop_runtime(mounted[0])
    return _describe(mounted[0], script, outer=found)


def _drop_runtime(st_app: App) -> None:
    """Drop the Streamlit `Runtime` that `st_app.lifespan()` made at import: hexlit's
    runtime adapter makes the process's one `Runtime` (Streamlit allows one)."""
    if st_app._runtime is not None:
        st_app._runtime = None
        Runtime._instance = None


def hand_over(found: FoundApp, serve: Any, with_app: Lifespan, core: Lifespan) -> None:
    """Make the mounted `st.App` answer with `serve` (hexlit's ASGI app for its page),
    and the outer app's lifespan start hexlit's core.

    with_app: the core, then the App's own lifespan; it replaces the outer lifespan when
        that was `st_app.lifespan()` (FastAPI(lifespan=st_app.lifespan()), Streamlit's
        documented way). core: the core alone, run around any other outer lifespan (an
        App mounted without `lifespan()`: Streamlit skips the App's lifespan then).

    The App's `__call__` serves its built Starlette app once it has one, so handing it
    hexlit's keeps every way the user mounted it (`Mount`, `app.mount`, middleware around
    it).
    """
    st_app = found.st_app
    st_app._starlette_app = serve
    router = found.outer.router
    current = router.lifespan_context
    if getattr(current, "__self__", None) is st_app:  # FastAPI(lifespan=st_app.lifespan())
        router.lifespan_context = with_app
    else:
        router.lifespan_context = _nested(core, current)


def keep_state(found: FoundApp, state: Mapping[str, Any] | None) -> None:
    """What the App's lifespan yielded becomes `st_app.state`, as in Streamlit."""
    if state:
        found.st_app._state.update(state)


def _nested(outer: Lifespan, inner: Lifespan) -> Lifespan:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def both(app: Any) -> Any:
        async with outer(app), inner(app) as state:
            yield state

    return both


def _describe(st_app: App, script: Path, outer: Any = None) -> FoundApp:
    page = Path(st_app.script_path)
    if not page.is_absolute():  # as `streamlit run`: relative to the main script
        page = script.resolve().parent / page
    return FoundApp(
        page=page,
        hooks=ScriptHooks(st_app._on_script_error, st_app._programmatic_secrets),
        st_app=st_app,
        routes=tuple(st_app._user_routes),
        middleware=tuple(st_app._user_middleware),
        lifespan=st_app._user_lifespan,
        exception_handlers=dict(st_app._exception_handlers),
        debug=st_app._debug,
        outer=outer,
    )


def _mounted_apps(app: Any, depth: int = 0) -> list[App]:
    """Every `st.App` the app's routes mount, however deep."""
    found: list[App] = []
    if depth > 20:
        return found
    for route in getattr(app, "routes", None) or ():
        mounted = getattr(route, "_base_app", None) or getattr(route, "app", None)
        if isinstance(mounted, App):
            found.append(mounted)
        elif mounted is not None:
            found += _mounted_apps(mounted, depth + 1)
    return found


def _import_script(script: Path) -> Any:
    """Import the script as `streamlit run` does: it is Streamlit's main script (an
    `st.App`'s relative page path is read from its folder), its folder is on `sys.path`,
    its stem is the module name (a fresh module each time, so one process can load several).
    """
    streamlit_config._main_script_path = str(script.resolve())
    folder = str(script.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(script.stem, script)
    if spec is None or spec.loader is None:
        raise AppObjectError(f"{script}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[script.stem] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # e.g. st.App refusing a route under a reserved prefix
        raise AppObjectError(f"{script}: {type(error).__name__}: {error}") from None
    return module
