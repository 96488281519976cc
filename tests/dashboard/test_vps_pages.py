"""The servers pages in a real browser against a real server and a private sshd."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from .conftest import VIEWER, VPS, log_in

Keys = Any  # the vps plugin's test fixtures (its conftest is loaded by path)


@pytest.fixture
def add_server(admin_api: httpx.Client, keys: Keys) -> Iterator[Callable[..., str]]:
    """Add ``sshd`` as a trusted server through the API; every server is removed afterwards."""

    def add(name: str, sshd: Any, **extra: Any) -> str:
        added = admin_api.post("/api/vps/servers", json=VPS.server_body(name, sshd, keys, **extra))
        assert added.status_code == 201, added.text
        return name

    yield add
    for server in admin_api.get("/api/vps/servers").json():
        admin_api.delete(f"/api/vps/servers/{server['name']}")


def test_add_a_server_after_seeing_its_host_key_then_run_uptime(
    admin_page: Page,
    admin_api: httpx.Client,
    add_server: Callable[..., str],
    sshd: Any,
    keys: Keys,
    unique: Callable[[str], str],
    screenshot: Callable[[Page, str], Path],
) -> None:
    name = unique("web")
    page = admin_page
    page.get_by_role("link", name="Servers").click()
    page.get_by_role("button", name="Add server").click()
    dialog = page.get_by_role("dialog", name="Add a server")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Host", exact=True).fill("127.0.0.1")
    dialog.get_by_label("Port").fill(str(sshd.port))
    dialog.get_by_label("User").fill(sshd.user)
    dialog.get_by_role("button", name="Check the host key").click()
    key = dialog.get_by_role("group", name="Host key")
    expect(key.locator("[data-fingerprint]")).to_have_text(keys.host_fingerprint())
    # The fingerprint is shown before any credential is asked for, and nothing is stored.
    assert admin_api.get("/api/vps/servers").json() == []
    expect(dialog.get_by_label("Private key", exact=True)).to_be_visible()
    screenshot(page, "server-add")
    dialog.get_by_label("Private key", exact=True).fill(keys.client_pem)
    dialog.get_by_role("button", name="Trust this key and add").click()
    expect(page).to_have_url(re.compile(rf"/servers/{name}$"))
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text("trusted", exact=True)).to_be_visible()
    stored = admin_api.get(f"/api/vps/servers/{name}").json()
    assert stored["host_key_fingerprint"] == keys.host_fingerprint()

    page.get_by_role("tab", name="Run").click()
    page.get_by_label("Command").fill("uptime")
    page.get_by_role("button", name="Run", exact=True).click()
    output = page.get_by_role("region", name=f"Output of {name}")
    expect(output).to_contain_text("load average")
    expect(output.locator("[data-outcome]")).to_contain_text("exit 0 in")
    page.get_by_role("tab", name="Overview").click()
    expect(page.get_by_role("img", name=f"CPU of {name}")).to_be_visible()
    expect(page.get_by_text("up", exact=True)).to_be_visible()  # sampled by the vps collector
    screenshot(page, "server")


def test_upload_a_file_with_progress_then_download_it(
    admin_page: Page, add_server: Callable[..., str], sshd: Any, tmp_path: Path
) -> None:
    name = add_server("files-1", sshd)
    folder = tmp_path / "uploads"
    folder.mkdir()
    content = secrets.token_bytes(512 * 1024)
    page = admin_page
    page.goto(f"/servers/{name}")
    page.get_by_role("tab", name="Files").click()
    page.get_by_label("Path").fill(str(folder))
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_text("This folder is empty.")).to_be_visible()
    page.get_by_label("Upload files").set_input_files(
        {"name": "payload.bin", "mimeType": "application/octet-stream", "buffer": content}
    )
    expect(page.get_by_role("progressbar", name="Uploading payload.bin")).to_have_attribute(
        "aria-valuenow", "100"
    )
    listing = page.get_by_role("table", name=f"Files in {folder}")
    expect(listing.get_by_role("row").filter(has_text="payload.bin")).to_contain_text("512 KB")
    assert (folder / "payload.bin").read_bytes() == content
    with page.expect_download() as download:
        page.get_by_role("button", name="Download payload.bin").click()
    assert Path(download.value.path()).read_bytes() == content


def test_run_a_command_on_every_server_of_a_tag(
    admin_page: Page,
    add_server: Callable[..., str],
    sshd: Any,
    screenshot: Callable[[Page, str], Path],
) -> None:
    for name in ("web-a", "web-b"):
        add_server(name, sshd, tags=["web"])
    add_server("db-a", sshd, tags=["db"])
    page = admin_page
    page.goto("/servers")
    row = page.locator("tr[data-row='web-a']")
    expect(row.get_by_text("up", exact=True)).to_be_visible()
    page.get_by_role("button", name="Run command").click()
    dialog = page.get_by_role("dialog", name="Run a command")
    dialog.get_by_label("servers tagged").check()
    dialog.get_by_label("Tag", exact=True).select_option("web")
    dialog.get_by_label("Command").fill("echo out-$0; echo err >&2; exit 3")
    dialog.get_by_role("button", name="Run", exact=True).click()
    for name in ("web-a", "web-b"):
        output = dialog.get_by_role("region", name=f"Output of {name}")
        expect(output).to_contain_text("out-")
        expect(output.locator(".text-red-300")).to_contain_text("err")
        expect(output.locator("[data-outcome]")).to_contain_text("exit 3")
    expect(dialog.get_by_role("region", name="Output of db-a")).to_have_count(0)
    page.keyboard.press("Escape")
    screenshot(page, "servers")


def test_import_an_ssh_config_then_trust_the_key(
    admin_page: Page, add_server: Callable[..., str], sshd: Any, keys: Keys
) -> None:
    config = (
        f"Host imported-1\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
        f"  IdentityFile {keys.client}\nHost *.wild\n  User nobody\n"
    )
    page = admin_page
    page.goto("/servers")
    page.get_by_role("button", name="Import SSH config").click()
    dialog = page.get_by_role("dialog", name="Import from an SSH config")
    dialog.get_by_label("SSH config").fill(config)
    dialog.get_by_role("button", name="Import").click()
    expect(dialog.get_by_role("status")).to_contain_text("Added 1: imported-1")
    dialog.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Trust the host key of imported-1").click()
    trust = page.get_by_role("dialog", name="Trust the host key of imported-1")
    expect(trust.locator("[data-fingerprint]")).to_have_text(keys.host_fingerprint())
    trust.get_by_role("button", name="Trust this key").click()
    expect(page.locator("tr[data-row='imported-1']").get_by_text("trusted")).to_be_visible()


def test_the_terminal_tab_opens_a_shell_on_the_server(
    admin_page: Page, add_server: Callable[..., str], sshd: Any
) -> None:
    name = add_server("shell-1", sshd)
    admin_page.goto(f"/servers/{name}")
    admin_page.get_by_role("tab", name="Terminal").click()
    expect(admin_page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    admin_page.locator(".xterm-helper-textarea").focus()
    admin_page.keyboard.type("echo hi\n")
    output = admin_page.locator(".xterm-rows > div").filter(has_text=re.compile(r"^\s*hi\s*$"))
    expect(output).to_have_count(1)


def test_a_viewer_sees_servers_but_no_way_to_change_them(
    open_page: Callable[..., Page], add_server: Callable[..., str], sshd: Any
) -> None:
    name = add_server("viewed-1", sshd)
    page = log_in(open_page(), *VIEWER, path="/servers")
    expect(page.locator(f"tr[data-row='{name}']")).to_be_visible()
    for button in ("Add server", "Import SSH config", "Run command", f"Remove {name}"):
        expect(page.get_by_role("button", name=button)).to_have_count(0)
    page.goto(f"/servers/{name}")
    expect(page.get_by_role("tab", name="Overview")).to_be_visible()
    expect(page.get_by_role("tab", name="Files")).to_have_count(0)
    expect(page.get_by_role("tab", name="Run")).to_have_count(0)
    expect(page.get_by_role("tab", name="Terminal")).to_have_count(0)
