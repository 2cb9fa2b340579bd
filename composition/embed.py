"""The embedding API: hexlit's web app for your own server.

    from hexlit.composition.embed import create_asgi_app
    app = create_asgi_app("builtin:counter")
    # uvicorn --factory, or Mount("/st", app=app) in Starlette/FastAPI (the mount point
    # is the prefix then: leave server.baseUrlPath unset, or the prefixes add up)

    from hexlit.composition.embed import create_tornado_app
    app = create_tornado_app("builtin:counter")
    await app.start(); app.listen(8501)   # ... later: await app.stop()

Options are the same names as everywhere else (`server.*`, `hexlit.*`), typed values;
`.streamlit/config.toml` and the environment are read as for `hexlit run`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hexlit.composition.container import build_container
from hexlit.composition.settings import load_config


def create_asgi_app(app: str = "builtin:counter", options: Mapping[str, Any] | None = None) -> Any:
    """A Starlette (ASGI) application serving `app`; its lifespan runs the core."""
    config = load_config(overrides={**(options or {}), "hexlit.web": "starlette"})
    return build_container(config, app).web_app()


def create_tornado_app(
    app: str = "builtin:counter", options: Mapping[str, Any] | None = None
) -> Any:
    """A `tornado.web.Application` serving `app`; `await app.start()` before serving."""
    config = load_config(overrides={**(options or {}), "hexlit.web": "tornado"})
    return build_container(config, app).web_app()
