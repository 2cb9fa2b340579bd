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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hexlit.composition.builders import BUILTIN_PREFIX
from hexlit.composition.container import build_container
from hexlit.composition.settings import LoadedConfig, load_config

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from hexlit.adapters.web.tornado.app import HexlitApplication


def create_asgi_app(
    app: str = "builtin:counter", options: Mapping[str, Any] | None = None
) -> Starlette:
    """A Starlette (ASGI) application serving `app`; its lifespan starts the container's
    resources (the session core, the stores) and, at its end, releases them.

    `app` is what `hexlit run` takes: a built-in app or a Streamlit script, including one
    holding `st.App(...)` (its routes, middleware and lifespan come with it).
    """
    config = _config(app, options, "starlette")
    web_app: Starlette = build_container(config, app).web_app()
    return web_app


def create_tornado_app(
    app: str = "builtin:counter", options: Mapping[str, Any] | None = None
) -> HexlitApplication:
    """A `tornado.web.Application` serving `app`; `await app.start()` before serving,
    `await app.stop()` after (it releases the stores and the Redis connections too)."""
    config = _config(app, options, "tornado")
    web_app: HexlitApplication = build_container(config, app).web_app()
    return web_app


def _config(app: str, options: Mapping[str, Any] | None, web: str) -> LoadedConfig:
    """The configuration `hexlit run app` would read (the home, working directory and
    app folder's `.streamlit/config.toml`, the environment), `options` winning."""
    script_dir = None if app.startswith(BUILTIN_PREFIX) else Path(app).resolve().parent
    return load_config(overrides={**(options or {}), "hexlit.web": web}, script_dir=script_dir)
