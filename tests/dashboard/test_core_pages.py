"""The dashboard in a real browser against a real server: log-in, overview, log-out."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from skyport.testing import LiveServer, wait_for

from .conftest import log_in


def test_a_visitor_logs_in_and_lands_where_they_were_going(page: Page) -> None:
    page.goto("/admin/plugins")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fadmin%2Fplugins$"))
    log_in(page, path=page.url)
    expect(page).to_have_url(re.compile(r"/admin/plugins$"))


def test_a_wrong_password_is_explained(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid username or password")


def test_overview_draws_live_metrics(
    admin_page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    cpu = admin_page.locator("[data-stat='CPU']")
    sampled = admin_page.locator("[data-stat='Sampled']")
    expect(cpu).to_have_text(re.compile(r"^\d+\.\d %$"))
    expect(sampled).to_have_text(re.compile(r"\d"))
    # every live sample redraws the figures (CPU itself may read 100.0 % twice running)
    first = sampled.inner_text()
    wait_for(lambda: sampled.inner_text() != first, "a new sample to be drawn", timeout=30)
    expect(cpu).to_have_text(re.compile(r"^\d+\.\d %$"))
    expect(admin_page.get_by_role("img", name="CPU over the last hour")).to_be_visible()
    expect(admin_page.locator("text=docker").first).to_be_visible()
    screenshot(admin_page, "overview")


def test_log_out_ends_the_session(
    admin_page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    admin_page.get_by_role("button", name="Log out").click()
    expect(admin_page.get_by_role("button", name="Log in")).to_be_visible()
    screenshot(admin_page, "login")
    admin_page.goto("/")
    expect(admin_page).to_have_url(re.compile(r"/login$"))
    answer = admin_page.request.get("/api/auth/me")
    assert answer.status == 401


def test_an_ended_session_returns_to_log_in_then_to_the_same_page(admin_page: Page) -> None:
    admin_page.get_by_role("link", name="Containers").click()
    expect(admin_page.get_by_role("heading", name="Containers")).to_be_visible()
    # The session ends elsewhere (logged out from another tab): the server closes the
    # page's live connection, and the page sends the person to log in.
    csrf = next(c["value"] for c in admin_page.context.cookies() if c["name"] == "skyport_csrf")
    ended = admin_page.request.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert ended.status == 204
    expect(admin_page).to_have_url(re.compile(r"/login\?next=%2Fcontainers$"))
    log_in(admin_page, path=admin_page.url)
    expect(admin_page).to_have_url(re.compile(r"/containers$"))
    expect(admin_page.get_by_role("heading", name="Containers")).to_be_visible()


def test_the_dark_theme_follows_the_system(
    admin_page: Page, browser: Browser, server: LiveServer, screenshot: Callable[[Page, str], Path]
) -> None:
    body = "() => getComputedStyle(document.body).backgroundColor"
    light = admin_page.evaluate(body)
    context = browser.new_context(base_url=server.url, color_scheme="dark")
    try:
        page = log_in(context.new_page())
        assert page.evaluate(body) != light
        screenshot(page, "overview-dark")
    finally:
        context.close()


def test_the_host_terminal_runs_commands(admin_page: Page) -> None:
    admin_page.get_by_role("link", name="Host terminal").click()
    expect(admin_page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    admin_page.locator(".xterm-helper-textarea").focus()
    admin_page.keyboard.type("echo hi\n")
    output = admin_page.locator(".xterm-rows > div").filter(has_text=re.compile(r"^\s*hi\s*$"))
    expect(output).to_have_count(1)


def test_an_admin_makes_a_role_from_the_scopes_listed(admin_page: Page) -> None:
    page = admin_page
    page.goto("/admin/roles")
    expect(page.get_by_role("table", name="Scopes")).to_contain_text("docker:read")
    page.get_by_role("button", name="Add role").click()
    dialog = page.get_by_role("dialog", name="Add a role")
    dialog.get_by_label("Name", exact=True).fill("auditor")
    dialog.get_by_role("checkbox", name=re.compile(r"^audit:read ")).check()
    dialog.get_by_role("checkbox", name=re.compile(r"^auth:self ")).check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    row = page.get_by_role("table", name="Roles").get_by_role("row", name=re.compile("^auditor"))
    expect(row).to_contain_text("audit:read auth:self")
