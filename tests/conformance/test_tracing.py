"""Tracing through the `Tracer` port, recorded by OpenTelemetry's in-memory exporter.

The same requests give the same span tree, names and attributes on every stack; an
incoming W3C `traceparent` is honoured; without tracing, OpenTelemetry is not imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from websockets.sync.client import connect

from hexlit.adapters.telemetry.otel import OtelTracer
from tests.conformance.test_auth import SECRET, login
from tests.support.files import live_session, multipart
from tests.support.net import free_port
from tests.support.oidc import auth_secrets, oidc_provider
from tests.support.server import ServerUnderTest
from tests.support.stacks import WEB_STACKS
from tests.support.tokens import encode_provider_token

TIMEOUT = 10.0
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class TracedServer:
    """A server of `stack` whose spans land in memory."""

    def __init__(
        self,
        stack: str,
        options: dict[str, object] | None = None,
        workdir: Path | None = None,
        app: str = "builtin:counter",
    ) -> None:
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.server = ServerUnderTest(stack, options, app, workdir=workdir)
        self.server.container.tracer.override(providers.Object(OtelTracer(provider)))

    def spans(self) -> tuple[ReadableSpan, ...]:
        return tuple(self.exporter.get_finished_spans())

    def wait_for(self, name: str, count: int = 1) -> tuple[ReadableSpan, ...]:
        """The finished spans once `count` named `name` are among them (bounded wait)."""
        arrived = threading.Event()
        for _ in range(int(TIMEOUT / 0.02)):
            if sum(span.name == name for span in self.spans()) >= count:
                return self.spans()
            arrived.wait(0.02)
        raise AssertionError(f"no span {name!r} within {TIMEOUT}s: {self.spans()}")


@pytest.fixture
def traced(stack: str) -> Iterator[TracedServer]:
    running = TracedServer(stack)
    running.server.start()
    try:
        yield running
    finally:
        running.server.stop()


def tree(spans: tuple[ReadableSpan, ...]) -> list[tuple[int, str]]:
    """(depth, name) in depth-first order, children sorted by name: comparable across stacks."""
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    ids = {span.context.span_id for span in spans}
    for span in spans:
        parent = span.parent.span_id if span.parent and span.parent.span_id in ids else None
        by_parent.setdefault(parent, []).append(span)
    lines: list[tuple[int, str]] = []

    def walk(parent: int | None, depth: int) -> None:
        for child in sorted(by_parent.get(parent, []), key=lambda span: span.name):
            lines.append((depth, child.name))
            walk(child.context.span_id, depth + 1)

    walk(None, 0)
    return lines


def one_rerun(traced: TracedServer) -> tuple[ReadableSpan, ...]:
    with connect(traced.server.ws_url(), open_timeout=TIMEOUT) as ws:
        ws.recv(timeout=TIMEOUT)
        ws.send(b"inc")
        assert ws.recv(timeout=TIMEOUT) == b"count 1"
    return traced.wait_for("websocket session")


EXPECTED_RERUN_TREE = [
    (0, "GET /_stcore/stream"),
    (1, "websocket session"),
    (2, "script run"),
]


def test_one_rerun_gives_the_same_span_tree_on_every_stack(traced: TracedServer) -> None:
    spans = one_rerun(traced)
    assert tree(spans) == EXPECTED_RERUN_TREE
    (request,) = [span for span in spans if span.name == "GET /_stcore/stream"]
    assert dict(request.attributes or {}) == {
        "http.request.method": "GET",
        "url.path": "/_stcore/stream",
        "http.route": "/_stcore/stream",
        "http.response.status_code": 101,
    }
    (run,) = [span for span in spans if span.name == "script run"]
    (session,) = [span for span in spans if span.name == "websocket session"]
    assert run.end_time is not None
    assert session.end_time is not None
    assert run.end_time <= session.end_time
    assert {span.context.trace_id for span in spans} == {request.context.trace_id}


def test_starlette_and_tornado_trees_are_identical() -> None:
    trees = {}
    for stack in WEB_STACKS:
        running = TracedServer(stack)
        running.server.start()
        try:
            spans = one_rerun(running)
            trees[stack] = [
                (depth, name, sorted(next(s for s in spans if s.name == name).attributes or {}))
                for depth, name in tree(spans)
            ]
        finally:
            running.server.stop()
    assert trees["starlette"] == trees["tornado"]


def test_http_spans_follow_the_server_semantic_conventions(traced: TracedServer) -> None:
    response = httpx.get(traced.server.url("/media/abc-not-there.mp4"), timeout=TIMEOUT)
    assert response.status_code == 404
    (span,) = traced.wait_for("GET /media/{file}")
    assert span.kind.name == "SERVER"
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.path": "/media/abc-not-there.mp4",
        "http.route": "/media/{file}",
        "http.response.status_code": 404,
    }


def test_an_incoming_traceparent_is_honoured(traced: TracedServer) -> None:
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    httpx.get(
        traced.server.url("/_stcore/health"), headers={"traceparent": traceparent}, timeout=TIMEOUT
    )
    with connect(
        traced.server.ws_url(),
        open_timeout=TIMEOUT,
        additional_headers={"traceparent": traceparent},
    ) as ws:
        ws.recv(timeout=TIMEOUT)
    spans = traced.wait_for("websocket session")
    for name in ("GET /_stcore/health", "GET /_stcore/stream", "websocket session"):
        (span,) = [span for span in spans if span.name == name]
        assert f"{span.context.trace_id:032x}" == TRACE_ID, name
    (health,) = [span for span in spans if span.name == "GET /_stcore/health"]
    assert health.parent is not None
    assert f"{health.parent.span_id:016x}" == PARENT_ID


def test_media_range_reads_and_uploads_are_child_spans(traced: TracedServer) -> None:
    with live_session(traced.server) as session:
        (reply,) = session.command("media media 1000 video/mp4")
        media_url = reply.split()[1]
        response = httpx.get(
            traced.server.url(media_url), headers={"Range": "bytes=10-109"}, timeout=TIMEOUT
        )
        assert response.status_code == 206
        url = session.upload_url()
        assert (
            session.put(url, multipart(("a.bin", b"y" * 300, "application/x"))).status_code == 204
        )
    spans = traced.wait_for("websocket session")
    names = {span.context.span_id: span.name for span in spans}

    def parent_name(span: ReadableSpan) -> str | None:
        return names.get(span.parent.span_id) if span.parent else None

    (read,) = [span for span in spans if span.name == "media read"]
    assert parent_name(read) == "GET /media/{file}"
    assert dict(read.attributes or {})["hexlit.range"] == "10-109"
    (stream,) = [span for span in spans if span.name == "uploads stream"]
    assert parent_name(stream) == "PUT /_stcore/upload_file/{session_id}/{file_id}"
    assert dict(stream.attributes or {})["hexlit.bytes"] == 300


def test_without_tracing_opentelemetry_is_never_imported() -> None:
    """In a fresh interpreter: build and start the default server, serve a request."""
    script = """
import json, sys, httpx
from tests.support.server import ServerUnderTest
with ServerUnderTest("starlette") as server:
    server.container.use_cases()
    httpx.get(server.url("/_stcore/health"), timeout=10)
print(json.dumps(sorted(name for name in sys.modules if name.startswith("opentelemetry"))))
"""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=environ,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_oidc_callback_spans_its_exchange_with_the_provider(stack: str, tmp_path: Path) -> None:
    with oidc_provider() as provider:
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(
            auth_secrets(provider, SECRET, "hexlit-tests")
        )
        traced = TracedServer(stack, {"server.port": free_port()}, workdir=tmp_path)
        traced.server.start()
        try:
            with login(traced.server, provider, sub="alice", email="alice@example.com"):
                pass
            spans = traced.wait_for("GET /oauth2callback")
        finally:
            traced.server.stop()
    names = {span.context.span_id: span.name for span in spans}
    (exchange,) = [span for span in spans if span.name == "oidc exchange"]
    assert exchange.parent is not None
    assert names[exchange.parent.span_id] == "GET /oauth2callback"
    for span in spans:  # nothing of the login's secrets in any attribute
        for value in (span.attributes or {}).values():
            assert SECRET not in str(value)
            assert "code=" not in str(value)


def test_a_login_started_on_one_replica_and_finished_on_another_is_one_trace(
    stack: str, tmp_path: Path
) -> None:
    """Replicas A and B share the secrets; the IdP sends the browser back to B."""
    port_a, port_b = free_port(), free_port()
    with oidc_provider() as provider:
        (tmp_path / ".streamlit").mkdir()
        secrets = auth_secrets(provider, SECRET, "hexlit-tests").replace("{port}", str(port_a))
        (tmp_path / ".streamlit" / "secrets.toml").write_text(secrets)
        replica_a = TracedServer(stack, {"server.port": port_a}, workdir=tmp_path)
        replica_b = TracedServer(stack, {"server.port": port_b}, workdir=tmp_path)
        replica_a.server.start()
        replica_b.server.start()
        try:
            with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as browser:
                token = encode_provider_token("default", SECRET, int(time.time()))
                start = browser.get(replica_a.server.url(f"/auth/login?provider={token}"))
                assert start.status_code == 302
                callback = provider.authorize(start.headers["location"], sub="bob", email="b@c.d")
                on_b = callback.replace(f":{port_a}/", f":{port_b}/")
                assert browser.get(on_b).status_code == 302
            spans_a = replica_a.wait_for("GET /auth/login")
            spans_b = replica_b.wait_for("GET /oauth2callback")
        finally:
            replica_a.server.stop()
            replica_b.server.stop()
    (login,) = [span for span in spans_a if span.name == "GET /auth/login"]
    (finished,) = [span for span in spans_b if span.name == "GET /oauth2callback"]
    assert finished.context.trace_id == login.context.trace_id
    assert finished.parent is not None
    assert finished.parent.span_id == login.context.span_id


STREAMLIT_APP = """
import streamlit as st

st.markdown("traced")
"""


def test_a_streamlit_rerun_is_one_script_run_span_until_script_finished(
    stack: str, tmp_path: Path
) -> None:
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    app = tmp_path / "app.py"
    app.write_text(STREAMLIT_APP)
    traced = TracedServer(stack, app=str(app))
    traced.server.start()
    try:
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        with connect(
            traced.server.ws_url(),
            subprotocols=["streamlit", "xsrf-like-token"],  # type: ignore[list-item]
            open_timeout=TIMEOUT,
        ) as ws:
            ws.send(rerun.SerializeToString())
            message = ForwardMsg()
            while message.WhichOneof("type") != "script_finished":
                message = ForwardMsg()
                message.ParseFromString(ws.recv(timeout=TIMEOUT))
            (run,) = [s for s in traced.wait_for("script run") if s.name == "script run"]
        spans = traced.wait_for("websocket session")
    finally:
        traced.server.stop()
    assert tree(spans) == EXPECTED_RERUN_TREE
    assert run.end_time is not None
