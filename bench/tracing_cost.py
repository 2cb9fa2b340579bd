"""What tracing costs: rerun round trips and health requests, tracing off and on.

    .venv/bin/python -m bench.tracing_cost [ROUNDS] [RERUNS]   # writes bench/results/tracing.json

Each round starts the built-in counter app twice per stack, tracing off (the no-op
tracer) and on (OpenTelemetry's SDK with a batch processor and an exporter that drops
the spans, so the network is not measured), in alternating order. A client on the same
machine times `RERUNS` sequential `inc` round trips over one WebSocket (each one a
script-run span under the session span) and as many `GET /_stcore/health` on one
keep-alive connection (one server span each). Medians per round; the ratio on/off is
taken within a round.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from dependency_injector import providers
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from websockets.sync.client import connect

from hexlit.adapters.telemetry.otel import OtelTracer
from tests.support.server import ServerUnderTest

RESULTS = Path(__file__).resolve().parent / "results" / "tracing.json"
WARM_UP = 200


class DroppingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def measure(stack: str, traced: bool, reruns: int) -> dict[str, float]:
    server = ServerUnderTest(stack)
    if traced:
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(DroppingExporter()))
        server.container.tracer.override(providers.Object(OtelTracer(provider)))
    with server, connect(server.ws_url()) as ws, httpx.Client() as client:
        ws.recv(timeout=10)
        rerun: list[float] = []
        for index in range(WARM_UP + reruns):
            started = time.perf_counter()
            ws.send(b"inc")
            ws.recv(timeout=10)
            if index >= WARM_UP:
                rerun.append(time.perf_counter() - started)
        health: list[float] = []
        url = server.url("/_stcore/health")
        for index in range(WARM_UP + reruns):
            started = time.perf_counter()
            client.get(url)
            if index >= WARM_UP:
                health.append(time.perf_counter() - started)
    return {
        "rerun_us": statistics.median(rerun) * 1e6,
        "health_us": statistics.median(health) * 1e6,
    }


def main(rounds: int, reruns: int) -> None:
    results: dict[str, list[dict[str, float]]] = {}
    for round_index in range(rounds):
        for stack in ("starlette", "tornado"):
            order = (False, True) if round_index % 2 == 0 else (True, False)
            measured = {traced: measure(stack, traced, reruns) for traced in order}
            off, on = measured[False], measured[True]
            results.setdefault(stack, []).append(
                {
                    "rerun_off_us": off["rerun_us"],
                    "rerun_on_us": on["rerun_us"],
                    "health_off_us": off["health_us"],
                    "health_on_us": on["health_us"],
                }
            )
            print(stack, round_index, json.dumps(results[stack][-1]))
    summary = {
        stack: {
            key: statistics.median(one[key] for one in rounds_of)
            for key in ("rerun_off_us", "rerun_on_us", "health_off_us", "health_on_us")
        }
        for stack, rounds_of in results.items()
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"rounds": results, "median": summary}, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 3,
        int(sys.argv[2]) if len(sys.argv) > 2 else 2000,
    )
