"""`hexlit run app.py --hexlit.workers 2` in real Chromium (ADR 0015): the showcase's
counter and name follow the page from worker to worker, and survive kill -9 of the worker
that holds them, twice over.

Which worker holds the page is read from each worker's own `/_stcore/metrics` (its
`hexlit_open_connections`, reached through a TCP connection that this worker accepted:
tests/workers/support.py). The page's socket is closed from the page until its reconnect
lands on the other worker, so the handover is proved, not left to the kernel's choice.

A reconnect shows the old render whatever the server holds (tests/e2e/test_reconnect.py),
so what proves the session survived is the next click: an Increment that counts on from
where it was, in a session that still knows the name. And before a worker is left or
killed, the test waits until the session's snapshot (opened with the product's own seal,
under the cookie secret the test writes in the app's config) holds the count: a completed
run is durable only within ADR 0011's write delay, and waiting for "any newer snapshot"
(the earlier draft) could see a write begun before the last run completed.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hexlit.domain.snapshot_rules import SnapshotSeal
from hexlit.ports.snapshots import SealedSnapshot
from tests.e2e.harness import HEXLIT_STACKS, SHOWCASE, AppServer
from tests.e2e.pages import (
    RECONNECT_TIMEOUT,
    close_open_sockets_from_the_page,
    enter_name,
    expect_count,
    expect_no_connection_error,
    increment,
    open_app,
    stream_socket_count,
    wait_for_new_open_socket,
)
from tests.support.net import free_port
from tests.workers.support import alive, children_of, connection_to, http_request, leftovers

WAIT = 30.0
SECRET = "a cookie secret for the workers e2e, long enough"
GENERATION_BYTES = 8
"""The folder snapshot store's file: the generation, then the sealed snapshot."""
HANDOVER_TRIES = 20
"""Reconnects allowed to land on the other worker (each lands there with odds about 1/2)."""


@pytest.fixture(params=HEXLIT_STACKS)
def two_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppServer]:
    folder = tmp_path / "showcase"
    shutil.copytree(SHOWCASE, folder)
    config = folder / ".streamlit" / "config.toml"
    config.write_text(
        config.read_text().replace("[server]\n", f'[server]\ncookieSecret = "{SECRET}"\n')
    )
    extra = ["--hexlit.workers", "2", "--hexlit.storeDir", str(tmp_path / "store")]
    server = AppServer(
        str(request.param), free_port(), tmp_path, app=folder / "app.py", extra=extra
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        assert_nothing_left(tmp_path)


def assert_nothing_left(folder: Path) -> None:
    """No process whose command line or environment names the test's folder (the
    supervisor's, its workers') runs once the server stopped."""
    deadline = time.monotonic() + WAIT
    while found := leftovers(str(folder)):
        assert time.monotonic() < deadline, f"left running: {found}"
        time.sleep(0.05)


def workers(server: AppServer) -> list[int]:
    """The two workers, once both serve (each answered a request it accepted)."""
    assert server.process is not None
    deadline = time.monotonic() + WAIT
    while True:
        pids = children_of(server.process.pid)
        if len(pids) == 2 and all(open_connections(server, pid) is not None for pid in pids):
            return pids
        assert time.monotonic() < deadline, f"two workers not serving\n{server.log_text()}"
        time.sleep(0.1)


def open_connections(server: AppServer, pid: int) -> int | None:
    """Worker `pid`'s count of open browser WebSockets, from its own metrics (None if it
    does not answer yet)."""
    try:
        with connection_to(server.port, pid) as sock:
            status, body = http_request(
                sock, "GET", "/_stcore/metrics?families=hexlit_open_connections"
            )
    except (AssertionError, OSError):
        return None
    if status != 200:
        return None
    (line,) = [line for line in body.decode().splitlines() if line.startswith("hexlit_open")]
    return int(float(line.split()[-1]))


def holder(server: AppServer, candidates: list[int]) -> int:
    """The one worker of `candidates` with the page's socket open (the others none)."""
    deadline = time.monotonic() + WAIT
    while True:
        counts = {pid: open_connections(server, pid) for pid in candidates}
        holding = [pid for pid, count in counts.items() if count == 1]
        if len(holding) == 1 and all(counts[pid] == 0 for pid in candidates if pid != holding[0]):
            return holding[0]
        assert time.monotonic() < deadline, f"no single holder: {counts}"
        time.sleep(0.1)


def snapshot_count(store: Path) -> int | None:
    """`st.session_state["count"]` in the page's session snapshot (None before one)."""
    paths = list((store / "snapshots").glob("*.snap"))
    if not paths:
        return None
    assert len(paths) == 1, f"more than one session: {paths}"
    content = paths[0].read_bytes()  # a write replaces the file whole (rename)
    generation = int.from_bytes(content[:GENERATION_BYTES], "big")
    session_id = bytes.fromhex(paths[0].stem).decode()
    sealed = SealedSnapshot(session_id, generation, content[GENERATION_BYTES:])
    snapshot = SnapshotSeal(SECRET).open(sealed)
    assert snapshot is not None, "a snapshot that does not verify"
    values: dict[str, bytes] = pickle.loads(snapshot.user_state)
    count: int = pickle.loads(values["count"])
    return count


def wait_for_snapshot_count(store: Path, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while (found := snapshot_count(store)) != count:
        assert time.monotonic() < deadline, f"the snapshot holds count {found}, not {count}"
        time.sleep(0.05)


def count_on(page: Page, count: int) -> int:
    """Click Increment; the session counts on from `count` and still knows the name."""
    increment(page)
    expect_count(page, count + 1, timeout=RECONNECT_TIMEOUT)
    expect(page.get_by_text("Hello, Ada!", exact=True)).to_be_visible()
    return count + 1


def test_the_counter_follows_the_page_to_the_other_worker_and_survives_kill_9(
    page: Page, two_workers: AppServer
) -> None:
    store = two_workers.workdir / "store"
    pids = workers(two_workers)
    open_app(page, two_workers)
    enter_name(page, "Ada")
    count = count_on(page, 0)
    first = holder(two_workers, pids)

    # Reconnects until one lands on the other worker, which restores the session from
    # its snapshot; a reconnect landing on the same worker resumes it there.
    for _ in range(HANDOVER_TRIES):
        wait_for_snapshot_count(store, count)
        opened = stream_socket_count(page)
        assert close_open_sockets_from_the_page(page) == 1
        wait_for_new_open_socket(page, after=opened)
        count = count_on(page, count)
        if holder(two_workers, pids) != first:
            break
    else:
        raise AssertionError(f"no reconnect reached the other worker in {HANDOVER_TRIES}")

    # kill -9 of the worker that holds the page, twice: the page reconnects to a worker
    # left, which restores the session (the first time one that held a stale copy of it,
    # the second time the first victim's replacement, a process that never saw it), and
    # the supervisor replaces each victim.
    for _ in range(2):
        victim = holder(two_workers, pids)
        wait_for_snapshot_count(store, count)
        opened = stream_socket_count(page)
        os.kill(victim, signal.SIGKILL)
        wait_for_new_open_socket(page, after=opened)
        count = count_on(page, count)
        pids = workers(two_workers)
        assert victim not in pids
        assert not alive(victim)
        assert holder(two_workers, pids) != victim
        assert f"(pid {victim}) was killed by SIGKILL" in two_workers.log_text()
    expect_no_connection_error(page)

    assert two_workers.stop() == 0  # SIGTERM: the workers drain, the supervisor exits 0
    assert "Traceback" not in two_workers.log_text(), two_workers.log_text()
