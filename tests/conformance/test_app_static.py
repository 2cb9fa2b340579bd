"""`/app/static/...` (`server.enableStaticServing`) with the Streamlit runtime, every stack.

Streamlit's `Runtime` is one per process, so each stack's server is started and stopped
in turn (module scope), in this process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from streamlit.components.v1.custom_component import CustomComponent
from streamlit.runtime import get_instance

from tests.support.net import raw_get_status
from tests.support.server import ServerUnderTest

TIMEOUT = 10.0
COMPONENT = "hexlit_test.component"


@pytest.fixture(scope="module")
def app_server(stack: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerUnderTest]:
    folder = tmp_path_factory.mktemp(f"app-{stack}")
    (folder / "app.py").write_text("import streamlit as st\nst.write('static test')\n")
    static = folder / "static"
    static.mkdir()
    (static / "hello.txt").write_text("hello static")
    (static / "page.html").write_text("<script>alert(1)</script>")
    (static / "nested").mkdir()
    (static / "nested" / "data.json").write_text('{"a": 1}')
    (folder / "secret.txt").write_text("outside the static folder")
    os.symlink(folder / "secret.txt", static / "escape.txt")
    component = folder / "component"
    component.mkdir()
    (component / "index.html").write_text("<html><body>component</body></html>")
    options = {"server.enableStaticServing": True, "runner.postScriptGC": False}
    with ServerUnderTest(stack, options, app=str(folder / "app.py")) as running:
        # What `components.declare_component(..., path=...)` does when the script runs.
        get_instance().component_registry.register_component(
            CustomComponent(name=COMPONENT, path=str(component))
        )
        yield running


def get(server: ServerUnderTest, path: str, method: str = "GET") -> httpx.Response:
    return httpx.request(method, server.url(path), timeout=TIMEOUT)


def test_files_are_served_with_nosniff_and_any_origin(app_server: ServerUnderTest) -> None:
    response = get(app_server, "/app/static/hello.txt")
    assert (response.status_code, response.text) == (200, "hello static")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["access-control-allow-origin"] == "*"
    nested = get(app_server, "/app/static/nested/data.json")
    assert nested.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "path", ["/app/static/missing.txt", "/app/static/nested", "/app/static/escape.txt"]
)
def test_missing_folders_and_escaping_symlinks_are_404(
    app_server: ServerUnderTest, path: str
) -> None:
    assert get(app_server, path).status_code == 404


@pytest.mark.parametrize(
    "raw_path",
    [
        "/app/static/..%2fsecret.txt",
        "/app/static/%2e%2e/secret.txt",
        "/app/static/a%00b",
        "/app/static/%5c..%5csecret.txt",
    ],
)
def test_traversal_is_400(app_server: ServerUnderTest, raw_path: str) -> None:
    assert raw_get_status(app_server.port, raw_path) == 400


def test_preflight(app_server: ServerUnderTest) -> None:
    response = get(app_server, "/app/static/hello.txt", "OPTIONS")
    assert response.status_code == 204
    assert response.headers["access-control-allow-methods"] == "GET, OPTIONS"


def test_unknown_components_are_404(app_server: ServerUnderTest) -> None:
    response = get(app_server, "/component/nope/index.html")
    assert (response.status_code, response.text) == (404, "Component not found")


@pytest.mark.parametrize("path", [f"/component/{COMPONENT}", f"/component/{COMPONENT}/"])
def test_a_component_without_a_file_is_404(app_server: ServerUnderTest, path: str) -> None:
    """As Streamlit 1.67: its folder is no file (never the frontend's page fallback)."""
    response = get(app_server, path)
    assert (response.status_code, response.text) == (404, "read error")


def test_the_streamlit_frontend_is_served(app_server: ServerUnderTest) -> None:
    response = get(app_server, "/")
    assert response.status_code == 200
    assert "<title>Streamlit</title>" in response.text


def test_unknown_v2_components_are_404(app_server: ServerUnderTest) -> None:
    response = get(app_server, "/_stcore/bidi-components/nope/index.js")
    assert (response.status_code, response.text) == (404, "Component not found")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_component_files_are_never_sniffed(app_server: ServerUnderTest, method: str) -> None:
    """Component HTML is `text/html`: a browser must not guess another type for it."""
    response = get(app_server, f"/component/{COMPONENT}/index.html", method)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_frontend_files_are_never_sniffed(app_server: ServerUnderTest) -> None:
    assert get(app_server, "/").headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "text"),
    [("/app/static/hello.txt", "hello static"), (f"/component/{COMPONENT}/index.html", None)],
)
def test_file_routes_serve_a_byte_range(
    app_server: ServerUnderTest, path: str, text: str | None
) -> None:
    whole = get(app_server, path).content
    assert text is None or whole == text.encode()
    response = httpx.get(app_server.url(path), headers={"Range": "bytes=2-5"}, timeout=TIMEOUT)
    assert response.status_code == 206
    assert response.content == whole[2:6]
    assert response.headers["content-range"] == f"bytes 2-5/{len(whole)}"
    assert response.headers["content-length"] == "4"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_unsatisfiable_range_is_416(app_server: ServerUnderTest) -> None:
    headers = {"Range": "bytes=100-"}
    response = httpx.get(app_server.url("/app/static/hello.txt"), headers=headers, timeout=TIMEOUT)
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */12"
