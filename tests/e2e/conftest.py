"""Browser end-to-end tests: the showcase app in headless Chromium, on every web stack.

`server` is one running showcase app per stack and test module (a subprocess, see
harness.AppServer); `browser` is one Chromium per session; `page` is a fresh context and
tab per test (so a fresh Streamlit session), with every non-loopback request aborted and
every WebSocket recorded in `window.__sockets`.

The stacks are `STACKS`, or the comma-separated `HEXLIT_E2E_STACKS`; besides hexlit's
stacks it accepts `streamlit`, the real `streamlit run`, to check the suite itself:

    HEXLIT_E2E_STACKS=streamlit .venv/bin/python -m pytest tests/e2e -q
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, KNOWN_STACKS, AppServer
from tests.e2e.pages import new_isolated_context
from tests.support.net import free_port
from tests.support.stacks import WEB_STACKS

STACKS = WEB_STACKS


def selected_stacks() -> tuple[str, ...]:
    raw = os.environ.get("HEXLIT_E2E_STACKS", "")
    stacks = tuple(name.strip() for name in raw.split(",") if name.strip()) or STACKS
    unknown = [name for name in stacks if name not in KNOWN_STACKS]
    if unknown:
        raise pytest.UsageError(
            f"HEXLIT_E2E_STACKS: unknown stack(s) {unknown}; known: {', '.join(KNOWN_STACKS)}"
        )
    return stacks


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "media: needs the server's upload and media routes (files, images, audio)"
    )
    config.addinivalue_line(
        "markers", "component: needs the server's custom-component and app static-file routes"
    )


@pytest.fixture(params=selected_stacks(), scope="module")
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(stack: str) -> Iterator[AppServer]:
    with tempfile.TemporaryDirectory(prefix=f"hexlit-e2e-{stack}-") as workdir:
        running = AppServer(stack, free_port(), Path(workdir))
        running.start()
        try:
            yield running
        finally:
            running.stop()


# Package scope, not session: Playwright's sync API keeps an event loop marked running in the
# main thread while it lives, and every later test folder's `asyncio.run` would then fail.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set "
                    "HEXLIT_E2E_CHROMIUM)")  # fmt: skip
    # `launch` gives every run a fresh temporary profile of its own.
    running = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
    )
    yield running
    running.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    fresh = new_isolated_context(browser)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
