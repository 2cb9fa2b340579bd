"""Path tricks and symlinks on every file route: `/app/static/`, `/component/`,
`/media/` (filesystem store) and the frontend files.

One Streamlit app per stack (Streamlit's `Runtime` is one per process, so the stacks run
in turn): a `static/` folder and a declared v1 component, each holding symlinks that
point out of their root, and a secret file next to them. Every trick is sent as written
on a raw socket. None may return the secret (or `/etc/passwd`), cost a 500 or hang: a
file route answers 400 or 404; the frontend may also answer its SPA page (200 with
`index.html`), which is what any unknown page gets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.hostile.wire import exchange, get, still_serves
from tests.support.server import ServerUnderTest

TIMEOUT = 10.0
SECRET = "hostile-secret-marker-5f1c"
PASSWD = "root:x:0:0"
COMPONENT = "app.hostile"
"""Streamlit names a component declared in the main script `<script stem>.<name>`."""

APP = """
import streamlit.components.v1 as components
components.declare_component("hostile", path={component!r})
"""

UP = 12
"""Enough `..` to climb from any served root to `/`."""


def tricks(target: str) -> dict[str, str]:
    """Ways to spell `../` * UP + `target` (an absolute path without its leading `/`),
    and other shapes that must never reach a file outside the root."""
    climbs = {
        "plain ../": "../",
        "..%2f": "..%2f",
        "%2e%2e/": "%2e%2e/",
        "%2e%2e%2f": "%2e%2e%2f",
        "%2E%2E%2F": "%2E%2E%2F",
        ".%2e/": ".%2e/",
        "%2e./": "%2e./",
        "..%5c": "..%5c",
        "raw backslash": "..\\",
        "%2e%2e%5c": "%2e%2e%5c",
        "double-encoded %252e%252e%252f": "%252e%252e%252f",
        "..%252f": "..%252f",
        "overlong UTF-8 dots": "%c0%ae%c0%ae/",
        "overlong UTF-8 slash": "..%c0%af",
        "fullwidth slash": "..%ef%bc%8f",
        "..;/": "..;/",
        "....//": "....//",
        "NUL after ..": "..%00/",
        "three dots": ".../",
    }
    shapes = {name: climb * UP + target for name, climb in climbs.items()}
    shapes |= {
        "absolute": "/" + target,
        "encoded absolute": "%2f" + target,
        "NUL before an extension": "index.html%00.png",
        "NUL alone": "%00",
        "UNC": "%5c%5cserver%5cshare%5cfile",
        "drive letter": "C:%5cWindows%5cwin.ini",
        "invalid UTF-8": "%ff%fe..%2f" + target,
    }
    return shapes


@pytest.fixture(scope="module")
def app_server(stack: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerUnderTest]:
    folder = tmp_path_factory.mktemp(f"hostile-{stack}")
    (folder / "secret.txt").write_text(SECRET)
    static = folder / "static"
    static.mkdir()
    (static / "hello.txt").write_text("hello static")
    os.symlink(folder / "secret.txt", static / "escape.txt")
    os.symlink(folder, static / "linked")
    os.symlink(static / "hello.txt", static / "inside.txt")
    component = folder / "component"
    component.mkdir()
    (component / "index.html").write_text("<p>component</p>")
    os.symlink(folder / "secret.txt", component / "escape.html")
    os.symlink(folder, component / "linked")
    (folder / "app.py").write_text(APP.format(component=str(component)))
    options = {
        "server.enableStaticServing": True,
        "runner.postScriptGC": False,
        "hexlit.store": "filesystem",
        "hexlit.storeDir": str(folder / "store"),
    }
    with ServerUnderTest(stack, options, app=str(folder / "app.py")) as running:
        run_the_script_once(running)
        SECRET_FILES[running.port] = folder / "secret.txt"
        yield running


def run_the_script_once(server: ServerUnderTest) -> None:
    """Open a session and ask for a run, so the app declares its component."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    with connect(server.ws_url(), subprotocols=["streamlit"], open_timeout=TIMEOUT) as ws:  # type: ignore[list-item]
        ws.send(rerun.SerializeToString())
        deadline = time.monotonic() + TIMEOUT
        while exchange(server.port, get(f"/component/{COMPONENT}/index.html")).status != 200:
            assert time.monotonic() < deadline, "the component was never declared"
            time.sleep(0.05)


SECRET_FILES: dict[int, Path] = {}
"""The secret file next to each running app's roots, by the app server's port."""


def secret_target(server: ServerUnderTest) -> str:
    """The secret's absolute path, without its leading `/`."""
    return str(SECRET_FILES[server.port])[1:]


def leaks(body: bytes) -> bool:
    return SECRET.encode() in body or PASSWD.encode() in body


def attack(server: ServerUnderTest, prefix: str, spa_page: bytes | None = None) -> list[object]:
    """Every trick under `prefix`, against the secret and against `/etc/passwd`."""
    wrong: list[object] = []
    for target in (secret_target(server), "etc/passwd"):
        for shape, path in tricks(target).items():
            reply = exchange(server.port, get(prefix + path))
            if reply.hung or not reply.responses:
                wrong.append((shape, "hung" if reply.hung else "closed without an answer"))
                continue
            response = reply.first
            spa = spa_page is not None and (response.status, response.body) == (200, spa_page)
            if leaks(response.body) or not (response.status in (400, 404) or spa):
                wrong.append((shape, target[:12], response.status, response.body[:60]))
    return wrong


def test_app_static_files(app_server: ServerUnderTest) -> None:
    ok = exchange(app_server.port, get("/app/static/hello.txt")).first
    assert (ok.status, ok.body) == (200, b"hello static")
    assert attack(app_server, "/app/static/") == []
    still_serves(app_server.port)


def test_component_files(app_server: ServerUnderTest) -> None:
    ok = exchange(app_server.port, get(f"/component/{COMPONENT}/index.html")).first
    assert (ok.status, ok.body) == (200, b"<p>component</p>")
    assert attack(app_server, f"/component/{COMPONENT}/") == []
    index = exchange(app_server.port, get("/")).first.body
    assert attack(app_server, "/component/", spa_page=index) == []  # no name: a page
    still_serves(app_server.port)


def test_media_files_in_the_filesystem_store(app_server: ServerUnderTest) -> None:
    assert attack(app_server, "/media/") == []
    still_serves(app_server.port)


def test_frontend_files(app_server: ServerUnderTest) -> None:
    index = exchange(app_server.port, get("/")).first
    assert index.status == 200
    assert attack(app_server, "/", spa_page=index.body) == []
    assert attack(app_server, "/static/", spa_page=index.body) == []
    still_serves(app_server.port)


@pytest.mark.parametrize(
    "path",
    [
        "/app/static/escape.txt",
        "/app/static/linked/secret.txt",
        f"/component/{COMPONENT}/escape.html",
        f"/component/{COMPONENT}/linked/secret.txt",
    ],
)
def test_symlinks_out_of_the_root_are_404(app_server: ServerUnderTest, path: str) -> None:
    response = exchange(app_server.port, get(path)).first
    assert response.status == 404
    assert not leaks(response.body)


def test_a_symlink_inside_the_root_is_served(app_server: ServerUnderTest) -> None:
    response = exchange(app_server.port, get("/app/static/inside.txt")).first
    assert (response.status, response.body) == (200, b"hello static")
