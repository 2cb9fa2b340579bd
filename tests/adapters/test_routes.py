"""The route table: one declaration, read by both stacks and by the request metrics."""

from __future__ import annotations

import re

import pytest

from hexlit.adapters.system.clock import SystemClock
from hexlit.adapters.web.requests import cookie_pairs, handshake
from hexlit.adapters.web.routes import FRONTEND, ROUTES, Kind, route_template
from hexlit.domain.observation import HttpTelemetry, NoTracer, Traffic

FRONTEND_ROUTE = FRONTEND.template


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/_stcore/health", "/_stcore/health"),
        ("/app/_stcore/health", "/_stcore/health"),
        ("/media/abc.mp4", "/media/{file}"),
        ("/_stcore/upload_file/s/f", "/_stcore/upload_file/{session_id}/{file_id}"),
        ("/component/x/index.html", "/component/{name}/{path}"),
        ("/_stcore/healthz", FRONTEND_ROUTE),
        ("/any/thing/at/all", FRONTEND_ROUTE),
    ],
)
def test_every_path_maps_to_one_of_a_few_templates(path: str, route: str) -> None:
    base = "/app" if path.startswith("/app/") else ""
    telemetry = HttpTelemetry(Traffic(), NoTracer(), SystemClock(), base, route_template)
    assert telemetry.begin("GET", path, lambda _: None).route == route


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/component/x", "/component/{name}/{path}"),
        ("/media/", "/media/{file}"),
        ("/_stcore/upload_file/s", FRONTEND_ROUTE),  # no route answers it: the frontend does
    ],
)
def test_a_label_names_the_route_that_answers(path: str, route: str) -> None:
    assert route_template(path) == route


def test_each_use_case_has_one_row_and_the_catch_all_is_last() -> None:
    assert [route.kind for route in ROUTES].count(Kind.HEALTH) == 1
    assert len({route.kind for route in ROUTES}) == len(ROUTES)
    assert ROUTES[-1] is FRONTEND
    assert all("GET" not in route.methods or "HEAD" in route.methods for route in ROUTES)


@pytest.mark.parametrize(
    ("path", "groups"),
    [
        ("/b/component/x", {"name": "x", "path": None}),
        ("/b/component/x/", {"name": "x", "path": ""}),
        ("/b/component/x/a/b.js", {"name": "x", "path": "a/b.js"}),
        ("/b", {"path": None}),
        ("/b/", {"path": ""}),
        ("/b/media/", {"file": ""}),
    ],
)
def test_patterns_take_the_tail_as_declared(path: str, groups: dict[str, str | None]) -> None:
    matches = [
        found.groupdict() for route in ROUTES if (found := re.fullmatch(route.pattern("/b"), path))
    ]
    assert matches[0] == groups


def test_the_handshake_reads_cookies_from_the_raw_header_and_survives_a_bad_pair() -> None:
    headers = [
        ("Origin", "http://a"),
        ("host", "a:1"),
        ("Cookie", 'x=1; bad"pair; _streamlit_user="v"; x=2'),
        ("Sec-WebSocket-Protocol", "streamlit"),
        ("sec-websocket-protocol", "token"),
    ]
    made = handshake(headers, "127.0.0.1")
    assert (made.origin, made.host, made.subprotocols) == ("http://a", "a:1", "streamlit,token")
    assert made.client.cookies == (("x", "2"), ("_streamlit_user", "v"))
    assert made.client.remote_ip == "127.0.0.1"
    assert made.client.headers == tuple(headers)


def test_a_repeated_origin_is_not_its_first_value() -> None:
    made = handshake([("Origin", "http://a"), ("origin", "http://evil")], None)
    assert made.origin == "http://a,http://evil"


def test_no_cookie_header_is_no_cookies() -> None:
    assert cookie_pairs(None) == ()
    assert cookie_pairs("novalue; =x") == ()
