"""Serving the frontend build: index, hashed assets, SPA fallback, redirects, unsafe paths.

The built-in apps ship a small frontend build (`adapters/runtime/builtin_frontend/site`)
with the same shape as Streamlit's: `index.html`, `manifest.json`, hashed `static/` files.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.support.net import raw_get_status
from tests.support.server import ServerUnderTest

ASSET = "/static/app.4f1c2a.js"
TIMEOUT = 10.0


def request(server: ServerUnderTest, method: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.request(method, server.url(path), timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]


def test_root_serves_index_html_never_cached(server: ServerUnderTest) -> None:
    response = request(server, "GET", "/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert "<title>hexlit built-in app</title>" in response.text


def test_hashed_assets_are_cached_for_a_year(server: ServerUnderTest) -> None:
    response = request(server, "GET", ASSET)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["cache-control"] == "public, immutable, max-age=31536000"
    assert "WebSocket" in response.text


def test_manifest_is_never_cached(server: ServerUnderTest) -> None:
    assert request(server, "GET", "/manifest.json").headers["cache-control"] == "no-cache"


def test_head_has_the_length_but_no_body(server: ServerUnderTest) -> None:
    full = request(server, "GET", ASSET)
    head = request(server, "HEAD", ASSET)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(full.content))


def test_page_paths_fall_back_to_index_html(server: ServerUnderTest) -> None:
    index = request(server, "GET", "/").text
    for path in ("/page2", "/some/deep/page", "/static/missing.js"):
        response = request(server, "GET", path)
        assert (response.status_code, response.text) == (200, index)


def test_trailing_slash_redirects_to_the_page_keeping_the_query(server: ServerUnderTest) -> None:
    response = request(server, "GET", "/page2/?a=1")
    assert response.status_code == 301
    assert response.headers["location"] == "/page2?a=1"
    assert response.headers["cache-control"] == "no-cache"


def test_trailing_slash_on_other_methods_is_a_relative_308(server: ServerUnderTest) -> None:
    response = request(server, "POST", "/a/page2//")
    assert response.status_code == 308
    assert response.headers["location"] == "../../page2"


def test_only_get_and_head_read_files(server: ServerUnderTest) -> None:
    response = request(server, "POST", ASSET)
    assert (response.status_code, response.text) == (405, "Method Not Allowed")


def test_base_path_serves_the_app_and_redirects_its_bare_form(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"server.baseUrlPath": "/app/"})
    assert request(server, "GET", "/app/").status_code == 200
    assert request(server, "GET", f"/app{ASSET}").status_code == 200
    bare = request(server, "GET", "/app?x=1")
    assert (bare.status_code, bare.headers["location"]) == (301, "/app/?x=1")
    slash = request(server, "GET", "/app/page2/")
    assert slash.headers["location"] == "/app/page2"


@pytest.mark.parametrize(
    "raw_path",
    [
        "/..%2f..%2fetc%2fpasswd",
        "/static/..%2f..%2f..%2fsetup.py",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/%5c..%5c..%5cetc",
        "//etc/passwd",
        "/C:%5cWindows",
        "/a%00b",
    ],
)
def test_unsafe_paths_are_400(server: ServerUnderTest, raw_path: str) -> None:
    assert raw_get_status(server.port, raw_path) == 400


def test_double_encoded_traversal_is_just_a_missing_page(server: ServerUnderTest) -> None:
    index = request(server, "GET", "/").text
    response = request(server, "GET", "/%252e%252e/%252e%252e/etc/passwd")
    assert (response.status_code, response.text) == (200, index)


def test_page_fallbacks_are_gzipped_but_root_and_bundles_are_not(server: ServerUnderTest) -> None:
    gzip_ok = {"Accept-Encoding": "gzip"}
    page = request(server, "GET", "/page2", headers=gzip_ok)
    root = request(server, "GET", "/", headers=gzip_ok)
    bundle = request(server, "GET", ASSET, headers=gzip_ok)
    assert page.headers["content-encoding"] == "gzip"
    assert page.headers["vary"] == "Accept-Encoding"
    assert page.text == root.text  # httpx decodes: the same document either way
    assert "content-encoding" not in root.headers
    assert "content-encoding" not in bundle.headers


def test_no_gzip_unless_accepted(server: ServerUnderTest) -> None:
    for accept in ("identity", "gzip;q=0", "br"):
        response = request(server, "GET", "/page2", headers={"Accept-Encoding": accept})
        assert "content-encoding" not in response.headers
