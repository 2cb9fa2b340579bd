"""Sessions that outlive their process, on every stack: two servers share a snapshot
folder (`hexlit.store = "filesystem"`, one `hexlit.storeDir`, one cookie secret), as two
replicas or a restart would.

The built-in counter app is the runtime: each `inc` is a completed run, its snapshot the
count. A reconnect offering a session id the server does not hold gets that session
back from its snapshot (`hello <id> resumed=1 count=<N>`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conformance.test_stream import TIMEOUT, XSRF_LIKE_TOKEN, closed_with, hello, stream
from tests.support.server import ServerUnderTest

SECRET = "a secret every replica shares"
SNAPSHOT_WAIT = 5.0


def shared_options(folder: Path, **more: Any) -> dict[str, Any]:
    return {
        "hexlit.store": "filesystem",
        "hexlit.storeDir": str(folder),
        "server.cookieSecret": SECRET,
        "server.trustedUserHeaders": {"X-Forwarded-Email": "email"},
        **more,
    }


def counted(server: ServerUnderTest, ws: Any, times: int) -> None:
    for _ in range(times):
        ws.send(b"inc")
        ws.recv(timeout=TIMEOUT)


def wait_for_snapshot(server: ServerUnderTest, at_least: int = 1) -> None:
    """Until the server's metrics say it wrote `at_least` snapshots (bounded)."""
    import time

    deadline = time.monotonic() + SNAPSHOT_WAIT
    while time.monotonic() < deadline:
        text = httpx.get(server.url("/_stcore/metrics"), timeout=TIMEOUT).text
        found = re.search(r"^hexlit_snapshots_saved_total (\d+)", text, re.M)
        if found and int(found.group(1)) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError(f"no snapshot within {SNAPSHOT_WAIT}s")


def offer(session_id: str) -> list[str]:
    return ["streamlit", XSRF_LIKE_TOKEN, session_id]


def test_state_set_on_one_server_is_there_after_reconnecting_to_the_other(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    first = make_server(shared_options(tmp_path))
    second = make_server(shared_options(tmp_path))
    with stream(first) as ws:
        opened = hello(ws)
        counted(first, ws, 3)
        wait_for_snapshot(first)
    with stream(second, offer(opened["id"])) as ws:
        assert hello(ws) == {"id": opened["id"], "resumed": "1", "count": "3"}
        counted(second, ws, 1)
        wait_for_snapshot(second)
    # and back: the first server's copy is stale now, the snapshot is not
    with stream(first, offer(opened["id"])) as ws:
        assert hello(ws) == {"id": opened["id"], "resumed": "1", "count": "4"}


def test_a_session_survives_a_restart_of_its_only_server(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    before = make_server(shared_options(tmp_path))
    with stream(before) as ws:
        opened = hello(ws)
        counted(before, ws, 2)
        wait_for_snapshot(before)
    before.stop()
    after = make_server(shared_options(tmp_path))
    with stream(after, offer(opened["id"])) as ws:
        assert hello(ws) == {"id": opened["id"], "resumed": "1", "count": "2"}


def test_the_old_owner_closes_its_copy_when_the_session_moved(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    first = make_server(shared_options(tmp_path))
    second = make_server(shared_options(tmp_path))
    with stream(first) as stale:
        opened = hello(stale)
        counted(first, stale, 1)
        wait_for_snapshot(first)
        with stream(second, offer(opened["id"])) as ws:
            assert hello(ws)["count"] == "1"
        stale.send(b"inc")  # a run on the stale copy: its snapshot is refused
        assert stale.recv(timeout=TIMEOUT) == b"count 2"
        assert closed_with(stale) == (1000, "session continued elsewhere")
    with stream(second, offer(opened["id"])) as ws:
        assert hello(ws)["count"] == "1"


def test_a_leaked_session_id_does_not_hand_over_another_user_s_state(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    first = make_server(shared_options(tmp_path))
    second = make_server(shared_options(tmp_path))
    alice = {"X-Forwarded-Email": "alice@example.com"}
    mallory = {"X-Forwarded-Email": "mallory@example.com"}
    with stream(first, headers=alice) as ws:
        opened = hello(ws)
        counted(first, ws, 5)
        wait_for_snapshot(first)
    with stream(second, offer(opened["id"]), headers=mallory) as ws:
        stolen = hello(ws)
    assert stolen["id"] != opened["id"]
    assert (stolen["resumed"], stolen["count"]) == ("0", "0")
    with stream(second, offer(opened["id"]), headers=alice) as ws:
        assert hello(ws) == {"id": opened["id"], "resumed": "1", "count": "5"}


def test_a_server_with_another_secret_restores_nothing(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    first = make_server(shared_options(tmp_path))
    other = make_server({**shared_options(tmp_path), "server.cookieSecret": "not the same"})
    with stream(first) as ws:
        opened = hello(ws)
        counted(first, ws, 2)
        wait_for_snapshot(first)
    with stream(other, offer(opened["id"])) as ws:
        greeting = hello(ws)
    assert (greeting["resumed"], greeting["count"]) == ("0", "0")
    metrics = httpx.get(other.url("/_stcore/metrics"), timeout=TIMEOUT).text
    assert "hexlit_snapshots_rejected_total 1" in metrics


def test_snapshots_off_means_no_resume_elsewhere(
    make_server: Callable[..., ServerUnderTest], tmp_path: Path
) -> None:
    off = shared_options(tmp_path, **{"hexlit.sessionSnapshots": "off"})
    first, second = make_server(off), make_server(off)
    with stream(first) as ws:
        opened = hello(ws)
        counted(first, ws, 2)
    with stream(second, offer(opened["id"])) as ws:
        assert hello(ws)["resumed"] == "0"
    assert not (tmp_path / "snapshots").exists()
