"""A script holding `st.App(...)`, or a Starlette app mounting one, served as
`streamlit run` 1.67 serves it: on Starlette with the App's routes, middleware, lifespan
and exception handlers around hexlit's; on Tornado refused at start (exit 2)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hexlit.composition.cli import main
from hexlit.composition.settings import ConfigError
from tests.conformance.test_session_snapshots import forward_messages, rerun_frame
from tests.conformance.test_stream import XSRF_LIKE_TOKEN, stream
from tests.support.server import ServerUnderTest

TIMEOUT = 10.0

PAGE = 'import streamlit as st\n\nst.write("hello from the page")\n'

ST_APP = """\
import contextlib
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

LOG = Path(__file__).with_name("lifespan.log")


class Stamp(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        response = await call_next(request)
        response.headers["X-Stamp"] = "from the App's middleware"
        return response


@contextlib.asynccontextmanager
async def lifespan(app):
    LOG.write_text("start\\n")
    yield {"model": "loaded"}
    with LOG.open("a") as log:
        log.write("stop\\n")


async def hello(request):
    return JSONResponse({"hello": "world", "model": app.state.get("model")})


async def boom(request):
    raise KeyError("nope")


async def on_key_error(request, exc):
    return PlainTextResponse("handled by the App", status_code=418)


app = st.App(
    "page.py",
    routes=[Route("/api/hello", hello), Route("/api/boom", boom)],
    middleware=[Middleware(Stamp)],
    lifespan=lifespan,
    exception_handlers={KeyError: on_key_error},
)
"""

MOUNTING = """\
import streamlit as st
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

dashboard = st.App("page.py")


async def api(request):
    return JSONResponse({"api": True})


app = Starlette(
    routes=[Route("/api", api), Mount("/dashboard", app=dashboard)],
    lifespan=LIFESPAN,
)
"""


def write_app(folder: Path, source: str) -> Path:
    (folder / "page.py").write_text(PAGE)
    script = folder / "app.py"
    script.write_text(source)
    return script


def refused_on_tornado(stack: str, make: Callable[[], object]) -> bool:
    """On Tornado the script stops start-up with a ConfigError naming the limitation."""
    if stack != "tornado":
        return False
    with pytest.raises(ConfigError, match="Tornado stack cannot serve"):
        make()
    return True


def test_an_st_app_is_served_with_its_routes_middleware_lifespan_and_handlers(
    stack: str, make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    script = write_app(tmp_path, ST_APP)
    options = {"server.baseUrlPath": "/base", "server.scriptHealthCheckEnabled": True}
    if refused_on_tornado(stack, lambda: make_server(options, app=str(script))):
        return
    running = make_server(options, app=str(script))
    hello = httpx.get(running.url("/api/hello"), timeout=TIMEOUT)
    assert hello.json() == {"hello": "world", "model": "loaded"}  # the lifespan's state
    assert hello.headers["x-stamp"] == "from the App's middleware"
    boom = httpx.get(running.url("/api/boom"), timeout=TIMEOUT)
    assert (boom.status_code, boom.text) == (418, "handled by the App")
    health = httpx.get(running.url("/base/_stcore/health"), timeout=TIMEOUT)
    assert (health.status_code, health.text) == (200, "ok")
    assert health.headers["x-stamp"] == "from the App's middleware"  # it wraps hexlit's too
    page_runs = httpx.get(running.url("/base/_stcore/script-health-check"), timeout=30)
    assert (page_runs.status_code, page_runs.text) == (200, "ok")
    assert (tmp_path / "lifespan.log").read_text() == "start\n"
    running.stop()
    assert (tmp_path / "lifespan.log").read_text() == "start\nstop\n"


def test_the_core_host_rule_covers_the_app_routes(
    stack: str, make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    script = write_app(tmp_path, ST_APP)
    if refused_on_tornado(stack, lambda: make_server(app=str(script))):
        return
    running = make_server(app=str(script))
    with socket.create_connection(("127.0.0.1", running.port), timeout=TIMEOUT) as raw:
        raw.sendall(b"GET /api/hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize("lifespan", ["dashboard.lifespan()", "None"])
def test_a_starlette_app_mounting_an_st_app_is_served(
    stack: str, make_server: Callable[..., ServerUnderTest], tmp_path: Path, lifespan: str
) -> None:
    """With `lifespan=dashboard.lifespan()` (Streamlit's documented way) or none at all
    (Streamlit starts its runtime on the first request), the page is served under the
    mount and the outer app's own routes answer."""
    script = write_app(tmp_path, MOUNTING.replace("LIFESPAN", lifespan))
    options = {"server.scriptHealthCheckEnabled": True}
    if refused_on_tornado(stack, lambda: make_server(options, app=str(script))):
        return
    running = make_server(options, app=str(script))
    assert httpx.get(running.url("/api"), timeout=TIMEOUT).json() == {"api": True}
    health = httpx.get(running.url("/dashboard/_stcore/health"), timeout=TIMEOUT)
    assert (health.status_code, health.text) == (200, "ok")
    page = httpx.get(running.url("/dashboard/_stcore/script-health-check"), timeout=30)
    assert (page.status_code, page.text) == (200, "ok")
    root = httpx.get(running.url("/dashboard/"), timeout=TIMEOUT)
    assert root.status_code == 200
    assert "<html" in root.text.lower()


def test_a_starlette_app_without_an_st_app_is_refused(tmp_path: Path) -> None:
    source = MOUNTING.replace("LIFESPAN", "None").replace(
        'Mount("/dashboard", app=dashboard)', 'Mount("/other", routes=[])'
    )
    script = write_app(tmp_path, source)
    with pytest.raises(ConfigError, match=r"mounts no st\.App"):
        ServerUnderTest("starlette", app=str(script))


def test_hexlit_run_refuses_an_st_app_on_tornado_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = write_app(tmp_path, ST_APP)
    assert main(["run", str(script), "--web", "tornado", "--server.port", "1"]) == 2
    error = capsys.readouterr().err
    assert "holds an ASGI app" in error
    assert "Tornado stack cannot serve" in error


def test_a_route_under_a_reserved_prefix_is_a_configuration_error(tmp_path: Path) -> None:
    script = write_app(tmp_path, ST_APP.replace('"/api/boom"', '"/_stcore/boom"'))
    with pytest.raises(ConfigError, match="conflicts with reserved Streamlit route"):
        ServerUnderTest("starlette", app=str(script))


HOOKED_PAGE = """\
from pathlib import Path

import streamlit as st

Path(__file__).with_name("secret.txt").write_text(st.secrets["db"]["host"])
raise RuntimeError("the page failed")
"""

HOOKED_APP = """\
from pathlib import Path

import streamlit as st


def report(exc):
    Path(__file__).with_name("reported.txt").write_text(repr(exc))
    return True


app = st.App("page.py", secrets={"db": {"host": "from st.App"}}, on_script_error=report)
"""


def test_an_st_apps_secrets_and_script_error_handler_reach_the_page(
    stack: str, make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    script = write_app(tmp_path, HOOKED_APP)
    (tmp_path / "page.py").write_text(HOOKED_PAGE)
    if refused_on_tornado(stack, lambda: make_server(app=str(script))):
        return
    running = make_server(app=str(script))
    with stream(running, ["streamlit", XSRF_LIKE_TOKEN]) as ws:
        ws.send(rerun_frame())
        for message in forward_messages(ws):
            if message.WhichOneof("type") == "script_finished":
                break
    assert (tmp_path / "secret.txt").read_text() == "from st.App"
    assert (tmp_path / "reported.txt").read_text() == "RuntimeError('the page failed')"
