"""Serving a script that holds an ASGI app, as `streamlit run` 1.67 does.

`streamlit run app.py` serves `app = st.App("page.py", routes=..., middleware=...,
lifespan=..., exception_handlers=...)`, or a Starlette/FastAPI app mounting such an
`st.App`, instead of running `app.py` as a page. hexlit does the same on the Starlette
stack: the page runs in hexlit's core (every route of hexlit's, with its rules), and the
App's own routes, middleware, lifespan and exception handlers are served around it, as
Streamlit serves them around its own routes. Tornado cannot run ASGI routes or
middleware, so there such a script stops hexlit at start with exit 2
(docs/streamlit-differences.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dependency_injector import providers

from hexlit.composition.builders import build_starlette_app, runtime_kind
from hexlit.composition.settings import ConfigError, LoadedConfig

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from hexlit.adapters.runtime.streamlit.asgi_app import FoundApp
    from hexlit.composition.container import Container
    from hexlit.ports.status import ServerStatus


def find_app_object(config: LoadedConfig, app: str) -> FoundApp | None:
    """The ASGI app `app` (a script) holds, or None: a plain script, a built-in app.

    Raises `ConfigError` for an ASGI app hexlit cannot serve, and for any on Tornado.
    """
    if runtime_kind(app, str(config["hexlit.runtime"])) != "streamlit":
        return None
    if not Path(app).is_file() or Path(app).suffix not in (".py", ".pyw"):
        return None  # the script checks say what is wrong, at build time
    try:
        from hexlit.adapters.runtime.streamlit.asgi_app import AppObjectError, find_app
    except ImportError:
        return None  # the runtime's builder says Streamlit is needed
    try:
        found = find_app(Path(app))
    except AppObjectError as error:
        raise ConfigError(str(error)) from None
    except SyntaxError:
        return None  # said with file and line by the script checks
    if found is not None and config["hexlit.web"] == "tornado":
        raise ConfigError(
            f"{app} holds an ASGI app (st.App or Starlette/FastAPI): its routes, middleware "
            "and lifespan are ASGI, which the Tornado stack cannot serve; use --web starlette"
        )
    return found


def serve_app_object(container: Container, found: FoundApp) -> None:
    """Point the container's web app at the App (or the app mounting it), with hexlit's
    Starlette app for the page inside, and the App's script hooks at the runtime."""
    container.script_hooks.override(providers.Object(found.hooks))
    hexlit_app = providers.Singleton(
        build_starlette_app, container.use_cases, container.web_settings
    )
    container.web_app.override(
        providers.Singleton(_composed, found, hexlit_app, container.use_cases.provided.status)
    )


def _composed(found: FoundApp, hexlit_app: Starlette, status: ServerStatus) -> Starlette:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Mount

    from hexlit.adapters.runtime.streamlit.asgi_app import hand_over, keep_state
    from hexlit.adapters.web.starlette.app import HostCheck

    @contextlib.asynccontextmanager
    async def core(_: Any) -> AsyncIterator[None]:
        async with hexlit_app.router.lifespan_context(hexlit_app):
            yield

    @contextlib.asynccontextmanager
    async def core_and_app(_: Any) -> AsyncIterator[None]:
        """hexlit's core first, then the App's lifespan (it gets the App, as in
        Streamlit, and what it yields becomes `app.state`)."""
        async with core(_):
            if found.lifespan is None:
                yield
            else:
                async with found.lifespan(found.st_app) as state:
                    keep_state(found, state)
                    yield

    if found.outer is not None:
        hand_over(found, hexlit_app, core_and_app, core)
        outer: Starlette = found.outer
        outer.add_middleware(HostCheck, status=status)  # the core's Host rule, everywhere
        return outer
    return Starlette(
        debug=found.debug,
        # The App's routes first, as Streamlit orders them; hexlit's answer the rest.
        routes=[*found.routes, Mount("", app=hexlit_app)],
        # The App's middleware wraps everything, as in Streamlit; the Host rule is first.
        middleware=[Middleware(HostCheck, status=status), *found.middleware],
        exception_handlers=dict(found.exception_handlers),
        lifespan=core_and_app,
    )
