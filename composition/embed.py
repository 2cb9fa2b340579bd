"""The embedding API: hexlit's web app for your own server.

    from hexlit.composition.embed import create_asgi_app
    app = create_asgi_app("dashboard.py")          # a Streamlit script, or "builtin:counter"
    # uvicorn --factory, or Mount("/st", app=app) in Starlette/FastAPI (the mount point
    # is the prefix then: leave server.baseUrlPath unset, or the prefixes add up)

    from hexlit.composition.embed import create_tornado_app
    app = create_tornado_app("builtin:counter")
    await app.start(); app.listen(8501)   # ... later: await app.stop()

Options are the same names as everywhere else (`server.*`, `hexlit.*`), typed values;
`.streamlit/config.toml` (home, working directory, the app's folder) and the environment
are read as for `hexlit run`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dependency_injector import providers

from hexlit.composition.builders import BUILTIN_PREFIX
from hexlit.composition.container import Container, build_container
from hexlit.composition.serve import release_stores
from hexlit.composition.settings import LoadedConfig, load_config
from hexlit.ports.lifecycle import Lifecycle

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from hexlit.adapters.web.tornado.app import HexlitApplication


def create_asgi_app(
    app: str = "builtin:counter", options: Mapping[str, Any] | None = None
) -> Starlette:
    """A Starlette (ASGI) application serving `app`; its lifespan runs the core and, at
    its end, releases the stores.

    `app` is what `hexlit run` takes: a built-in app or a Streamlit script, including one
    holding `st.App(...)` (its routes, middleware and lifespan come with it).
    """
    config = _config(app, options, "starlette")
    web_app: Starlette = _embedded_app(build_container(config, app))
    return web_app


def create_tornado_app(
    app: str = "builtin:counter", options: Mapping[str, Any] | None = None
) -> HexlitApplication:
    """A `tornado.web.Application` serving `app`; `await app.start()` before serving,
    `await app.stop()` after (it also releases the stores)."""
    config = _config(app, options, "tornado")
    web_app: HexlitApplication = _embedded_app(build_container(config, app))
    return web_app


def _config(app: str, options: Mapping[str, Any] | None, web: str) -> LoadedConfig:
    """The configuration `hexlit run app` would read (the home, working directory and
    app folder's `.streamlit/config.toml`, the environment), `options` winning."""
    script_dir = None if app.startswith(BUILTIN_PREFIX) else Path(app).resolve().parent
    return load_config(overrides={**(options or {}), "hexlit.web": web}, script_dir=script_dir)


class StoresReleasedOnStop:
    """Implements `Lifecycle`: the core's, then the stores released, as `hexlit run` does.

    An embedded app has no `serve` around it to release what the stores hold (a folder
    store's folder, a Redis store's connections), so the app's own stop hook (the ASGI
    lifespan's end, Tornado's `app.stop()`) does it.
    """

    def __init__(self, core: Lifecycle, container: Container) -> None:
        self._core = core
        self._container = container

    async def start(self) -> None:
        await self._core.start()

    async def stop(self) -> None:
        try:
            await self._core.stop()
        finally:
            await release_stores(self._container)


def _embedded_app(container: Container) -> Any:
    use_cases = container.use_cases()
    lifecycle = StoresReleasedOnStop(use_cases.lifecycle, container)
    container.use_cases.override(providers.Object(replace(use_cases, lifecycle=lifecycle)))
    return container.web_app()
