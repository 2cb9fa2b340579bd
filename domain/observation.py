"""What hexlit measures of itself and traces: routes, sessions, runs, stores.

One place for both web stacks. Each stack calls `HttpTelemetry.begin` once per request
(the `HttpObserver` port); the session core reports through a `SessionWatch` per
connection; stores are wrapped by `observe_store`. Everything lands in one `Traffic`
(read by `/_stcore/metrics`) and, when tracing is on, in spans of the `Tracer` port.

Label values are always from small fixed sets: route templates (never raw paths),
known methods, status codes, close codes, store names. The templates are the web
layer's route table's (`adapters/web/routes.py`), handed in as `HttpTelemetry`'s
`routes`: the core names no path but the two its login-trace rule is about.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar, cast

from hexlit.domain.outbound_queue import OutboundQueue
from hexlit.ports.clock import Clock
from hexlit.ports.connection import CloseCause
from hexlit.ports.errors import HexlitError, StoreUnavailable
from hexlit.ports.metrics import MetricFamily
from hexlit.ports.tracing import Attributes, AttributeValue, Span, SpanKind, Tracer

current_session: ContextVar[str | None] = ContextVar("hexlit_session", default=None)
"""The first 8 characters of the session id of the connection running now (for logs):
set when a session opens, in the connection's own task, so its log lines carry it."""

LOGIN_ROUTE: Final = "/auth/login"
CALLBACK_ROUTE: Final = "/oauth2callback"
TRACE_COOKIE: Final = "_hexlit_trace"
"""Carries a login's `traceparent` through the identity provider to the callback, which
may land on another replica: the whole login is one trace. Trace and span ids only."""
TRACE_COOKIE_SECONDS: Final = 600
_TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"})
OTHER_METHOD: Final = "_OTHER"
"""OpenTelemetry's name for a method outside the known set (keeps labels bounded)."""

LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RUN_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
UPLOAD_OUTCOMES: Final = ("completed", "aborted")


def below_base(path: str, base_path: str) -> str:
    """`path` without the base path it starts with (as the route templates are written)."""
    return path[len(base_path) :] if base_path and path.startswith(base_path) else path


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER_METHOD


# -- metrics ---------------------------------------------------------------------------


class Histogram:
    """A cumulative histogram per label tuple, written as OpenMetrics samples."""

    def __init__(self, label_names: tuple[str, ...], buckets: tuple[float, ...]) -> None:
        self._label_names = label_names
        self._buckets = buckets
        self._series: dict[tuple[str, ...], _Series] = {}

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = _Series([0] * len(self._buckets))
        for index, bound in enumerate(self._buckets):
            if value <= bound:
                series.counts[index] += 1
        series.count += 1
        series.total += value

    def samples(self, name: str) -> tuple[str, ...]:
        lines: list[str] = []
        for labels, series in sorted(self._series.items()):
            named = zip(self._label_names, labels, strict=True)
            pairs = [f'{key}="{_escape(value)}"' for key, value in named]
            for bound, count in zip(self._buckets, series.counts, strict=True):
                le = ",".join([*pairs, f'le="{bound}"'])
                lines.append(f"{name}_bucket{{{le}}} {count}")
            inf = ",".join([*pairs, 'le="+Inf"'])
            lines.append(f"{name}_bucket{{{inf}}} {series.count}")
            own = "{" + ",".join(pairs) + "}" if pairs else ""
            lines.append(f"{name}_count{own} {series.count}")
            lines.append(f"{name}_sum{own} {series.total}")
        return tuple(lines)


@dataclass(slots=True)
class _Series:
    counts: list[int]
    count: int = 0
    total: float = 0.0


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(slots=True)
class Traffic:
    """Everything observed, for `/_stcore/metrics`. Only ever grows, but for the gauges."""

    requests: Histogram = field(
        default_factory=lambda: Histogram(("route", "method", "code"), LATENCY_BUCKETS)
    )
    runs: Histogram = field(default_factory=lambda: Histogram((), RUN_BUCKETS))
    closes: dict[tuple[str, str], int] = field(default_factory=dict)
    upload_bytes: int = 0
    uploads: dict[str, int] = field(default_factory=lambda: dict.fromkeys(UPLOAD_OUTCOMES, 0))
    """Uploads that ended, by outcome: stored (`completed`) or not (`aborted`)."""
    media_bytes: int = 0
    store_errors: dict[str, int] = field(default_factory=dict)
    watches: set[SessionWatch] = field(default_factory=set)
    close_codes: Mapping[CloseCause, int] = field(default_factory=dict)

    def closed(self, cause: CloseCause | None) -> None:
        key = ("client", "none") if cause is None else ("server", self._code(cause))
        self.closes[key] = self.closes.get(key, 0) + 1

    def _code(self, cause: CloseCause) -> str:
        code = self.close_codes.get(cause)
        return str(code) if code is not None else cause.name.lower()

    def families(self) -> list[MetricFamily]:
        depths = [watch.queue_depth() for watch in self.watches]
        return [
            MetricFamily(
                "hexlit_http_request_duration_seconds",
                "histogram",
                "HTTP requests by route template, method and status (upgrades end at 101)",
                self.requests.samples("hexlit_http_request_duration_seconds"),
                unit="seconds",
            ),
            MetricFamily(
                "hexlit_websocket_closes",
                "counter",
                "WebSocket sessions closed, by who closed them and the close code",
                tuple(
                    f'hexlit_websocket_closes_total{{by="{by}",code="{code}"}} {count}'
                    for (by, code), count in sorted(self.closes.items())
                ),
            ),
            MetricFamily(
                "hexlit_outbound_queue_frames",
                "gauge",
                "Frames waiting in the outbound queues of all open connections",
                (f"hexlit_outbound_queue_frames {sum(frames for frames, _ in depths)}",),
            ),
            MetricFamily(
                "hexlit_outbound_queue_max_frames",
                "gauge",
                "Frames waiting in the fullest outbound queue (a slow consumer's backlog)",
                (f"hexlit_outbound_queue_max_frames {max((f for f, _ in depths), default=0)}",),
            ),
            MetricFamily(
                "hexlit_outbound_queue_bytes",
                "gauge",
                "Bytes waiting in the outbound queues of all open connections",
                (f"hexlit_outbound_queue_bytes {sum(size for _, size in depths)}",),
                unit="bytes",
            ),
            MetricFamily(
                "hexlit_upload_bytes",
                "counter",
                "Bytes of uploaded files written to the upload store",
                (f"hexlit_upload_bytes_total {self.upload_bytes}",),
                unit="bytes",
            ),
            MetricFamily(
                "hexlit_uploads",
                "counter",
                "Uploads that ended: completed (stored) or aborted (refused, cut off or failed)",
                tuple(
                    f'hexlit_uploads_total{{outcome="{outcome}"}} {count}'
                    for outcome, count in sorted(self.uploads.items())
                ),
            ),
            MetricFamily(
                "hexlit_media_bytes",
                "counter",
                "Bytes of media files read from the media store for clients",
                (f"hexlit_media_bytes_total {self.media_bytes}",),
                unit="bytes",
            ),
            MetricFamily(
                "hexlit_store_errors",
                "counter",
                "Store calls that failed because the store was unreachable, by store",
                tuple(
                    f'hexlit_store_errors_total{{store="{store}"}} {count}'
                    for store, count in sorted(self.store_errors.items())
                ),
            ),
            MetricFamily(
                "hexlit_rerun_duration_seconds",
                "histogram",
                "Script runs: from the message that asked for it to the last frame flushed",
                self.runs.samples("hexlit_rerun_duration_seconds"),
                unit="seconds",
            ),
        ]


# -- tracing defaults ------------------------------------------------------------------


class _NoSpan:
    def set_attribute(self, key: str, value: AttributeValue) -> None:
        pass

    def fail(self, description: str) -> None:
        pass

    def end(self) -> None:
        pass


NO_SPAN: Final = _NoSpan()


@contextmanager
def _nothing_current() -> Iterator[None]:
    yield


class NoTracer:
    """The tracer of a core built without one (tests, embedding): records nothing."""

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
        return NO_SPAN

    def activate(self, span: Span) -> AbstractContextManager[None]:
        return _nothing_current()

    def current_ids(self) -> tuple[str, str] | None:
        return None

    def traceparent(self, span: Span) -> str | None:
        return None


# -- HTTP requests ---------------------------------------------------------------------


class HttpTelemetry:
    """Implements `HttpObserver`: a span and a latency sample per request.

    `routes` names a path below the base path by its route's template.
    """

    def __init__(
        self,
        traffic: Traffic,
        tracer: Tracer,
        clock: Clock,
        base_path: str,
        routes: Callable[[str], str],
    ) -> None:
        self._traffic = traffic
        self._tracer = tracer
        self._clock = clock
        self._base_path = base_path
        self._routes = routes

    def begin(self, method: str, path: str, header: Callable[[str], str | None]) -> _Exchange:
        route = self._routes(below_base(path, self._base_path))
        method = method_label(method)
        span: Span = NO_SPAN
        if self._tracer.enabled:
            parent = header("traceparent")
            if not parent and route == CALLBACK_ROUTE:
                parent = _trace_cookie(header("cookie"))
            carrier = {"traceparent": parent} if parent else None
            if carrier is not None and (state := header("tracestate")):
                carrier["tracestate"] = state
            span = self._tracer.start_span(
                f"{method} {route}",
                kind=SpanKind.SERVER,
                attributes={
                    "http.request.method": method,
                    "url.path": path,
                    "http.route": route,
                },
                carrier=carrier,
            )
        return _Exchange(self, route, method, span, self._clock.monotonic())

    def _response_headers(self, exchange: _Exchange) -> tuple[tuple[str, str], ...]:
        if exchange.route != LOGIN_ROUTE:
            return ()
        traceparent = self._tracer.traceparent(exchange.span)
        if traceparent is None:
            return ()
        path = f"{self._base_path}{CALLBACK_ROUTE}"
        cookie = f"{TRACE_COOKIE}={traceparent}; Path={path}; Max-Age={TRACE_COOKIE_SECONDS}"
        return (("Set-Cookie", f"{cookie}; HttpOnly; SameSite=Lax"),)

    def _finished(self, exchange: _Exchange, status: int) -> None:
        elapsed = self._clock.monotonic() - exchange.started
        self._traffic.requests.observe((exchange.route, exchange.method, str(status)), elapsed)
        exchange.span.set_attribute("http.response.status_code", status)
        if status >= 500:
            exchange.span.fail(str(status))
        exchange.span.end()


class _Exchange:
    __slots__ = ("_done", "_owner", "method", "route", "span", "started")

    def __init__(
        self, owner: HttpTelemetry, route: str, method: str, span: Span, started: float
    ) -> None:
        self._owner = owner
        self.route = route
        self.method = method
        self.span = span
        self.started = started
        self._done = False

    def active(self) -> AbstractContextManager[None]:
        return self._owner._tracer.activate(self.span)

    def finish(self, status: int) -> None:
        if not self._done:
            self._done = True
            self._owner._finished(self, status)

    def response_headers(self) -> tuple[tuple[str, str], ...]:
        return self._owner._response_headers(self)


def _trace_cookie(cookie_header: str | None) -> str | None:
    """The login's `traceparent` from the trace cookie, if well formed."""
    for part in (cookie_header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == TRACE_COOKIE and _TRACEPARENT.fullmatch(value):
            return value
    return None


# -- sessions and script runs ----------------------------------------------------------


class SessionTelemetry:
    """Hands each connection a `SessionWatch`; learns of completed runs from the runtime."""

    def __init__(self, traffic: Traffic | None = None, tracer: Tracer | None = None) -> None:
        self.traffic = traffic if traffic is not None else Traffic()
        self.tracer: Tracer = tracer if tracer is not None else NoTracer()
        self._by_session: dict[str, SessionWatch] = {}

    def watch(self, session_id: str, resumed: bool, queue: OutboundQueue) -> SessionWatch:
        span: Span = NO_SPAN
        if self.tracer.enabled:
            span = self.tracer.start_span(
                "websocket session",
                attributes={"hexlit.session.id": session_id[:8], "hexlit.session.resumed": resumed},
            )
        watch = SessionWatch(self, session_id, span, queue)
        current_session.set(session_id[:8])
        self._by_session[session_id] = watch
        self.traffic.watches.add(watch)
        return watch

    def run_completed(self, session_id: str) -> None:
        """The runtime finished a script run of `session_id` (its last frame is queued)."""
        watch = self._by_session.get(session_id)
        if watch is not None:
            watch.run_completed()

    def _ended(self, watch: SessionWatch) -> None:
        self.traffic.watches.discard(watch)
        if self._by_session.get(watch.session_id) is watch:
            del self._by_session[watch.session_id]


class SessionWatch:
    """One connection's observations: its session span and its script runs.

    A run starts at the inbound frame that asked for it (the latest one before the
    runtime says the run completed) and ends when every frame queued by then has been
    sent: the client has all of it.
    """

    def __init__(
        self,
        owner: SessionTelemetry | None,
        session_id: str,
        span: Span,
        queue: OutboundQueue | None,
    ) -> None:
        self._owner = owner
        self.session_id = session_id
        self.span = span
        self._queue = queue
        self.cause: CloseCause | None = None
        self._asked_at: int | None = None  # perf_counter_ns of the latest inbound frame
        self._asked_wall: int | None = None
        self._sent = 0
        self._runs: list[tuple[int, int, int, Span]] = []  # (until sent, asked ns, wall, span)
        self._ended = False

    def queue_depth(self) -> tuple[int, int]:
        """(frames, bytes) waiting to be sent to this client."""
        if self._queue is None:
            return (0, 0)
        return (self._queue.pending_frames, self._queue.pending_bytes)

    def frame_in(self) -> None:
        self._asked_at = time.perf_counter_ns()
        self._asked_wall = time.time_ns()

    def run_completed(self) -> None:
        if self._asked_at is None or self._asked_wall is None or self._owner is None:
            return  # a run nobody asked for over this connection (a file change, ...)
        asked, wall = self._asked_at, self._asked_wall
        self._asked_at = self._asked_wall = None
        span: Span = NO_SPAN
        if self._owner.tracer.enabled:
            span = self._owner.tracer.start_span(
                "script run",
                parent=self.span,
                attributes={"hexlit.session.id": self.session_id[:8]},
                start_ns=wall,
            )
        self._runs.append((self._sent + self.queue_depth()[0], asked, wall, span))
        self._flush_done()

    def frame_out(self) -> None:
        self._sent += 1
        if self._runs:
            self._flush_done()

    def _flush_done(self) -> None:
        while self._runs and self._runs[0][0] <= self._sent:
            _, asked, _, span = self._runs.pop(0)
            assert self._owner is not None
            self._owner.traffic.runs.observe((), (time.perf_counter_ns() - asked) / 1e9)
            span.end()

    def end(self) -> None:
        """The connection is released (after `cause` is set when the server closed it)."""
        if self._ended or self._owner is None:
            return
        self._ended = True
        for _, _, _, span in self._runs:
            span.fail("connection closed before the run was delivered")
            span.end()
        self._runs.clear()
        self._owner.traffic.closed(self.cause)
        self.span.set_attribute("hexlit.close.by", "client" if self.cause is None else "server")
        if self.cause is not None:
            self.span.set_attribute("hexlit.close.cause", self.cause.value)
        self.span.end()
        self._owner._ended(self)


def idle_watch() -> SessionWatch:
    """The watch of a connection whose session is not open yet: records nothing."""
    return SessionWatch(None, "", NO_SPAN, None)


# -- stores ----------------------------------------------------------------------------

T = TypeVar("T")


def observe_store(store: T, name: str, traffic: Traffic, tracer: Tracer) -> T:
    """`store` with every call counted on failure and, when tracing, spanned.

    Media reads count the bytes served; upload writers count the bytes written and span
    the whole upload, from `writer` to `commit` or `abort`.
    """
    return cast(T, _ObservedStore(store, name, traffic, tracer))


class _ObservedStore:
    def __init__(self, store: Any, name: str, traffic: Traffic, tracer: Tracer) -> None:
        self._store = store
        self._name = name
        self._traffic = traffic
        self._tracer = tracer

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._store, attr)
        if inspect.isasyncgenfunction(target):
            return self._streamed(attr, target)
        if inspect.iscoroutinefunction(target):
            return self._called(attr, target)
        return target

    def _failed(self, span: Span, error: BaseException) -> None:
        if isinstance(error, StoreUnavailable):
            self._traffic.store_errors[self._name] = (
                self._traffic.store_errors.get(self._name, 0) + 1
            )
        span.fail(error.reason if isinstance(error, HexlitError) else type(error).__name__)

    def _called(self, attr: str, target: Callable[..., Any]) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            span = self._tracer.start_span(
                f"{self._name} {attr}", attributes={"hexlit.store": self._name}
            )
            try:
                result = await target(*args, **kwargs)
            except BaseException as error:
                self._failed(span, error)
                span.end()
                raise
            span.end()
            if attr == "writer":
                return _ObservedWriter(self, result)
            return result

        return call

    def _streamed(self, attr: str, target: Callable[..., Any]) -> Callable[..., Any]:
        async def stream(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
            span = self._tracer.start_span(
                f"{self._name} {attr}", attributes={"hexlit.store": self._name}
            )
            if attr == "read" and len(args) == 3:
                span.set_attribute("hexlit.range", f"{args[1]}-{args[2]}")
            served = 0
            try:
                # Closing this generator (a client that left) closes the store's at once.
                async with contextlib.aclosing(target(*args, **kwargs)) as chunks:
                    async for chunk in chunks:
                        served += len(chunk)
                        self._traffic.media_bytes += len(chunk)
                        yield chunk
            except GeneratorExit:
                raise
            except BaseException as error:
                self._failed(span, error)
                raise
            finally:
                span.set_attribute("hexlit.bytes", served)
                span.end()

        return stream


class _ObservedWriter:
    """An `UploadWriter` whose bytes are counted, spanned as one upload stream."""

    def __init__(self, store: _ObservedStore, writer: Any) -> None:
        self._store = store
        self._writer = writer
        self._written = 0
        self._span = store._tracer.start_span(
            f"{store._name} stream", attributes={"hexlit.store": store._name}
        )

    async def write(self, chunk: bytes) -> None:
        try:
            await self._writer.write(chunk)
        except BaseException as error:
            self._store._failed(self._span, error)
            raise
        self._written += len(chunk)
        self._store._traffic.upload_bytes += len(chunk)

    async def commit(self, file: Any) -> None:
        try:
            await self._writer.commit(file)
        except BaseException as error:
            self._store._failed(self._span, error)
            raise
        finally:
            self._span.set_attribute("hexlit.bytes", self._written)
            self._span.end()
        self._store._traffic.uploads["completed"] += 1

    async def abort(self) -> None:
        """Counted even if the store fails to drop the partial file: the upload ended."""
        try:
            await self._writer.abort()
        finally:
            self._store._traffic.uploads["aborted"] += 1
            self._span.fail("upload aborted")
            self._span.end()
