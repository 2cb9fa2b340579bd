"""The observation rules: bounded labels, histograms, store wrapping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from hexlit.domain.observation import NoTracer, Traffic, observe_store
from hexlit.ports.errors import StoreUnavailable


class FlakyStore:
    async def info(self, media_id: str) -> None:
        raise StoreUnavailable("redis is down")

    async def read(self, media_id: str, start: int, end: int) -> AsyncGenerator[bytes, None]:
        yield b"abc"
        yield b"de"


def exposition(traffic: Traffic) -> str:
    lines = []
    for family in traffic.families():
        lines.append(f"# TYPE {family.name} {family.type}")
        if family.unit:
            lines.append(f"# UNIT {family.name} {family.unit}")
        lines.extend(family.samples)
    return "\n".join([*lines, "# EOF", ""])


def test_store_errors_are_counted_by_store_and_media_bytes_by_chunk() -> None:
    traffic = Traffic()
    store = observe_store(FlakyStore(), "media", traffic, NoTracer())

    async def use() -> bytes:
        with pytest.raises(StoreUnavailable):
            await store.info("x")
        return b"".join([chunk async for chunk in store.read("x", 0, 4)])

    assert asyncio.run(use()) == b"abcde"
    assert traffic.store_errors == {"media": 1}
    assert traffic.media_bytes == 5
    parsed = {f.name: f for f in text_string_to_metric_families(exposition(traffic))}
    (errors,) = parsed["hexlit_store_errors"].samples
    assert (errors.labels, errors.value) == ({"store": "media"}, 1)


def test_histograms_are_cumulative_and_parse() -> None:
    traffic = Traffic()
    for seconds in (0.001, 0.02, 0.02, 3.0):
        traffic.requests.observe(("/_stcore/health", "GET", "200"), seconds)
    parsed = {f.name: f for f in text_string_to_metric_families(exposition(traffic))}
    samples = parsed["hexlit_http_request_duration_seconds"].samples
    buckets = {s.labels["le"]: s.value for s in samples if s.name.endswith("_bucket")}
    assert (buckets["0.005"], buckets["0.025"], buckets["2.5"], buckets["+Inf"]) == (1, 3, 3, 4)
