"""The frontend finds its server again: after a dropped socket, and after a restart.

Observed with the real `streamlit run` (1.67) and its own frontend: after a dropped
socket the frontend pings /_stcore/health and opens a new socket within about a second;
the server resumes the same session, so session state is intact. After a server restart
(same port) the frontend reconnects just as fast but does not rerun the script: the page
keeps showing the old session's last render until the next interaction, which then runs
in a brand-new session. A button's `on_click` callback belongs to the session that
rendered the button, so the first Increment click after a restart shows `Count: 0`; the
test therefore makes its first interaction a text input.
"""

from __future__ import annotations

from playwright.sync_api import Page

from tests.e2e.harness import AppServer
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


def test_a_dropped_socket_reconnects_to_the_same_session(page: Page, server: AppServer) -> None:
    open_app(page, server)
    increment(page)
    expect_count(page, 1)
    increment(page)
    expect_count(page, 2)
    opened = stream_socket_count(page)
    assert opened == 1

    assert close_open_sockets_from_the_page(page) == 1
    wait_for_new_open_socket(page, after=opened)

    expect_count(page, 2)
    increment(page)
    expect_count(page, 3, timeout=RECONNECT_TIMEOUT)
    assert stream_socket_count(page) == 2
    expect_no_connection_error(page)


def test_the_page_reconnects_after_a_server_restart(page: Page, server: AppServer) -> None:
    open_app(page, server)
    increment(page)
    expect_count(page, 1)
    opened = stream_socket_count(page)

    server.restart()  # SIGTERM, wait for the exit, start again on the same port
    wait_for_new_open_socket(page, after=opened)

    # The new process knows nothing of the old session: the next rerun starts afresh.
    enter_name(page, "after restart")
    expect_count(page, 0)
    increment(page)
    expect_count(page, 1)
    expect_no_connection_error(page)
