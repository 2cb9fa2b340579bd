"""The default `Tracer`: records nothing, imports nothing, costs one attribute check."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

from hexlit.ports.tracing import Attributes, AttributeValue, Span, SpanKind


class _NoSpan:
    def set_attribute(self, key: str, value: AttributeValue) -> None:
        pass

    def fail(self, description: str) -> None:
        pass

    def end(self) -> None:
        pass


_NO_SPAN = _NoSpan()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


class NoopTracer:
    """Implements `Tracer` when `hexlit.tracing` is off."""

    enabled = False

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
        return _NO_SPAN

    def activate(self, span: Span) -> AbstractContextManager[None]:
        return _nothing()

    def current_ids(self) -> tuple[str, str] | None:
        return None

    def traceparent(self, span: Span) -> str | None:
        return None
