"""`/_stcore/metrics`: OpenMetrics text with the runtime's families and hexlit's own."""

from __future__ import annotations

import httpx
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from websockets.sync.client import connect

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
