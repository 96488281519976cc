"""The frame around every page: the command palette (Ctrl-K) and the phone-sized menu."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from .conftest import PHONE, log_in


def jump(page: Page, words: str) -> None:
    """Open the palette with Ctrl-K, type ``words``, take the first match."""
    page.keyboard.press("Control+k")
    box = page.get_by_role("combobox", name="Go to")
    expect(box).to_be_focused()
    box.fill(words)
    expect(page.get_by_role("option").first).to_be_visible()
    page.keyboard.press("Enter")
    expect(box).to_be_hidden()


def test_ctrl_k_jumps_to_a_page_or_a_container(
    admin_page: Page, make_container: Callable[..., dict[str, Any]]
) -> None:
    container = make_container()
    page = admin_page
    jump(page, "audit log")
    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    jump(page, container["Name"].lstrip("/"))
    expect(page).to_have_url(re.compile(rf"/containers/{container['Id'][:12]}$"))
    expect(page.get_by_role("heading", name=container["Name"].lstrip("/"))).to_be_visible()


def test_on_a_phone_the_navigation_is_a_menu(open_page: Callable[..., Page]) -> None:
    page = log_in(open_page(PHONE))
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    menu = page.get_by_role("dialog", name="SkyPort")
    menu.get_by_role("link", name="Processes").click()
    expect(menu).to_be_hidden()
    expect(page.get_by_role("heading", name="Processes", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
