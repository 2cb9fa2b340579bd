"""Tracing and request observation: what the core needs to record spans and timings.

`Tracer` is an outbound port. The core calls it in one place for every span (HTTP
requests, WebSocket sessions, script runs, store calls), so both web stacks emit the
same spans. The default implementation does nothing and imports nothing; the
OpenTelemetry one (`adapters/telemetry/otel.py`) is wired only when tracing is on
(docs/adr: the tracing port).

`HttpObserver` is an inbound port: each web stack calls `begin` once per request, with
the raw method and path, and finishes the `Exchange` with the status it sent.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Protocol

AttributeValue = str | int | float | bool
Attributes = Mapping[str, AttributeValue]


class SpanKind(enum.Enum):
    """OpenTelemetry's span kinds that hexlit uses."""

    SERVER = "server"
    INTERNAL = "internal"
    CLIENT = "client"


class Span(Protocol):
    """One started span. `end` is idempotent."""

    def set_attribute(self, key: str, value: AttributeValue) -> None: ...

    def fail(self, description: str) -> None:
        """Mark the span as failed (status ERROR), with a short reason (never a secret)."""
        ...

    def end(self) -> None: ...


class Tracer(Protocol):
    """Starts spans and tells the ids of the current one."""

    @property
    def enabled(self) -> bool:
        """False for the no-op tracer, so callers can skip building attributes."""
        ...

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
        """Start a span, child of `parent`, else of the W3C context in `carrier` (the
        `traceparent` header of a request), else of the current span."""
        ...

    def activate(self, span: Span) -> AbstractContextManager[None]:
        """Make `span` the current one for the code inside, so spans started there
        (store calls) become its children."""
        ...

    def current_ids(self) -> tuple[str, str] | None:
        """(trace id, span id) of the current span in hex, or None (for log lines)."""
        ...

    def traceparent(self, span: Span) -> str | None:
        """`span` as a W3C `traceparent` value, to continue its trace elsewhere."""
        ...


class Exchange(Protocol):
    """One HTTP request, as observed: its span and timing."""

    def active(self) -> AbstractContextManager[None]:
        """The request's span is current inside (for its child spans)."""
        ...

    def finish(self, status: int) -> None:
        """The response status was sent (or 101 for a WebSocket upgrade). Idempotent."""
        ...

    def response_headers(self) -> tuple[tuple[str, str], ...]:
        """Headers to add to the response (the login's trace cookie), usually none."""
        ...


class HttpObserver(Protocol):
    """The inbound port both web stacks call once per request."""

    def begin(self, method: str, path: str, header: Callable[[str], str | None]) -> Exchange:
        """A request arrived; `header(name)` reads one of its headers (for `traceparent`)."""
        ...


def no_context() -> Iterator[None]:
    """The body of a context manager that does nothing (for no-op implementations)."""
    yield
