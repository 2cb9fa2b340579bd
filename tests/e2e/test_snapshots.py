"""Sessions that outlive their process, in real Chromium (ADR 0011, issue 13).

hexlit runs a small app with the filesystem store (snapshots on) and a cookie secret.
After a restart (SIGTERM: a drain), and after a kill -9 once the last run was
snapshotted, the page comes back by itself: the new process restores the session and
reruns it, so its counter (a plain `st.session_state` key, no widget) and its text input
are those of the old process; another browser (another user) gets a fresh session.

The app pauses before drawing its button, so the restore run is still in flight when the
browser, which shows the old page all along, sends its next click. Streamlit runs a
button's `on_click` only in a session that has drawn the button; before the fix that
click reached the restored session first and was lost (the counter did not move).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.harness import HEXLIT_STACKS, AppServer
from tests.e2e.pages import (
    RECONNECT_TIMEOUT,
    TIMEOUT,
    enter_name,
    expect_count,
    expect_no_connection_error,
    increment,
    new_isolated_context,
    stream_socket_count,
    wait_for_new_open_socket,
)
from tests.support.net import free_port

METRICS_TIMEOUT: Final = 10.0  # s, for a snapshot to be written and counted

# `Served by process N` tells which process drew the page. The pause before the button
# keeps every run, the restore run included, in flight for a while.
APP: Final = """\
import os
import time

import streamlit as st

st.title("Snapshots")
st.write(f"Served by process {os.getpid()}")
if "count" not in st.session_state:
    st.session_state["count"] = 0


def increment():
    st.session_state["count"] += 1


time.sleep(1.0)
st.button("Increment", on_click=increment)
st.write(f"Count: {st.session_state['count']}")
name = st.text_input("Your name")
if name:
    st.write(f"Hello, {name}!")
"""


def config(store: Path) -> str:
    return (
        "[server]\n"
        "headless = true\n"
        'fileWatcherType = "none"\n'
        'cookieSecret = "e2e snapshots secret"\n'
        "[browser]\n"
        "gatherUsageStats = false\n"
        "[hexlit]\n"
        'store = "filesystem"\n'
        f'storeDir = "{store}"\n'
    )


@pytest.fixture(params=HEXLIT_STACKS)
def snapshotting(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppServer]:
    folder = tmp_path / "app"
    (folder / ".streamlit").mkdir(parents=True)
    (folder / ".streamlit" / "config.toml").write_text(config(tmp_path / "store"))
    (folder / "app.py").write_text(APP)
    server = AppServer(str(request.param), free_port(), tmp_path, app=folder / "app.py")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def counter(server: AppServer, name: str) -> int:
    text = httpx.get(f"{server.url}/_stcore/metrics", timeout=METRICS_TIMEOUT).text
    for line in text.splitlines():
        if line.startswith(f"hexlit_{name}_total "):
            return int(float(line.split()[1]))
    raise AssertionError(f"no hexlit_{name}_total in the metrics:\n{text}")


def wait_for_snapshots(server: AppServer, at_least: int) -> None:
    deadline = time.monotonic() + METRICS_TIMEOUT
    while counter(server, "snapshots_saved") < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {at_least} snapshots in {METRICS_TIMEOUT} s")
        time.sleep(0.05)


def open_page(page: Page, server: AppServer) -> None:
    page.goto(server.url)
    expect(page.get_by_role("heading", name="Snapshots")).to_be_visible(timeout=TIMEOUT)
    expect_count(page, 0)


def expect_served_by_current_process(page: Page, server: AppServer) -> None:
    assert server.process is not None
    served = page.get_by_text(f"Served by process {server.process.pid}", exact=True)
    expect(served).to_be_visible(timeout=RECONNECT_TIMEOUT)


def test_the_page_comes_back_with_its_state_after_a_restart(
    page: Page, browser: Browser, snapshotting: AppServer
) -> None:
    open_page(page, snapshotting)
    enter_name(page, "Ada")
    increment(page)
    expect_count(page, 1)
    increment(page)
    expect_count(page, 2)
    opened = stream_socket_count(page)
    page.evaluate(
        """() => {
            window.__closeCodes = [];
            window.__sockets.forEach(s => s.addEventListener("close", e => {
                window.__closeCodes.push(e.code);
            }));
        }"""
    )

    snapshotting.restart()  # SIGTERM: the drain snapshots and closes the socket
    wait_for_new_open_socket(page, after=opened)
    increment(page)  # at once: the restore run has not drawn the button yet
    assert page.evaluate("() => window.__closeCodes") == [1012]  # drained, not just stopped

    expect_count(page, 3, timeout=RECONNECT_TIMEOUT)
    expect_served_by_current_process(page, snapshotting)
    expect(page.get_by_text("Hello, Ada!", exact=True)).to_be_visible()
    expect(page.get_by_label("Your name", exact=True)).to_have_value("Ada")
    assert counter(snapshotting, "snapshots_restored") == 1
    expect_no_connection_error(page)

    # Another user, after the restart: a session of their own, nothing of Ada's.
    other_context = new_isolated_context(browser)
    try:
        other = other_context.new_page()
        open_page(other, snapshotting)
        expect(other.get_by_label("Your name", exact=True)).to_have_value("")
        expect(other.get_by_text("Hello, Ada!", exact=True)).to_have_count(0)
        increment(other)
        expect_count(other, 1)
    finally:
        other_context.close()
    increment(page)
    expect_count(page, 4)  # the other user's click did not touch Ada's counter
    assert counter(snapshotting, "snapshots_restored") == 1


def test_after_kill_9_the_last_completed_run_survives(page: Page, snapshotting: AppServer) -> None:
    open_page(page, snapshotting)
    wait_for_snapshots(snapshotting, at_least=1)  # the first run's
    enter_name(page, "Grace")
    increment(page)
    expect_count(page, 1)
    wait_for_snapshots(snapshotting, at_least=3)  # the name's and the click's
    opened = stream_socket_count(page)

    assert snapshotting.process is not None
    snapshotting.process.send_signal(signal.SIGKILL)
    snapshotting.stop()
    snapshotting.start()
    wait_for_new_open_socket(page, after=opened)
    increment(page)  # at once, as above

    expect_count(page, 2, timeout=RECONNECT_TIMEOUT)
    expect_served_by_current_process(page, snapshotting)
    expect(page.get_by_text("Hello, Grace!", exact=True)).to_be_visible()
    assert counter(snapshotting, "snapshots_restored") == 1
