"""Health, script health, host config and unknown routes: the same answers on every stack."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.support.server import ServerUnderTest

HOST_CONFIG_KEYS = {
    "allowedOrigins",
    "useExternalAuthToken",
    "enableCustomParentMessages",
    "enforceDownloadInNewTab",
    "metricsUrl",
    "blockErrorDialogs",
    "resourceCrossOriginMode",
}


def get(
    server: ServerUnderTest, path: str, method: str = "GET", **kwargs: object
) -> httpx.Response:
    return httpx.request(method, server.url(path), timeout=10, **kwargs)  # type: ignore[arg-type]


def test_health_answers_ok_and_is_never_cached(server: ServerUnderTest) -> None:
    response = get(server, "/_stcore/health")
    assert response.status_code == 200
    assert response.text == "ok"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"].startswith("text/plain")
    assert "etag" not in response.headers


def test_health_head_has_no_body(server: ServerUnderTest) -> None:
    response = get(server, "/_stcore/health", "HEAD")
    assert response.status_code == 200
    assert response.content == b""


def test_health_preflight_is_204(server: ServerUnderTest) -> None:
    response = get(server, "/_stcore/health", "OPTIONS")
    assert response.status_code == 204
    assert response.content == b""


def test_cors_header_only_for_allow_listed_origins(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"server.corsAllowedOrigins": ["https://allowed.example"]})
    allowed = get(server, "/_stcore/health", headers={"Origin": "https://allowed.example"})
    other = get(server, "/_stcore/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://allowed.example"
    assert "access-control-allow-origin" not in other.headers


def test_cors_off_answers_star(make_server: Callable[..., ServerUnderTest]) -> None:
    server = make_server({"server.enableCORS": False})
    response = get(server, "/_stcore/health", headers={"Origin": "https://any.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_host_config_has_streamlits_keys(server: ServerUnderTest) -> None:
    response = get(server, "/_stcore/host-config")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache"
    document = response.json()
    assert set(document) == HOST_CONFIG_KEYS
    assert document["useExternalAuthToken"] is False


def test_host_config_lists_configured_allowed_origins(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"client.allowedOrigins": ["https://parent.example"]})
    assert get(server, "/_stcore/host-config").json()["allowedOrigins"] == [
        "https://parent.example"
    ]


def test_script_health_is_absent_unless_enabled(server: ServerUnderTest) -> None:
    assert get(server, "/_stcore/script-health-check").status_code == 404


def test_script_health_when_enabled(make_server: Callable[..., ServerUnderTest]) -> None:
    server = make_server({"server.scriptHealthCheckEnabled": True})
    response = get(server, "/_stcore/script-health-check")
    assert (response.status_code, response.text) == (200, "ok")


@pytest.mark.parametrize("raw_base", ["/base", "base/", "/a/b/"])
def test_routes_live_under_the_base_path(
    make_server: Callable[..., ServerUnderTest], raw_base: str
) -> None:
    server = make_server({"server.baseUrlPath": raw_base})
    base = "/" + raw_base.strip("/")
    assert get(server, f"{base}/_stcore/health").status_code == 200
    assert get(server, f"{base}/_stcore/host-config").status_code == 200
    assert get(server, "/_stcore/health").status_code == 404


@pytest.mark.parametrize("path", ["/_stcore/nope", "/page/_stcore/health", "/a/_stcore/x/y"])
def test_unknown_stcore_paths_are_a_plain_404(server: ServerUnderTest, path: str) -> None:
    response = get(server, path)
    assert (response.status_code, response.text) == (404, "Not Found")
    assert response.headers["content-type"].startswith("text/plain")


def test_paths_outside_the_base_path_are_a_plain_404(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    server = make_server({"server.baseUrlPath": "/base"})
    response = get(server, "/elsewhere")
    assert (response.status_code, response.text) == (404, "Not Found")


def test_wrong_method_is_405(server: ServerUnderTest) -> None:
    response = get(server, "/_stcore/health", "POST")
    assert (response.status_code, response.text) == (405, "Method Not Allowed")


def test_plain_get_on_the_stream_is_400(server: ServerUnderTest) -> None:
    response = get(server, "/_stcore/stream")
    assert response.status_code == 400
    assert response.text == "expected a WebSocket upgrade request"
