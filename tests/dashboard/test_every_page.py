"""Every page of the dashboard, with something on it: no critical or serious accessibility
violation (axe-core: names, labels, contrast, keyboard access) on a desktop in the light theme
or on a phone-sized screen in the dark one, and at 390 px nothing scrolls sideways."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE, VPS, axe_problems, log_in

Keys = Any  # the vps plugin's test fixtures (its conftest is loaded by path)


@pytest.fixture
def something_everywhere(
    admin_api: httpx.Client,
    make_container: Callable[..., dict[str, Any]],
    pm2: Path,
    scripts: Path,
    sshd: Any,
    keys: Keys,
) -> Iterator[dict[str, str]]:
    """A container, a process, a server and a snapshot, so that no page is only empty; the
    address of every page."""
    container = make_container()["Id"][:12]
    started = admin_api.post(
        "/api/pm2/start", json={"script": str(scripts / "logger.js"), "name": "every-page"}
    )
    assert started.status_code == 201, started.text
    server = VPS.server_body("every-page", sshd, keys, tags=["e2e"])
    assert admin_api.post("/api/vps/servers", json=server).status_code == 201
    snapshot = {"name": "every-page", "size": 4096}
    assert admin_api.post("/api/snapshots/list", json=snapshot).status_code == 201
    apps = admin_api.get("/api/marketplace/apps", params={"per_page": 1}).json()["items"]
    yield {
        "overview": "/",
        "containers": "/containers",
        "container": f"/containers/{container}",
        "images": "/images",
        "volumes": "/volumes",
        "networks": "/networks",
        "stacks": "/stacks",
        "processes": "/processes",
        "process": "/processes/every-page",
        "servers": "/servers",
        "server": "/servers/every-page",
        "marketplace": "/marketplace",
        **({"marketplace-app": f"/marketplace/{apps[0]['id']}"} if apps else {}),
        "marketplace-installed": "/marketplace/installed",
        "marketplace-sources": "/marketplace/sources",
        "plugin-panels": "/plugins/snapshots",
        "plugin-panel": "/plugins/snapshots/list",
        "admin-users": "/admin/users",
        "admin-roles": "/admin/roles",
        "admin-tokens": "/admin/tokens",
        "admin-audit": "/admin/audit",
        "admin-plugins": "/admin/plugins",
        "terminal": "/terminal",
    }
    admin_api.delete("/api/snapshots/list/every-page")
    admin_api.delete("/api/vps/servers/every-page")


DIALOGS = {
    "containers": "Run container",
    "images": "Pull image",
    "volumes": "Create volume",
    "stacks": "Deploy stack",
    "processes": "Start process",
    "servers": "Add server",
    "marketplace-sources": "Add source",
    "admin-roles": "Add role",
}
"""The dialog a page opens from its main button, checked as well."""
IMPACTS = ("critical", "serious")


def settled(page: Page, path: str) -> Page:
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("[aria-busy='true']")).to_have_count(0)
    return page


def views(page: Page, name: str, path: str) -> Iterator[str]:
    """Open the page at ``path``, then each of its tabs, then its dialog: one name per view,
    yielded while it is on screen."""
    settled(page, path)
    yield name
    tabs = page.get_by_role("tab")
    for index in range(tabs.count()):
        tab = tabs.nth(index)
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
        expect(page.locator("[aria-busy='true']")).to_have_count(0)
        yield f"{name}, {tab.inner_text()} tab"
    if button := DIALOGS.get(name):
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.get_by_role("dialog")).to_be_visible()
        yield f"{name}, {button} dialog"
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)


def test_no_page_has_a_critical_or_serious_accessibility_violation(
    admin_page: Page, open_page: Callable[..., Page], something_everywhere: dict[str, str]
) -> None:
    phone = log_in(open_page(PHONE, theme="dark"))
    found = {}
    for name, path in something_everywhere.items():
        for size, page in (("desktop, light", admin_page), ("phone, dark", phone)):
            for view in views(page, name, path):
                if problems := axe_problems(page, IMPACTS):
                    found[f"{view} ({size})"] = problems
    log_out_page = open_page(DESKTOP)
    log_out_page.goto("/login")
    expect(log_out_page.get_by_role("button", name="Log in")).to_be_visible()
    if problems := axe_problems(log_out_page, IMPACTS):
        found["login"] = problems
    assert found == {}


def test_every_page_fits_a_phone_sized_screen(
    open_page: Callable[..., Page],
    something_everywhere: dict[str, str],
    screenshot: Callable[..., Path],
) -> None:
    page = log_in(open_page(PHONE))
    wide = {}
    for name, path in something_everywhere.items():
        for view in views(page, name, path):
            if view == name:  # a dialog hides the rest of the page
                expect(page.get_by_role("button", name="Menu")).to_be_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide[view] = width
    assert wide == {}
    settled(page, something_everywhere["processes"])
    screenshot(page, "phone-processes", full_page=False)
    settled(page, something_everywhere["marketplace"])
    screenshot(page, "phone-marketplace", full_page=False)
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("dialog", name="SkyPort")).to_be_visible()
    screenshot(page, "phone-menu", full_page=False)
