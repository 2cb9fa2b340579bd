"""Edge paths of the route table, answered alike on every stack, as Streamlit 1.67 does.

Streamlit 1.67 serves only through Starlette (`streamlit/web/server/starlette/`): media is
`/media/{file_id:path}` and components are `/component/{path:path}` with the name split
off inside the handler. So `/media/` reaches the media route with an empty name (404),
and `/component/<name>` with no file reaches the component route (404), never the
frontend's page fallback (issue 15, defect 1; docs/adr/0014-one-route-table.md).
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.server import ServerUnderTest

TIMEOUT = 10.0


def get(server: ServerUnderTest, path: str, method: str = "GET") -> httpx.Response:
    return httpx.request(method, server.url(path), timeout=TIMEOUT)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_media_with_no_name_is_404(server: ServerUnderTest, method: str) -> None:
    response = get(server, "/media/", method)
    assert response.status_code == 404
    if method == "GET":
        assert response.text == "File not found"


@pytest.mark.parametrize("path", ["/component/nope", "/_stcore/bidi-components/nope"])
def test_a_component_name_with_no_file_is_the_component_route(
    server: ServerUnderTest, path: str
) -> None:
    response = get(server, path)
    assert (response.status_code, response.text) == (404, "Component not found")


@pytest.mark.parametrize("path", ["/_stcore/metrics", "/_stcore/health", "/auth/logout"])
def test_head_is_answered_wherever_get_is(server: ServerUnderTest, path: str) -> None:
    """HTTP's rule (RFC 9110 §9.3.2), and Starlette's: a GET route answers HEAD alike."""
    got, head = get(server, path), get(server, path, "HEAD")
    assert head.status_code == got.status_code
    assert head.content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_method_a_route_does_not_declare_is_405(server: ServerUnderTest, method: str) -> None:
    assert get(server, "/_stcore/stream", method).status_code == 405
    assert get(server, "/_stcore/host-config", method).status_code == 405
