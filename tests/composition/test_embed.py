"""The embedding API: hexlit inside a user's own Starlette app or Tornado server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import tornado.httpserver
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from websockets.asyncio.client import connect

from hexlit.composition.embed import create_asgi_app, create_tornado_app

TIMEOUT = 10.0


def loopback_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.setblocking(False)
    return sock


@contextlib.asynccontextmanager
async def serving_on_uvicorn(app: Any) -> AsyncIterator[int]:
    """`app` served by a real uvicorn (lifespan on) on a loopback port, for the block."""
    sock = loopback_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(TIMEOUT):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers only a flag
                await asyncio.sleep(0.01)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, TIMEOUT)
        sock.close()


@contextlib.asynccontextmanager
async def serving_on_tornado(app: Any) -> AsyncIterator[int]:
    """A hexlit Tornado app started and served by a user's own `HTTPServer` on a loopback
    port, for the block; then stopped as an embedder stops it."""
    await app.start()
    sock = loopback_socket()
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets([sock])
    try:
        yield sock.getsockname()[1]
    finally:
        server.stop()
        await app.stop()
        await asyncio.wait_for(server.close_all_connections(), TIMEOUT)


async def exercise(port: int, prefix: str) -> tuple[str, bytes]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        health = (await client.get(f"http://127.0.0.1:{port}{prefix}/_stcore/health")).text
    async with connect(f"ws://127.0.0.1:{port}{prefix}/_stcore/stream", open_timeout=TIMEOUT) as ws:
        greeting = await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert isinstance(greeting, bytes)
    return health, greeting


def test_asgi_app_mounted_in_a_users_starlette_app() -> None:
    hexlit_app = create_asgi_app("builtin:counter", {"hexlit.queueMaxFrames": 100})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with hexlit_app.router.lifespan_context(hexlit_app):
            yield

    async def home(_: object) -> PlainTextResponse:
        return PlainTextResponse("the user's own page")

    outer = Starlette(routes=[Route("/", home), Mount("/st", app=hexlit_app)], lifespan=lifespan)

    async def scenario() -> tuple[str, bytes, str]:
        async with serving_on_uvicorn(outer) as port:
            health, greeting = await exercise(port, "/st")
            async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                own = (await client.get(f"http://127.0.0.1:{port}/")).text
            return health, greeting, own

    health, greeting, own = asyncio.run(scenario())
    assert health == "ok"
    assert greeting.startswith(b"hello ")
    assert own == "the user's own page"


def test_tornado_app_in_a_users_tornado_server() -> None:
    async def scenario() -> tuple[str, bytes]:
        app = create_tornado_app("builtin:echo", {"server.baseUrlPath": "/embedded"})
        async with serving_on_tornado(app) as port:
            return await exercise(port, "/embedded")

    health, greeting = asyncio.run(scenario())
    assert health == "ok"
    assert greeting.startswith(b"hello ")


def process_folders(store_dir: Path) -> list[Path]:
    """The folders the filesystem stores made for this process (media, uploads)."""
    return sorted(
        folder for kind in ("media", "uploads") for folder in (store_dir / kind).glob("*")
    )


def test_asgi_app_removes_its_store_folders_when_its_lifespan_ends(tmp_path: Path) -> None:
    options = {"hexlit.store": "filesystem", "hexlit.storeDir": str(tmp_path)}
    hexlit_app = create_asgi_app("builtin:counter", options)

    async def scenario() -> list[Path]:
        async with serving_on_uvicorn(hexlit_app) as port:
            health, _ = await exercise(port, "")
            assert health == "ok"
            return process_folders(tmp_path)

    while_serving = asyncio.run(scenario())
    assert [folder.parent.name for folder in while_serving] == ["media", "uploads"]
    assert process_folders(tmp_path) == []


def test_tornado_app_removes_its_store_folders_when_it_stops(tmp_path: Path) -> None:
    options = {"hexlit.store": "filesystem", "hexlit.storeDir": str(tmp_path)}

    async def scenario() -> list[Path]:
        app = create_tornado_app("builtin:counter", options)
        async with serving_on_tornado(app) as port:
            health, _ = await exercise(port, "")
            assert health == "ok"
            return process_folders(tmp_path)

    while_serving = asyncio.run(scenario())
    assert [folder.parent.name for folder in while_serving] == ["media", "uploads"]
    assert process_folders(tmp_path) == []


DASHBOARD = 'import streamlit as st\n\nst.title("dashboard")\n'


def streamlit_folder(tmp_path: Path) -> Path:
    """A Streamlit script whose folder's `.streamlit/config.toml` turns the script health
    check on: `/_stcore/script-health-check` answers only when that file was read."""
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text(
        "[server]\nscriptHealthCheckEnabled = true\n"
    )
    script = tmp_path / "dashboard.py"
    script.write_text(DASHBOARD)
    return script


def test_a_streamlit_script_mounted_under_a_prefix_reads_its_folders_config(
    tmp_path: Path,
) -> None:
    """docs/embedding.md's example: a real Streamlit app under `/dashboard` of a user's
    own Starlette app, over a real socket."""
    hexlit_app = create_asgi_app(str(streamlit_folder(tmp_path)))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with hexlit_app.router.lifespan_context(hexlit_app):
            yield

    async def home(_: object) -> PlainTextResponse:
        return PlainTextResponse("the user's own page")

    outer = Starlette(
        routes=[Route("/", home), Mount("/dashboard", app=hexlit_app)], lifespan=lifespan
    )

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response, str]:
        async with serving_on_uvicorn(outer) as port:
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(timeout=30) as client:
                health = await client.get(f"{base}/dashboard/_stcore/health")
                script = await client.get(f"{base}/dashboard/_stcore/script-health-check")
                page = await client.get(f"{base}/dashboard/")
                own = (await client.get(f"{base}/")).text
            return health, script, page, own

    health, script, page, own = asyncio.run(scenario())
    assert (health.status_code, health.text) == (200, "ok")
    assert (script.status_code, script.text) == (200, "ok")  # the page ran, config read
    assert page.status_code == 200
    assert "<title>Streamlit</title>" in page.text
    assert own == "the user's own page"


def test_a_tornado_app_reads_its_script_folders_config(tmp_path: Path) -> None:
    async def scenario() -> httpx.Response:
        app = create_tornado_app(str(streamlit_folder(tmp_path)))
        async with serving_on_tornado(app) as port:
            url = f"http://127.0.0.1:{port}/_stcore/script-health-check"
            async with httpx.AsyncClient(timeout=30) as client:
                return await client.get(url)

    answer = asyncio.run(scenario())
    assert (answer.status_code, answer.text) == (200, "ok")
