"""The browsable API reference at /schema/swagger, in a real browser: it needs a login,
renders every route, and loads nothing from anywhere but this server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from skyport.testing import LiveServer


def test_the_api_reference_renders_offline(
    admin_page: Page, server: LiveServer, screenshot: Callable[[Page, str], Path]
) -> None:
    hosts: set[str] = set()
    admin_page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    admin_page.goto("/schema/swagger")
    expect(admin_page.locator(".swagger-ui .info .title")).to_contain_text("SkyPort")
    expect(admin_page.locator(".opblock-summary-path").first).to_be_visible()
    expect(admin_page.get_by_text("/api/auth/login", exact=True)).to_be_visible()
    expect(admin_page.locator("#operations-tag-docker")).to_be_visible()
    screenshot(admin_page, "api-reference")
    assert hosts == {urlsplit(server.url).netloc}


def test_the_api_reference_needs_a_login(page: Page) -> None:
    answer = page.request.get("/schema/swagger")
    assert answer.status == 401
