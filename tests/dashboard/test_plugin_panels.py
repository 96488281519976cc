"""A third-party plugin that ships no frontend code (tests/plugins/skyport-snapshots, written
from docs/plugins.md alone and installed as a user installs one) gets a navigation entry and
working pages drawn from its declarative panels."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from .conftest import csrf, log_in


def take(page: Page, name: str, size: int) -> None:
    taken = page.request.post(
        "/api/snapshots/list", data={"name": name, "size": size}, headers=csrf(page)
    )
    assert taken.status == 201, taken.text()


def snapshots(page: Page) -> dict[str, str]:
    """Name → state, as the plugin's API says."""
    return {s["name"]: s["state"] for s in page.request.get("/api/snapshots/list").json()}


def test_a_plugin_without_frontend_code_gets_an_entry_and_a_working_page(
    admin_page: Page, unique: Callable[[str], str], screenshot: Callable[[Page, str], Path]
) -> None:
    page = admin_page
    first, second = unique("daily"), unique("weekly")
    take(page, first, 1024 * 1024)
    take(page, second, 3 * 1024**3)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Snapshots").click()
    expect(page).to_have_url(re.compile(r"/plugins/snapshots$"))
    table = page.get_by_role("table", name="Snapshots")
    row = table.get_by_role("row").filter(has_text=first)
    # every column in its format: bytes, percent, duration, date and time, status
    for text in ("1.00 MB", "42.5 %", "1m 33s", "taken"):
        expect(row).to_contain_text(text)
    expect(row).to_contain_text(re.compile(r"\d{1,2}:\d{2}:\d{2}"))
    expect(table.get_by_role("row").filter(has_text=second)).to_contain_text("3.00 GB")
    # the stat follows the plugin's collector live: as many as the plugin keeps
    expect(page.locator("[data-stat='count']")).to_have_text(str(len(snapshots(page))))
    expect(page.get_by_role("img", name="Snapshot space")).to_be_visible()
    screenshot(page, "plugin-panels")

    row.get_by_role("button", name=f"Verify {first}").click()
    expect(row.get_by_text("verified", exact=True)).to_be_visible()
    assert snapshots(page)[first] == "verified"

    row.get_by_role("button", name=f"Delete {first}").click()
    dialog = page.get_by_role("dialog", name=f"Delete the snapshot {first}?")
    dialog.get_by_role("button", name="Delete").click()
    expect(table.get_by_role("row").filter(has_text=first)).to_have_count(0)
    assert first not in snapshots(page)

    page.get_by_role("link", name="Open Snapshots kept on its own").click()
    expect(page).to_have_url(re.compile(r"/plugins/snapshots/count$"))
    expect(page.get_by_role("heading", name="Snapshots kept")).to_be_visible()


def test_row_actions_are_hidden_without_their_scope(
    admin_page: Page, open_page: Callable[..., Page], unique: Callable[[str], str]
) -> None:
    name = unique("kept")
    take(admin_page, name, 2048)
    operator = (unique("olga"), "olga-password-123")
    body = {"username": operator[0], "password": operator[1], "role": "operator"}
    added = admin_page.request.post("/api/users", data=body, headers=csrf(admin_page))
    assert added.status == 201, added.text()
    for user, verify, delete in ((operator, 1, 0), (("vera", "vera-password-123"), 0, 0)):
        page = log_in(open_page(), *user, path="/plugins/snapshots/list")
        row = page.get_by_role("table", name="Snapshots").get_by_role("row").filter(has_text=name)
        expect(row).to_contain_text("2.00 KB")
        expect(row.get_by_role("button", name=f"Verify {name}")).to_have_count(verify)
        expect(row.get_by_role("button", name=f"Delete {name}")).to_have_count(delete)
