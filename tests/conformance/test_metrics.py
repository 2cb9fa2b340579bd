"""`/_stcore/metrics`: OpenMetrics text with the runtime's families and hexlit's own."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.files import BOUNDARY, live_session, multipart, raw_request
from tests.support.metrics import counter, wait_for_counter
from tests.support.server import ServerUnderTest

TIMEOUT = 10.0


def metrics(server: ServerUnderTest, query: str = "") -> httpx.Response:
    return httpx.get(server.url(f"/_stcore/metrics{query}"), timeout=TIMEOUT)


def sample(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[-1])


def test_metrics_are_openmetrics_text_ending_in_eof(server: ServerUnderTest) -> None:
    response = metrics(server)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")
    assert "# TYPE hexlit_frames_in counter" in response.text
    assert "# TYPE builtin_sessions gauge" in response.text


def test_counters_follow_the_traffic(server: ServerUnderTest) -> None:
    before = metrics(server).text
    with connect(server.ws_url(), open_timeout=TIMEOUT) as ws:
        ws.recv(timeout=TIMEOUT)
        for _ in range(3):
            ws.send(b"inc")
            ws.recv(timeout=TIMEOUT)
        during = metrics(server).text
    assert sample(during, "hexlit_open_connections") >= 1
    assert sample(during, "hexlit_frames_in_total") == sample(before, "hexlit_frames_in_total") + 3
    assert (
        sample(during, "hexlit_frames_out_total") >= sample(before, "hexlit_frames_out_total") + 4
    )


def test_families_parameter_selects(server: ServerUnderTest) -> None:
    text = metrics(server, "?families=hexlit_frames_in&families=nope").text
    assert [line for line in text.splitlines() if line.startswith("# TYPE")] == [
        "# TYPE hexlit_frames_in counter"
    ]


def test_metrics_preflight(server: ServerUnderTest) -> None:
    response = httpx.options(server.url("/_stcore/metrics"), timeout=TIMEOUT)
    assert response.status_code == 204
    assert response.headers["access-control-allow-methods"] == "GET, OPTIONS"
    assert response.headers["access-control-allow-headers"] == "Accept"


def test_metrics_parse_as_openmetrics(server: ServerUnderTest) -> None:
    """What a Prometheus scraper reads must parse (streamlit#7891 shows Streamlit's did not)."""
    with connect(server.ws_url(), open_timeout=TIMEOUT) as ws:
        ws.recv(timeout=TIMEOUT)
        ws.send(b"inc")
        ws.recv(timeout=TIMEOUT)
    text = metrics(server).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["hexlit_frames_in"].type == "counter"
    assert families["hexlit_open_connections"].type == "gauge"


def values(server: ServerUnderTest) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the parsed exposition: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(metrics(server).text):
        for one in family.samples:
            found[(one.name, tuple(sorted(one.labels.items())))] = float(one.value)
    return found


def test_request_latency_is_labelled_by_route_template_never_raw_path(
    server: ServerUnderTest,
) -> None:
    httpx.get(server.url("/_stcore/health"), timeout=TIMEOUT)
    httpx.get(server.url("/media/0123456789abcdef-raw-path.mp4"), timeout=TIMEOUT)
    httpx.request("PROPFIND", server.url("/_stcore/health"), timeout=TIMEOUT)
    text = metrics(server).text
    found = values(server)
    health = (("code", "200"), ("method", "GET"), ("route", "/_stcore/health"))
    assert found[("hexlit_http_request_duration_seconds_count", health)] >= 1
    media = (("code", "404"), ("method", "GET"), ("route", "/media/{file}"))
    assert found[("hexlit_http_request_duration_seconds_count", media)] >= 1
    assert "raw-path" not in text
    assert "PROPFIND" not in text  # an unknown method is OpenTelemetry's _OTHER
    assert 'method="_OTHER"' in text


def test_websocket_upgrade_closes_and_reruns_are_counted(server: ServerUnderTest) -> None:
    before = values(server)
    with connect(server.ws_url(), open_timeout=TIMEOUT) as ws:
        ws.recv(timeout=TIMEOUT)
        for _ in range(2):
            ws.send(b"inc")
            ws.recv(timeout=TIMEOUT)
    # A run is counted once its last frame is written, which the server learns after the
    # client may already have read it: scrape until the count settles (bounded).
    runs = ("hexlit_rerun_duration_seconds_count", ())
    expected = before.get(runs, 0) + 2
    counted = wait_for_counter(server, runs[0], lambda value: value >= expected)
    assert counted == expected
    after = values(server)
    upgrade = (("code", "101"), ("method", "GET"), ("route", "/_stcore/stream"))
    assert after[("hexlit_http_request_duration_seconds_count", upgrade)] >= 1
    by_client = ("hexlit_websocket_closes_total", (("by", "client"), ("code", "none")))
    assert after.get(by_client, 0) >= before.get(by_client, 0)  # counted once it is released


def drain(ws: ClientConnection) -> None:
    while True:
        ws.recv(timeout=TIMEOUT)


def test_slow_consumer_closes_are_counted_by_close_code(
    make_server: Callable[..., ServerUnderTest],
) -> None:
    running = make_server({"hexlit.queueMaxFrames": 5})
    with connect(running.ws_url(), open_timeout=TIMEOUT) as ws:
        ws.recv(timeout=TIMEOUT)
        ws.send(b"flood 100")
        with pytest.raises(ConnectionClosed) as closed:
            drain(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1013
    found = values(running)
    assert found[("hexlit_websocket_closes_total", (("by", "server"), ("code", "1013")))] == 1
    assert found[("hexlit_slow_consumer_disconnects_total", ())] == 1


def test_media_and_upload_bytes_are_counted(server: ServerUnderTest) -> None:
    before = values(server)
    with live_session(server) as session:
        (reply,) = session.command("media media 1000 video/mp4")
        media_url = reply.split()[1]
        response = httpx.get(server.url(media_url), headers={"Range": "bytes=0-99"})
        assert response.status_code == 206
        url = session.upload_url()
        assert (
            session.put(url, multipart(("a.bin", b"x" * 700, "application/x"))).status_code == 204
        )
    after = values(server)
    media_bytes = ("hexlit_media_bytes_total", ())
    upload_bytes = ("hexlit_upload_bytes_total", ())
    assert after[media_bytes] == before[media_bytes] + 100
    assert after[upload_bytes] == before[upload_bytes] + 700


@pytest.mark.parametrize("store", ["memory", "filesystem"])
def test_every_store_counts_media_bytes_and_upload_outcomes(
    make_server: Callable[..., ServerUnderTest], store: str, tmp_path: Path
) -> None:
    """What the media and upload services see is exported here, whatever the store."""
    server = make_server({"hexlit.store": store, "hexlit.storeDir": str(tmp_path)})
    completed = {"outcome": "completed"}
    aborted = {"outcome": "aborted"}
    with live_session(server) as session:
        (reply,) = session.command("media media 1000 video/mp4")
        response = httpx.get(server.url(reply.split()[1]), headers={"Range": "bytes=0-99"})
        assert response.status_code == 206
        body = multipart(("a.bin", b"x" * 700, "application/x"))
        assert session.put(session.upload_url(), body).status_code == 204
        cut = session.upload_url().split(str(server.port), 1)[1]
        head = (
            f"PUT {cut} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"X-Xsrftoken: {session.xsrf}\r\nCookie: _streamlit_xsrf={session.xsrf}\r\n\r\n"
        )
        raw_request(server, head, body[: len(body) // 2], close_early=True)
        assert wait_for_counter(server, "hexlit_uploads_total", lambda n: n >= 1, **aborted) == 1
    assert counter(server, "hexlit_media_bytes_total") == 100
    assert counter(server, "hexlit_upload_bytes_total") >= 700
    assert counter(server, "hexlit_uploads_total", **completed) == 1


PROTOBUF = "application/x-protobuf"
STREAMLIT_APP = """\
import streamlit as st


@st.cache_data
def double(x: int) -> int:
    return 2 * x


st.write(double(21))
"""


def proto_values(
    body: bytes,
) -> tuple[dict[str, int], dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """Streamlit's own `MetricSet` class reads the body: family types, and counter/gauge
    points as (family, labels) -> value."""
    from streamlit.proto.openmetrics_data_model_pb2 import MetricSet

    metric_set = MetricSet()
    metric_set.ParseFromString(body)
    types, points = {}, {}
    for family in metric_set.metric_families:
        types[family.name] = family.type
        for metric in family.metrics:
            labels = tuple((label.name, label.value) for label in metric.labels)
            (point,) = metric.metric_points
            kind = point.WhichOneof("value")
            if kind in ("counter_value", "gauge_value"):
                value = getattr(point, kind)
                number = value.WhichOneof("total" if kind == "counter_value" else "value")
                points[(family.name, labels)] = float(getattr(value, number)) if number else 0.0
            elif kind == "histogram_value":
                points[(family.name + "_count", labels)] = float(point.histogram_value.count)
    return types, points


def test_a_streamlit_app_answers_protobuf_when_accept_asks_for_it(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    """As Streamlit 1.67: `Accept: application/x-protobuf` gives a `MetricSet` that
    Streamlit's own proto class parses, holding the same families as the text form."""
    from streamlit.proto.openmetrics_data_model_pb2 import COUNTER, GAUGE, HISTOGRAM

    app = tmp_path / "app.py"
    app.write_text(STREAMLIT_APP)
    running = make_server(app=str(app))
    httpx.get(running.url("/_stcore/health"), timeout=TIMEOUT)  # one request histogram
    text = metrics(running)
    assert text.headers["content-type"].startswith("application/openmetrics-text")
    parsed = {f.name: f for f in text_string_to_metric_families(text.text)}
    answer = httpx.get(
        running.url("/_stcore/metrics"), headers={"Accept": PROTOBUF}, timeout=TIMEOUT
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == PROTOBUF
    types, points = proto_values(answer.content)
    assert set(types) == set(parsed)
    assert types["hexlit_frames_in"] == COUNTER
    assert types["hexlit_open_connections"] == GAUGE
    assert types["hexlit_http_request_duration_seconds"] == HISTOGRAM
    assert points[("hexlit_sessions_opened", ())] == sample(
        text.text, "hexlit_sessions_opened_total"
    )
    health = (("code", "200"), ("method", "GET"), ("route", "/_stcore/health"))
    assert points[("hexlit_http_request_duration_seconds_count", health)] >= 1
    assert any(name.startswith("session_") or name.startswith("cache_") for name in types)


def test_protobuf_families_parameter_selects(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    app = tmp_path / "app.py"
    app.write_text(STREAMLIT_APP)
    running = make_server(app=str(app))
    answer = httpx.get(
        running.url("/_stcore/metrics?families=hexlit_frames_in"),
        headers={"Accept": f"text/plain;q=0.5, {PROTOBUF}"},
        timeout=TIMEOUT,
    )
    types, points = proto_values(answer.content)
    assert list(types) == ["hexlit_frames_in"]
    assert points == {("hexlit_frames_in", ()): 0.0}


def test_the_builtin_runtime_answers_text_to_a_protobuf_accept(server: ServerUnderTest) -> None:
    """The protobuf schema is Streamlit's: without Streamlit the answer is OpenMetrics
    text, with its own Content-Type (docs/streamlit-differences.md)."""
    response = httpx.get(
        server.url("/_stcore/metrics"), headers={"Accept": PROTOBUF}, timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert {f.name for f in text_string_to_metric_families(response.text)} >= {"hexlit_frames_in"}


def test_a_client_that_leaves_mid_download_is_still_counted(server: ServerUnderTest) -> None:
    route = (("code", "200"), ("method", "GET"), ("route", "/media/{file}"))
    key = ("hexlit_http_request_duration_seconds_count", route)
    before = values(server).get(key, 0)
    with live_session(server) as session:
        (reply,) = session.command("media media 20000000 video/mp4")
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw:
            raw.sendall(f"GET {reply.split()[1]} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            assert raw.recv(65536).startswith(b"HTTP/1.1 200")
    deadline = time.monotonic() + TIMEOUT
    while values(server).get(key, 0) < before + 1:
        assert time.monotonic() < deadline, "the abandoned download was never counted"
        time.sleep(0.05)
