"""What the tests do to and expect from the showcase app's pages, in one place."""

from __future__ import annotations

from typing import Final

from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, expect

from tests.e2e.harness import RECORD_SOCKETS_JS, AppServer, is_loopback

TIMEOUT: Final = 15_000  # ms, for each auto-waiting expectation
RECONNECT_TIMEOUT: Final = 30_000  # ms, for the frontend to find its server again
STREAM_SOCKETS_JS: Final = "() => window.__sockets.filter(s => s.url.endsWith('/_stcore/stream'))"


def _loopback_only(route: Route) -> None:
    if is_loopback(route.request.url):
        route.fallback()
    else:
        route.abort("blockedbyclient")


def new_isolated_context(browser: Browser) -> BrowserContext:
    """A fresh context (another user: own cookies and storage, so own session) whose
    every non-loopback request is aborted and whose WebSockets are recorded."""
    fresh = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    fresh.set_default_timeout(TIMEOUT)
    fresh.set_default_navigation_timeout(TIMEOUT)
    fresh.route("**/*", _loopback_only)
    fresh.add_init_script(RECORD_SOCKETS_JS)
    return fresh


def open_app(page: Page, server: AppServer) -> None:
    """Open the app's default page and wait for its first script run."""
    page.goto(server.url)
    expect(page.get_by_role("heading", name="hexlit showcase")).to_be_visible(timeout=TIMEOUT)
    expect_count(page, 0)


def go_to(page: Page, title: str) -> None:
    """Switch page through the sidebar navigation (same session, same socket)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    heading = "hexlit showcase" if title == "Home" else title
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=TIMEOUT)


def increment(page: Page) -> Locator:
    button = page.get_by_role("button", name="Increment", exact=True)
    button.click()
    return button


def expect_count(page: Page, count: int, timeout: float = TIMEOUT) -> None:
    expect(page.get_by_text(f"Count: {count}", exact=True)).to_be_visible(timeout=timeout)


def enter_name(page: Page, name: str) -> None:
    field = page.get_by_label("Your name", exact=True)
    field.fill(name)
    field.press("Enter")
    expect(page.get_by_text(f"Hello, {name}!", exact=True)).to_be_visible(timeout=TIMEOUT)


def expect_no_connection_error(page: Page) -> None:
    expect(page.get_by_text("Connection error")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def stream_socket_count(page: Page) -> int:
    count: int = page.evaluate(f"({STREAM_SOCKETS_JS})().length")
    return count


def wait_for_new_open_socket(page: Page, after: int) -> None:
    """Wait until the page has opened more than `after` stream sockets, the last one open."""
    page.wait_for_function(
        f"""n => {{
            const sockets = ({STREAM_SOCKETS_JS})();
            return sockets.length > n && sockets.at(-1).readyState === 1;
        }}""",
        arg=after,
        timeout=RECONNECT_TIMEOUT,
    )


def close_open_sockets_from_the_page(page: Page) -> int:
    """Close every open stream socket from the browser side; returns how many."""
    closed: int = page.evaluate(
        f"""() => {{
            const open = ({STREAM_SOCKETS_JS})().filter(s => s.readyState === 1);
            open.forEach(s => s.close());
            return open.length;
        }}"""
    )
    return closed


def absolute(page: Page, url: str) -> str:
    """`url` (as found in an attribute) resolved against the page, like the browser does."""
    resolved: str = page.evaluate("u => new URL(u, document.baseURI).href", url)
    return resolved
