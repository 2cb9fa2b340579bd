"""The showcase app renders, its widgets round-trip, and session state lives across reruns."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.harness import AppServer
from tests.e2e.pages import (
    TIMEOUT,
    enter_name,
    expect_count,
    expect_no_connection_error,
    go_to,
    increment,
    open_app,
)


def test_the_app_renders(page: Page, server: AppServer) -> None:
    open_app(page, server)
    nav = page.get_by_test_id("stSidebarNav")
    for title in ("Home", "Files", "Components", "Account"):
        expect(nav.get_by_role("link", name=title, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Increment", exact=True)).to_be_enabled()
    expect_no_connection_error(page)


def test_a_page_url_opens_that_page(page: Page, server: AppServer) -> None:
    page.goto(f"{server.url}/account")
    expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(
        page.get_by_text("Login is configured through .streamlit/secrets.toml [auth]")
    ).to_be_visible()
    expect_no_connection_error(page)


def test_widgets_round_trip(page: Page, server: AppServer) -> None:
    open_app(page, server)
    increment(page)
    expect_count(page, 1)
    increment(page)
    expect_count(page, 2)
    enter_name(page, "Ada Lovelace")


def test_session_state_survives_reruns_and_page_switches(page: Page, server: AppServer) -> None:
    open_app(page, server)
    increment(page)
    expect_count(page, 1)

    enter_name(page, "Grace")
    expect_count(page, 1)

    slider = page.get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    expect(page.get_by_text("Level: 6", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect_count(page, 1)

    go_to(page, "Files")
    go_to(page, "Home")
    expect_count(page, 1)
    increment(page)
    expect_count(page, 2)
