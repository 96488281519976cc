"""The frame around every page: the command palette (Ctrl-K) and the phone-sized menu."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from .conftest import PHONE, VPS, log_in


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


@pytest.fixture
def process_and_server(
    admin_api: httpx.Client,
    pm2: Path,
    scripts: Path,
    sshd: Any,
    keys: Any,
    unique: Callable[[str], str],
) -> Iterator[tuple[str, str]]:
    """A PM2 process and a server, by name (the server is removed afterwards)."""
    process, server = unique("proc"), unique("host")
    started = admin_api.post(
        "/api/pm2/start", json={"script": str(scripts / "logger.js"), "name": process}
    )
    assert started.status_code == 201, started.text
    added = admin_api.post("/api/vps/servers", json=VPS.server_body(server, sshd, keys))
    assert added.status_code == 201, added.text
    yield process, server
    admin_api.delete(f"/api/vps/servers/{server}")


def test_ctrl_k_jumps_to_a_process_or_a_server(
    admin_page: Page, process_and_server: tuple[str, str]
) -> None:
    process, server = process_and_server
    page = admin_page
    jump(page, process)
    expect(page).to_have_url(re.compile(rf"/processes/{process}$"))
    expect(page.get_by_role("heading", name=process)).to_be_visible()
    jump(page, server)
    expect(page).to_have_url(re.compile(rf"/servers/{server}$"))
    expect(page.get_by_role("heading", name=server)).to_be_visible()


def test_on_a_phone_the_navigation_is_a_menu(open_page: Callable[..., Page]) -> None:
    page = log_in(open_page(PHONE))
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    menu = page.get_by_role("dialog", name="SkyPort")
    menu.get_by_role("link", name="Processes").click()
    expect(menu).to_be_hidden()
    expect(page.get_by_role("heading", name="Processes", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
