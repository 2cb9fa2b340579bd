"""A plain app phones nobody: no request leaves loopback unless the user opts in (issue 17.9).

`hexlit run app.py` with no configuration at all (no .streamlit folder, an empty HOME):
every request the page attempts is recorded, including the ones the suite's router
aborts, and none may name a host other than loopback. With `browser.gatherUsageStats`
switched on, the same recorder sees the frontend fetch its metrics configuration from
Streamlit's host, so an empty list means "nothing attempted", not "nothing seen".

Streamlit itself gathers usage statistics by default: on the `streamlit` stack (the
suite's reference) the default run is expected to phone home, a documented difference.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect

from tests.e2e.harness import AppServer, is_loopback
from tests.e2e.pages import TIMEOUT
from tests.support.net import free_port

HEADING = "A plain app"
BARRIER = "/_stcore/health?privacy-barrier"


@pytest.fixture
def plain_app(tmp_path: Path) -> Path:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "app.py").write_text(f"import streamlit as st\nst.title({HEADING!r})\n")
    return folder / "app.py"


def run_plain_app(
    stack: str, app: Path, context: BrowserContext, workdir: Path, extra: list[str]
) -> list[str]:
    """Open the app once; every URL the page attempted until it rendered and a later
    request of our own came back (requests are reported in order, so a request the page
    issued before the barrier has been reported by then)."""
    attempted: list[str] = []

    def record(request: Request) -> None:
        attempted.append(request.url)

    context.on("request", record)
    server = AppServer(stack, free_port(), workdir, app=app, extra=extra)
    server.start()
    try:
        page: Page = context.new_page()
        page.goto(server.url)
        expect(page.get_by_role("heading", name=HEADING)).to_be_visible(timeout=TIMEOUT)
        with page.expect_request(lambda request: request.url.endswith(BARRIER)):
            page.evaluate(f"fetch({BARRIER!r}).then(r => r.status)")
    finally:
        server.stop()
    return attempted


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_no_request_leaves_loopback_by_default(
    stack: str, plain_app: Path, context: BrowserContext, workdir: Path
) -> None:
    attempted = run_plain_app(stack, plain_app, context, workdir, [])
    outside = [url for url in attempted if not is_loopback(url)]
    if stack == "streamlit":
        assert outside, "Streamlit gathers usage stats by default; the recorder saw nothing"
    else:
        assert outside == []


def test_opting_in_to_usage_stats_is_seen_by_the_recorder(
    stack: str, plain_app: Path, context: BrowserContext, workdir: Path
) -> None:
    extra = ["--browser.gatherUsageStats", "true"]
    attempted = run_plain_app(stack, plain_app, context, workdir, extra)
    assert any("streamlit.io" in url for url in attempted if not is_loopback(url))
