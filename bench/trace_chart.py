"""docs/operations-trace.png: the span tree of one rerun, from OpenTelemetry's in-memory
exporter.

Two steps, because the span recording needs the test venv (the server helpers) and the
drawing needs matplotlib (the bench venv):

    .venv/bin/python -m bench.trace_chart record        # writes bench/results/trace.json
    .venv-bench/bin/python -m bench.trace_chart draw    # writes docs/operations-trace.png

`record` runs the built-in counter app on each stack, opens a session, asks for one
rerun (`inc`) with a W3C `traceparent` on the upgrade, closes, and keeps every span.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "trace.json"
OUTPUT = HERE.parent / "docs" / "operations-trace.png"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TIMEOUT = 10.0


def record() -> None:
    from dependency_injector import providers
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from websockets.sync.client import connect

    from hexlit.adapters.telemetry.otel import OtelTracer
    from tests.support.server import ServerUnderTest

    traces: dict[str, list[dict[str, Any]]] = {}
    for stack in ("starlette", "tornado"):
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        server = ServerUnderTest(stack)
        server.container.tracer.override(providers.Object(OtelTracer(provider)))
        with server:
            headers = {"traceparent": TRACEPARENT}
            with connect(server.ws_url(), additional_headers=headers) as ws:
                ws.recv(timeout=TIMEOUT)
                ws.send(b"inc")
                ws.recv(timeout=TIMEOUT)
            deadline = time.monotonic() + TIMEOUT
            while not any(s.name == "websocket session" for s in exporter.get_finished_spans()):
                if time.monotonic() > deadline:
                    raise SystemExit("the session span did not end")
                time.sleep(0.02)
        traces[stack] = [
            {
                "name": span.name,
                "span_id": f"{span.context.span_id:016x}",
                "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
                "trace_id": f"{span.context.trace_id:032x}",
                "start_ns": span.start_time,
                "end_ns": span.end_time,
                "attributes": dict(span.attributes or {}),
            }
            for span in exporter.get_finished_spans()
        ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(traces, indent=2) + "\n")
    print(f"wrote {RESULTS}")


def draw() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    traces: dict[str, list[dict[str, Any]]] = json.loads(RESULTS.read_text())
    figure, _ = plt.subplots(len(traces), 1, figsize=(10, 1.3 + 1.1 * len(traces) * 2))
    for ax, (stack, spans) in zip(figure.axes, traces.items(), strict=True):
        ordered = _depth_first(spans)
        origin = min(span["start_ns"] for span in spans)
        for row, (depth, span) in enumerate(ordered):
            start = (span["start_ns"] - origin) / 1e6
            length = max((span["end_ns"] - span["start_ns"]) / 1e6, 0.02)
            ax.barh(row, length, left=start, color=f"C{depth}", height=0.6)
            label = f"{'   ' * depth}{span['name']}  ({length:.2f} ms)"
            ax.text(start + length, row, "  " + label, va="center", fontsize=9)
        ax.set_yticks([])
        ax.invert_yaxis()
        ax.set_xlabel("milliseconds since the upgrade request arrived")
        trace_id = spans[0]["trace_id"]
        ax.set_title(f"{stack}: one rerun of builtin:counter, trace {trace_id[:8]}…", fontsize=10)
        ax.margins(x=0.6)
    figure.tight_layout()
    figure.savefig(OUTPUT, dpi=110)
    print(f"wrote {OUTPUT}")


def _depth_first(spans: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    ids = {span["span_id"] for span in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:
        parent = span["parent_id"] if span["parent_id"] in ids else None
        children.setdefault(parent, []).append(span)
    ordered: list[tuple[int, dict[str, Any]]] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s["start_ns"]):
            ordered.append((depth, span))
            walk(span["span_id"], depth + 1)

    walk(None, 0)
    return ordered


if __name__ == "__main__":
    {"record": record, "draw": draw}[sys.argv[1] if len(sys.argv) > 1 else "draw"]()
