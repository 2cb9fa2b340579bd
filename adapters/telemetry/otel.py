"""The `Tracer` port on OpenTelemetry (the `otel` extra).

Imported only when `hexlit.tracing = "otlp"` (or `OTEL_TRACES_EXPORTER=otlp`), so a
server without tracing never loads OpenTelemetry. The W3C `traceparent` of a request
is honoured through OpenTelemetry's TraceContext propagator.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from hexlit.ports.tracing import Attributes, AttributeValue, Span, SpanKind

_KINDS = {
    SpanKind.SERVER: trace.SpanKind.SERVER,
    SpanKind.INTERNAL: trace.SpanKind.INTERNAL,
    SpanKind.CLIENT: trace.SpanKind.CLIENT,
}
_PROPAGATOR = TraceContextTextMapPropagator()
SCOPE = "hexlit"


class OtelSpan:
    """Implements `Span` around an OpenTelemetry span."""

    __slots__ = ("span",)

    def __init__(self, span: trace.Span) -> None:
        self.span = span

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self.span.set_attribute(key, value)

    def fail(self, description: str) -> None:
        self.span.set_status(Status(StatusCode.ERROR, description))

    def end(self) -> None:
        if self.span.is_recording():
            self.span.end()


class OtelTracer:
    """Implements `Tracer` with an OpenTelemetry `TracerProvider`."""

    enabled = True

    def __init__(self, provider: trace.TracerProvider) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer(SCOPE)

    def start_span(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes | None = None,
        parent: Span | None = None,
        carrier: Mapping[str, str] | None = None,
        start_ns: int | None = None,
    ) -> Span:
        where: context.Context | None = None
        if isinstance(parent, OtelSpan):
            where = trace.set_span_in_context(parent.span)
        elif carrier:
            where = _PROPAGATOR.extract(dict(carrier))
        span = self._tracer.start_span(
            name, context=where, kind=_KINDS[kind], attributes=attributes, start_time=start_ns
        )
        return OtelSpan(span)

    def activate(self, span: Span) -> AbstractContextManager[None]:
        return _activated(span)

    def current_ids(self) -> tuple[str, str] | None:
        found = trace.get_current_span().get_span_context()
        if not found.is_valid:
            return None
        return (f"{found.trace_id:032x}", f"{found.span_id:016x}")

    def traceparent(self, span: Span) -> str | None:
        if not isinstance(span, OtelSpan):
            return None
        found = span.span.get_span_context()
        if not found.is_valid:
            return None
        return f"00-{found.trace_id:032x}-{found.span_id:016x}-{found.trace_flags:02x}"

    def shutdown(self) -> None:
        """Flush the spans still buffered (at exit)."""
        shutdown = getattr(self._provider, "shutdown", None)
        if shutdown is not None:
            shutdown()


@contextmanager
def _activated(span: Span) -> Iterator[None]:
    if not isinstance(span, OtelSpan):
        yield
        return
    token = context.attach(trace.set_span_in_context(span.span))
    try:
        yield
    finally:
        context.detach(token)


def otlp_tracer(exporter: SpanExporter | None = None) -> OtelTracer:
    """A tracer exporting over OTLP/HTTP (configured by the standard `OTEL_EXPORTER_OTLP_*`
    variables), or to `exporter`. `OTEL_SERVICE_NAME` names the service (default hexlit).
    """
    if exporter is None:
        try:  # the exporter is in the otel extra, not in the dev environment
            otlp = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
        except ImportError as missing:
            raise RuntimeError(
                "hexlit.tracing = otlp needs the OTLP exporter: pip install 'hexlit[otel]'"
            ) from missing
        exporter = otlp.OTLPSpanExporter()
    service = os.environ.get("OTEL_SERVICE_NAME", "hexlit")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return OtelTracer(provider)
