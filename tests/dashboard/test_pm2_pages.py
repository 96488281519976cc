"""The processes pages in a real browser against a real server and a real PM2 daemon."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from skyport.testing import wait_for

from .conftest import VIEWER, csrf, log_in, pm2_processes


def statuses(home: Path, name: str) -> list[str]:
    """What the daemon itself says of the processes named ``name``."""
    return [p["pm2_env"]["status"] for p in pm2_processes(home) if p["name"] == name]


def start(page: Page, **body: Any) -> None:
    """Start a process through the API, with the page's session."""
    started = page.request.post("/api/pm2/start", data=body, headers=csrf(page))
    assert started.status == 201, started.text()


def test_start_a_process_from_the_form_and_follow_its_logs(
    admin_page: Page,
    pm2: Path,
    scripts: Path,
    unique: Callable[[str], str],
    screenshot: Callable[[Page, str], Path],
) -> None:
    name = unique("logger")
    page = admin_page
    page.get_by_role("link", name="Processes").click()
    page.get_by_role("button", name="Start process").click()
    dialog = page.get_by_role("dialog", name="Start a process")
    dialog.get_by_label("Script", exact=True).fill(str(scripts / "logger.js"))
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Environment").fill("LOG_LEVEL=debug")
    dialog.get_by_role("button", name="Start").click()
    expect(dialog).to_be_hidden()
    row = page.locator(f"tr[data-row='{name}']")
    expect(row.get_by_text("online", exact=True)).to_be_visible()
    assert statuses(pm2, name) == ["online"]
    expect(page.get_by_role("list", name="Process events")).to_contain_text(name)
    screenshot(page, "processes")

    row.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    log = page.get_by_role("log", name=f"Log of {name}")
    expect(log).to_contain_text("tick 1")
    seen = log.inner_text().count("tick")
    wait_for(lambda: log.inner_text().count("tick") > seen + 3, "live output to follow")
    expect(log.locator(".text-red-300").first).to_contain_text("warn")
    screenshot(page, "process")

    page.get_by_role("button", name=f"Stop {name}").click()
    wait_for(lambda: statuses(pm2, name) == ["stopped"], "the process to stop")
    expect(
        page.get_by_role("heading", level=1).locator("..").get_by_text("stopped")
    ).to_be_visible()


def test_the_start_form_explains_what_is_wrong(admin_page: Page, pm2: Path) -> None:
    admin_page.goto("/processes")
    admin_page.get_by_role("button", name="Start process").click()
    dialog = admin_page.get_by_role("dialog", name="Start a process")
    dialog.get_by_label("Instances").fill("many")
    dialog.get_by_role("button", name="Start").click()
    expect(dialog.get_by_label("Script", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(dialog).to_contain_text("A whole number from -64 to 256")
    dialog.get_by_label("Instances").fill("")
    dialog.get_by_label("Script", exact=True).fill("/nowhere/app.js")
    dialog.get_by_role("button", name="Start").click()
    expect(dialog.get_by_role("alert")).to_contain_text("/nowhere/app.js")
    assert pm2_processes(pm2) == []


def test_scale_then_stop_every_instance_in_bulk(
    admin_page: Page, pm2: Path, scripts: Path, unique: Callable[[str], str]
) -> None:
    name = unique("web")
    page = admin_page
    start(page, script=str(scripts / "server.js"), name=name, instances=1, env={"PORT": "0"})
    page.goto("/processes")
    page.get_by_role("button", name=f"Scale {name}").click()
    dialog = page.get_by_role("dialog", name=f"Scale {name}")
    dialog.get_by_label("Instances").fill("2")
    dialog.get_by_role("button", name="Scale").click()
    rows = page.locator(f"tr[data-row='{name}']")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(re.compile(r"cluster . 2"))
    for checkbox in page.get_by_role("checkbox", name=re.compile(rf"^Select {name} ")).all():
        checkbox.check()
    page.get_by_role("toolbar", name="Selected processes").get_by_role(
        "button", name="Stop selected"
    ).click()
    wait_for(lambda: statuses(pm2, name) == ["stopped", "stopped"], "both instances to stop")
    expect(rows.get_by_text("stopped", exact=True)).to_have_count(2)


def test_environment_values_are_shown_to_an_admin_who_asks(
    admin_page: Page, pm2: Path, scripts: Path, unique: Callable[[str], str]
) -> None:
    name = unique("secret")
    page = admin_page
    start(page, script=str(scripts / "logger.js"), name=name, env={"API_KEY": "hunter2"})
    page.goto(f"/processes/{name}")
    page.get_by_role("tab", name="Environment").click()
    variables = page.get_by_role("list", name="Environment variables")
    expect(variables).to_contain_text("API_KEY=(hidden)")
    expect(page.get_by_text("hunter2")).to_have_count(0)
    page.get_by_role("button", name="Show values").click()
    expect(variables).to_contain_text("API_KEY=hunter2")
    audit = page.request.get("/api/audit", params={"action": "pm2: reveal environment"}).json()
    assert any(entry["target"] == name for entry in audit["items"]), audit


def test_a_viewer_reads_processes_but_sees_no_values_and_no_buttons(
    admin_page: Page,
    open_page: Callable[..., Page],
    pm2: Path,
    scripts: Path,
    unique: Callable[[str], str],
) -> None:
    name = unique("viewed")
    start(admin_page, script=str(scripts / "logger.js"), name=name, env={"API_KEY": "hunter2"})
    page = log_in(open_page(), *VIEWER)
    page.goto("/processes")
    expect(page.locator(f"tr[data-row='{name}']")).to_be_visible()
    expect(page.get_by_role("button", name="Start process")).to_have_count(0)
    expect(
        page.get_by_role("button", name=re.compile(rf"^(Stop|Delete|Scale) {name}"))
    ).to_have_count(0)
    page.goto(f"/processes/{name}")
    page.get_by_role("tab", name="Environment").click()
    expect(page.get_by_role("list", name="Environment variables")).to_contain_text(
        "API_KEY=(hidden)"
    )
    expect(page.get_by_role("button", name="Show values")).to_have_count(0)
