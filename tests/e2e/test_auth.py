"""`st.login` / `st.logout` in the showcase, through a real OIDC provider, on both stacks.

The provider (`oidc-provider-mock`) runs on loopback; the showcase gets an `[auth]`
section through the server's home folder (`~/.streamlit/secrets.toml`), which both
hexlit and Streamlit read. The browser fills the provider's own authorize page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import AppServer
from tests.support.net import free_port
from tests.support.oidc import MockProvider, auth_secrets, oidc_provider

TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with oidc_provider() as running:
        yield running


@pytest.fixture(scope="module")
def auth_server(
    stack: str, provider: MockProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    workdir: Path = tmp_path_factory.mktemp(f"e2e-auth-{stack}")
    secrets = workdir / "home" / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir(parents=True)
    secrets.write_text(auth_secrets(provider, "an e2e cookie secret, long enough", "hexlit-e2e"))
    server = AppServer(stack, free_port(), workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_login_shows_the_users_email_and_logout_clears_it(
    page: Page, auth_server: AppServer, provider: MockProvider
) -> None:
    provider.set_claims("erin", {"email": "erin@example.com"})
    page.goto(f"{auth_server.url}/account")
    page.get_by_role("button", name="Log in").click(timeout=TIMEOUT_MS)

    page.wait_for_url(re.compile(re.escape(provider.issuer) + r"/.*"), timeout=TIMEOUT_MS)
    page.locator("input[name=sub]").fill("erin")
    page.get_by_role("button", name=re.compile("authorize", re.IGNORECASE)).click()

    page.wait_for_url(re.compile(re.escape(auth_server.url) + r"/?$"), timeout=TIMEOUT_MS)
    page.goto(f"{auth_server.url}/account")
    expect(page.get_by_text("Logged in as")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("link", name="erin@example.com")).to_be_visible()

    page.get_by_role("button", name="Log out").click(timeout=TIMEOUT_MS)
    page.wait_for_url(lambda url: "/account" not in url, timeout=TIMEOUT_MS)
    if page.url.startswith(provider.issuer):  # the provider's own end-session page
        page.wait_for_load_state()
        buttons = page.get_by_role("button")
        if buttons.count():
            buttons.first.click()
    page.wait_for_url(re.compile(re.escape(auth_server.url) + r"/?$"), timeout=TIMEOUT_MS)
    page.goto(f"{auth_server.url}/account")
    expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("Logged in as")).to_have_count(0)
