"""Reading a running server's counters where an operator reads them: `/_stcore/metrics`."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from tests.support.server import ServerUnderTest

TIMEOUT = 30.0


def counter(server: ServerUnderTest, name: str, **labels: str) -> float:
    """The sample `name` with exactly `labels` in the server's OpenMetrics text (0 if absent)."""
    response = httpx.get(server.url("/_stcore/metrics"), timeout=TIMEOUT)
    response.raise_for_status()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def wait_for_counter(
    server: ServerUnderTest, name: str, done: Callable[[float], bool], **labels: str
) -> float:
    """Scrape until `done(value)` holds (30 s at most); the last value either way."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        value = counter(server, name, **labels)
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
