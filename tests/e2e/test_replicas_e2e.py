"""Two replicas, no affinity, one Redis: a page in real Chromium keeps its state (issue 13).

Per stack, two `hexlit run` processes (harness.AppServer) of a small app share one real
`redis-server` (tests.support.redis; `hexlit.store = "redis"`, snapshots on, one cookie
secret) behind a real nginx (tests.support.nginx) doing plain round-robin for every
request, the WebSocket included (`sticky_websocket=False`: no hash, no affinity at all).
The browser only ever talks to nginx.

The app prints `Served by process PID` and `Session ID`, so the page itself says which
replica ran its last script run (a restore on another replica reruns the script there,
ADR 0011, and the page then names the other process) and which session it is. A wait
for a run to be durable watches that session's own snapshot generation in Redis, never
a replica's counter, which other sessions move too. Every case asserts the exact
counter and text:

1. a dropped socket whose reconnect lands on the other replica (the replicas' metrics
   say where it landed; round-robin alternates, a reconnect that went back to the holder
   is dropped again);
2. SIGTERM of the replica holding the socket (a drain: snapshot, close 1012, exit 0);
3. kill -9 of the holder once the last run's snapshot is durable;
4. a second user (another browser context) never sees the first user's state.

The cluster is shared by the tests of one stack; a replica a test stopped is started
again (same port) before the next test. Every wait polls with a bound.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Final

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.harness import HEXLIT_STACKS, AppServer
from tests.e2e.pages import (
    RECONNECT_TIMEOUT,
    TIMEOUT,
    close_open_sockets_from_the_page,
    enter_name,
    expect_count,
    expect_no_connection_error,
    increment,
    new_isolated_context,
    stream_socket_count,
    wait_for_new_open_socket,
)
from tests.e2e.test_snapshots import counter
from tests.support.net import free_port
from tests.support.nginx import NginxProxy, nginx_proxy
from tests.support.redis import RedisServer, redis_server, stored_snapshot_generation

WAIT: Final = 30.0  # s, for any condition polled here (a busy machine)
# Round-robin over two replicas sends every other reconnect to the other one; while nginx
# counts a replica that was just restarted as failed (fail_timeout, 10 s), none.
RECONNECT_ATTEMPTS: Final = 20

APP: Final = """\
import os

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

st.title("Replicas")
st.write(f"Served by process {os.getpid()}")
st.write(f"Session {get_script_run_ctx().session_id}")
if "count" not in st.session_state:
    st.session_state["count"] = 0


def increment():
    st.session_state["count"] += 1


st.button("Increment", on_click=increment)
st.write(f"Count: {st.session_state['count']}")
name = st.text_input("Your name")
if name:
    st.write(f"Hello, {name}!")
"""


def config(redis_url: str) -> str:
    return (
        "[server]\n"
        "headless = true\n"
        'fileWatcherType = "none"\n'
        'cookieSecret = "e2e replicas shared secret"\n'
        "[browser]\n"
        "gatherUsageStats = false\n"
        "[hexlit]\n"
        'store = "redis"\n'
        f'redis_url = "{redis_url}"\n'
        'sessionSnapshots = "on"\n'
    )


@dataclass
class Cluster:
    redis: RedisServer
    replicas: tuple[AppServer, AppServer]
    proxy: NginxProxy

    def other(self, replica: AppServer) -> AppServer:
        first, second = self.replicas
        return second if replica is first else first

    def serving(self, page: Page) -> AppServer:
        """The replica whose process drew the page's last run."""
        line = page.get_by_text(re.compile(r"^Served by process \d+$"))
        expect(line).to_be_visible(timeout=TIMEOUT)
        pid = int(line.inner_text().rsplit(" ", 1)[1])
        for replica in self.replicas:
            if replica.process is not None and replica.process.pid == pid:
                return replica
        raise AssertionError(f"process {pid} is none of the replicas\n{self.logs()}")

    def logs(self) -> str:
        parts = [f"--- {r.stack} replica :{r.port}\n{r.log_text()[-6000:]}" for r in self.replicas]
        return "\n".join([*parts, self.proxy.logs()])


@pytest.fixture(scope="module", params=HEXLIT_STACKS)
def running_cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    stack = str(request.param)
    folder = tmp_path_factory.mktemp(f"e2e-replicas-{stack}")
    with ExitStack() as running:
        redis = running.enter_context(redis_server())
        app = folder / "app"
        (app / ".streamlit").mkdir(parents=True)
        (app / ".streamlit" / "config.toml").write_text(config(redis.url))
        (app / "app.py").write_text(APP)
        first, second = (AppServer(stack, free_port(), folder, app=app / "app.py") for _ in "ab")
        for replica in (first, second):
            replica.launch()  # both at once: starting is most of this fixture's time
            running.callback(replica.stop)
        for replica in (first, second):
            replica.wait_until_healthy()
        proxy = running.enter_context(
            nginx_proxy([first.port, second.port], sticky_websocket=False)
        )
        yield Cluster(redis, (first, second), proxy)


@pytest.fixture
def cluster(running_cluster: Cluster) -> Cluster:
    """The stack's cluster with both replicas running: a replica a previous test
    stopped, and did not launch again itself, starts again on its port."""
    for replica in running_cluster.replicas:
        if replica.process is None:
            replica.launch()
    for replica in running_cluster.replicas:
        replica.wait_until_healthy()
    return running_cluster


# -- waits ------------------------------------------------------------------------------


def wait_until(condition: Callable[[], bool], what: str, cluster: Cluster) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT:.0f} s\n{cluster.logs()}")
        time.sleep(0.05)


def snapshot_generation(cluster: Cluster, session_id: str) -> int:
    """The generation of the session's snapshot in Redis, 0 when none is stored.

    Read in a thread of its own: Playwright keeps an event loop running in this one.
    """
    with ThreadPoolExecutor(1) as reader:
        found = reader.submit(stored_snapshot_generation, cluster.redis.url, session_id)
        generation = found.result(WAIT)
    return generation or 0


def session_of(page: Page) -> str:
    """The id of the session that drew the page (the app prints it)."""
    line = page.get_by_text(re.compile(r"^Session [0-9a-f-]{36}$"))
    expect(line).to_be_visible(timeout=TIMEOUT)
    return line.inner_text().removeprefix("Session ")


@contextmanager
def snapshotted(cluster: Cluster, page: Page) -> Iterator[None]:
    """Wait after the block until the page's session has a newer snapshot in Redis.

    Each block is one user action whose run completes inside it, and the snapshots of
    the session's earlier runs are already stored, so the next one covers this run. Only
    this session's own snapshot counts: a replica's saved-snapshots counter also moves
    for other sessions it holds (an earlier test's), and a wait on it raced the save.
    """
    session_id = session_of(page)
    before = snapshot_generation(cluster, session_id)
    yield
    wait_until(
        lambda: snapshot_generation(cluster, session_id) > before,
        f"a snapshot of session {session_id} newer than generation {before}",
        cluster,
    )


def open_page(page: Page, cluster: Cluster) -> AppServer:
    """Open the app through nginx; returns the replica holding its socket, once the
    first run's snapshot is stored."""
    page.goto(cluster.proxy.url)
    expect(page.get_by_role("heading", name="Replicas")).to_be_visible(timeout=TIMEOUT)
    expect_count(page, 0)
    session_id = session_of(page)
    wait_until(
        lambda: snapshot_generation(cluster, session_id) > 0,
        f"the first snapshot of session {session_id}",
        cluster,
    )
    return cluster.serving(page)


def use_the_page(page: Page, cluster: Cluster, name: str, clicks: int) -> None:
    """Type `name` and click Increment `clicks` times, each run's snapshot written."""
    with snapshotted(cluster, page):
        enter_name(page, name)
    for count in range(1, clicks + 1):
        with snapshotted(cluster, page):
            increment(page)
            expect_count(page, count)


def expect_state(page: Page, count: int, name: str) -> None:
    expect_count(page, count, timeout=RECONNECT_TIMEOUT)
    expect(page.get_by_text(f"Hello, {name}!", exact=True)).to_be_visible()
    expect(page.get_by_label("Your name", exact=True)).to_have_value(name)


def expect_served_by(page: Page, replica: AppServer) -> None:
    assert replica.process is not None
    served = page.get_by_text(f"Served by process {replica.process.pid}", exact=True)
    expect(served).to_be_visible(timeout=RECONNECT_TIMEOUT)


def record_close_codes(page: Page) -> None:
    page.evaluate(
        """() => {
            window.__closeCodes = [];
            window.__sockets.forEach(s => s.addEventListener("close", e => {
                window.__closeCodes.push(e.code);
            }));
        }"""
    )


def reconnect_to_the_other_replica(page: Page, cluster: Cluster, holder: AppServer) -> AppServer:
    """Drop the page's socket until its reconnect lands on the replica not holding the
    session (round-robin alternates; one that lands back on the holder resumes there,
    which is not this case). Returns that replica."""
    other = cluster.other(holder)
    deadline = time.monotonic() + WAIT
    for _ in range(RECONNECT_ATTEMPTS):
        if time.monotonic() > deadline:
            break
        opened_here = counter(holder, "sessions_opened")
        restored_there = counter(other, "snapshots_restored")
        sockets = stream_socket_count(page)
        assert close_open_sockets_from_the_page(page) == 1
        wait_for_new_open_socket(page, after=sockets)

        def moved(restored: int = restored_there) -> bool:
            return counter(other, "snapshots_restored") > restored

        def stayed(opened: int = opened_here) -> bool:
            return counter(holder, "sessions_opened") > opened

        wait_until(lambda: moved() or stayed(), "the reconnect opening a session", cluster)
        if moved():
            return other
    raise AssertionError(
        f"every reconnect within {WAIT:.0f} s went back to the holder\n{cluster.logs()}"
    )


# -- the cases ----------------------------------------------------------------------------


def test_a_reconnect_to_the_other_replica_keeps_the_counter_and_the_text(
    page: Page, cluster: Cluster
) -> None:
    holder = open_page(page, cluster)
    session_id = session_of(page)
    use_the_page(page, cluster, "Ada", clicks=2)

    survivor = reconnect_to_the_other_replica(page, cluster, holder)

    expect_served_by(page, survivor)
    expect_state(page, 2, "Ada")
    assert session_of(page) == session_id
    increment(page)
    expect_count(page, 3)
    expect_served_by(page, survivor)
    expect_no_connection_error(page)


def test_sigterm_of_the_holder_moves_the_page_to_the_survivor(page: Page, cluster: Cluster) -> None:
    holder = open_page(page, cluster)
    session_id = session_of(page)
    survivor = cluster.other(holder)
    # No wait for the last click's snapshot: the drain must write it.
    enter_name(page, "Grace")
    increment(page)
    expect_count(page, 1)
    increment(page)
    expect_count(page, 2)
    restored = counter(survivor, "snapshots_restored")
    sockets = stream_socket_count(page)
    record_close_codes(page)

    assert holder.stop() == 0, cluster.logs()  # SIGTERM: drain, then exit 0

    wait_for_new_open_socket(page, after=sockets)
    assert page.evaluate("() => window.__closeCodes") == [1012]
    expect_served_by(page, survivor)
    expect_state(page, 2, "Grace")
    assert session_of(page) == session_id
    holder.launch()  # its replacement starts, as in a rolling deploy
    increment(page)
    expect_count(page, 3)
    increment(page)
    expect_count(page, 4)
    assert counter(survivor, "snapshots_restored") == restored + 1
    expect_no_connection_error(page)


def test_kill_9_of_the_holder_keeps_the_last_snapshotted_run(page: Page, cluster: Cluster) -> None:
    holder = open_page(page, cluster)
    session_id = session_of(page)
    survivor = cluster.other(holder)
    use_the_page(page, cluster, "Linus", clicks=3)
    restored = counter(survivor, "snapshots_restored")
    sockets = stream_socket_count(page)

    assert holder.process is not None
    holder.process.send_signal(signal.SIGKILL)  # no drain: only the snapshots written
    assert holder.stop() == -signal.SIGKILL

    wait_for_new_open_socket(page, after=sockets)
    expect_served_by(page, survivor)
    expect_state(page, 3, "Linus")
    assert session_of(page) == session_id
    holder.launch()  # a supervisor starts it again
    increment(page)
    expect_count(page, 4)
    assert counter(survivor, "snapshots_restored") == restored + 1
    expect_no_connection_error(page)


def test_a_second_user_never_sees_the_first_users_state(
    page: Page, browser: Browser, cluster: Cluster
) -> None:
    first_holder = open_page(page, cluster)
    use_the_page(page, cluster, "Ada", clicks=2)

    second_context = new_isolated_context(browser)
    try:
        second = second_context.new_page()
        second_holder = open_page(second, cluster)
        assert session_of(second) != session_of(page)
        expect(second.get_by_label("Your name", exact=True)).to_have_value("")
        expect(second.get_by_text("Hello, Ada!", exact=True)).to_have_count(0)
        use_the_page(second, cluster, "Bob", clicks=1)

        # Both move to the other replica: each gets back its own state, nobody else's.
        reconnect_to_the_other_replica(second, cluster, second_holder)
        expect_state(second, 1, "Bob")
        reconnect_to_the_other_replica(page, cluster, first_holder)
        expect_state(page, 2, "Ada")
        expect(second.get_by_text("Hello, Ada!", exact=True)).to_have_count(0)
        expect(page.get_by_text("Hello, Bob!", exact=True)).to_have_count(0)

        increment(second)
        expect_count(second, 2)
        increment(page)
        expect_count(page, 3)  # the other user's clicks never touched this counter
        expect_state(second, 2, "Bob")
        expect_no_connection_error(second)
    finally:
        second_context.close()
    expect_no_connection_error(page)
