"""The Components page: a v1 custom component from a local folder, and app static files."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import AppServer
from tests.e2e.pages import TIMEOUT, absolute, go_to, open_app

pytestmark = pytest.mark.component


@pytest.fixture
def components_page(page: Page, server: AppServer) -> Page:
    open_app(page, server)
    go_to(page, "Components")
    return page


def test_the_custom_component_sends_values_to_the_script(components_page: Page) -> None:
    expect(components_page.get_by_text("Component value: None", exact=True)).to_be_visible()
    frame = components_page.frame_locator('iframe[title="hexlit_echo.hexlit_echo"]')
    button = frame.get_by_role("button", name="Send to Python", exact=True)
    expect(button).to_be_enabled(timeout=TIMEOUT)

    button.click()
    expect(components_page.get_by_text("Component value: clicked 1", exact=True)).to_be_visible(
        timeout=TIMEOUT
    )
    button.click()
    expect(components_page.get_by_text("Component value: clicked 2", exact=True)).to_be_visible(
        timeout=TIMEOUT
    )


def test_the_static_folder_is_served(components_page: Page, server: AppServer) -> None:
    link = components_page.get_by_role("link", name="static file", exact=True)
    expect(link).to_be_visible(timeout=TIMEOUT)
    href = link.get_attribute("href")
    assert href is not None
    url = absolute(components_page, href)
    assert url == f"{server.url}/app/static/hello.txt"

    response = components_page.request.get(url)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text() == "Hello from hexlit's static folder.\n"

    missing = components_page.request.get(f"{server.url}/app/static/missing.txt")
    assert missing.status == 404
