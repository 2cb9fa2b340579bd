"""One conformance suite, run against every web stack.

`stack` parametrizes a test over all stacks; `server` gives a default server per stack
(shared by the tests of a module); `make_server` boots one with options of its own.

The HTTP cases also run on `WORKER_STACKS`: a real `hexlit run --hexlit.workers 2` (ADR
0015), one per stack for the whole package, where the kernel picks the worker that
answers each connection, so a session held by one worker (its WebSocket) is served over
HTTP (uploads, media) by either. Those are the tests of `HTTP_MODULES` that take the
default `server` and do not build a server of their own (`make_server` starts one per
test: 10-15 s for three processes on two busy cores), but for `IN_ONE_PROCESS_ONLY`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from tests.support.server import ServerUnderTest
from tests.support.stacks import WEB_STACKS
from tests.workers.support import WorkersServer

STACKS = (*WEB_STACKS, "starlette+speed")
"""`starlette+speed` is Starlette on uvloop and httptools (tests/support/server.py)."""


WORKER_STACKS = tuple(f"{web}-workers2" for web in WEB_STACKS)
"""`hexlit run --web <stack> --hexlit.workers 2` in a process of its own (WorkersServer)."""
HTTP_MODULES = frozenset({
    "test_agent_api.py", "test_connection_limits.py", "test_frontend.py", "test_media.py",
    "test_metrics.py", "test_probes.py", "test_route_hardening.py", "test_route_table.py",
    "test_uploads.py",
})  # fmt: skip
"""Left out: WebSocket protocol (test_stream: a resume sent within ADR 0023's 400 ms
snapshot delay that lands on the other worker starts a new session, as documented), and
modules whose servers are built in this process by their own fixtures (app static and
components, auth, tracing, snapshots, st.App objects, static memory)."""
PER_WORKER_METRICS = "two scrapes may reach two workers, each counting its own (ADR 0015)"
IN_ONE_PROCESS_ONLY = {
    "test_media.py::test_a_client_that_leaves_stops_the_read": PER_WORKER_METRICS,
    "test_metrics.py::test_counters_follow_the_traffic": PER_WORKER_METRICS,
    "test_metrics.py::test_request_latency_is_labelled_by_route_template_never_raw_path": (
        PER_WORKER_METRICS
    ),
    "test_metrics.py::test_websocket_upgrade_closes_and_reruns_are_counted": PER_WORKER_METRICS,
    "test_metrics.py::test_media_and_upload_bytes_are_counted": PER_WORKER_METRICS,
    "test_metrics.py::test_a_client_that_leaves_mid_download_is_still_counted": (
        PER_WORKER_METRICS
    ),
}
"""Tests of `HTTP_MODULES` that take `server` but need it in one process, with why."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "stack" not in metafunc.fixturenames:
        return
    name = f"{metafunc.definition.path.name}::{metafunc.definition.originalname}"
    on_workers = (
        metafunc.definition.path.name in HTTP_MODULES
        and "server" in metafunc.fixturenames
        and "make_server" not in metafunc.fixturenames
        and name not in IN_ONE_PROCESS_ONLY
    )
    stacks = STACKS + WORKER_STACKS if on_workers else STACKS
    metafunc.parametrize("stack", stacks, indirect=True, scope="module")


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="package")
def workers_servers() -> Iterator[dict[str, WorkersServer]]:
    """The `WORKER_STACKS` servers, each started when a test first needs it."""
    started: dict[str, WorkersServer] = {}
    yield started
    for running in started.values():
        running.stop()


@pytest.fixture(scope="module")
def server(stack: str, request: pytest.FixtureRequest) -> Iterator[ServerUnderTest | WorkersServer]:
    if stack in WORKER_STACKS:
        shared: dict[str, WorkersServer] = request.getfixturevalue("workers_servers")
        if stack not in shared:
            starting = WorkersServer(stack)
            starting.start()
            shared[stack] = starting
        yield shared[stack]
        return
    with ServerUnderTest(stack) as running:
        yield running


@pytest.fixture
def make_server(stack: str) -> Iterator[Callable[..., ServerUnderTest]]:
    started: list[ServerUnderTest] = []

    def make(
        options: Mapping[str, Any] | None = None, app: str = "builtin:counter"
    ) -> ServerUnderTest:
        running = ServerUnderTest(stack, options, app)
        running.start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
