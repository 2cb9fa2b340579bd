"""`st.App` in Chromium: a page, a custom JSON route and a middleware header, under a base
path (issue 12.3).

`hexlit run app.py` where app.py holds `app = st.App("page.py", routes=[...],
middleware=[...])`, with `--server.baseUrlPath /base`: the page renders at `/base/` over
hexlit's WebSocket, the App's route answers at its own path (`/api/hello`, as Streamlit
1.67 does: an App's routes are not under the base path), and the App's middleware stamps
every response, hexlit's included. Tornado refuses such a script at start (tested in
tests/conformance/test_app_objects.py), so this runs on Starlette (and on `streamlit`,
the suite's reference, with HEXLIT_E2E_STACKS=streamlit).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import selected_stacks
from tests.e2e.harness import AppServer
from tests.e2e.pages import TIMEOUT
from tests.support.net import free_port

HEADING = "Page of an st.App"

PAGE = f"import streamlit as st\n\nst.title({HEADING!r})\n"

APP = """\
import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route


class Stamp(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        response = await call_next(request)
        response.headers["X-Stamp"] = "st.App middleware"
        return response


async def hello(request):
    return JSONResponse({"hello": "from a custom route"})


app = st.App("page.py", routes=[Route("/api/hello", hello)], middleware=[Middleware(Stamp)])
"""

BASE = "/base"


class BasePathServer(AppServer):
    """The app served under `BASE`: its URL, and the health probe it waits for, are there."""

    @property
    def url(self) -> str:
        return super().url + BASE

    @property
    def origin(self) -> str:
        return super().url


@pytest.mark.parametrize("asgi_stack", [s for s in selected_stacks() if s != "tornado"])
def test_an_st_app_under_a_base_path_in_chromium(
    asgi_stack: str, context: BrowserContext, tmp_path: Path
) -> None:
    folder = tmp_path / "st_app"
    folder.mkdir()
    (folder / "page.py").write_text(PAGE)
    (folder / "app.py").write_text(APP)
    server = BasePathServer(
        asgi_stack,
        free_port(),
        tmp_path,
        app=folder / "app.py",
        extra=["--server.baseUrlPath", BASE],
    )
    server.start()
    try:
        page = context.new_page()
        document = page.goto(server.url + "/")
        assert document is not None
        assert document.headers["x-stamp"] == "st.App middleware"
        expect(page.get_by_role("heading", name=HEADING)).to_be_visible(timeout=TIMEOUT)
        answer = page.evaluate(
            """async (url) => {
                const response = await fetch(url);
                return {status: response.status, stamp: response.headers.get("x-stamp"),
                        body: await response.json()};
            }""",
            server.origin + "/api/hello",
        )
        assert answer == {
            "status": 200,
            "stamp": "st.App middleware",
            "body": {"hello": "from a custom route"},
        }
    finally:
        server.stop()
