"""The Docker pages in a real browser against a real server and the real engine."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from playwright.sync_api import Page, expect

from skyport.testing import wait_for


@pytest.fixture
def form_container(engine: docker.APIClient, unique: Callable[[str], str]) -> Iterator[str]:
    """A name for a container the test runs through the form; removed afterwards."""
    name = unique("form")
    yield name
    with contextlib.suppress(docker.errors.NotFound):
        engine.remove_container(name, force=True)


def test_run_a_container_from_the_form_then_stop_it_from_its_row(
    admin_page: Page, engine: docker.APIClient, test_image: str, form_container: str
) -> None:
    page = admin_page
    page.get_by_role("link", name="Containers").click()
    page.get_by_role("button", name="Run container").click()
    dialog = page.get_by_role("dialog", name="Run a container")
    dialog.get_by_label("Image", exact=True).fill(test_image)
    dialog.get_by_label("Name", exact=True).fill(form_container)
    dialog.get_by_label("Command").fill("sleep 3600")
    dialog.get_by_label("Network").fill("none")
    dialog.get_by_role("button", name="Run").click()
    expect(dialog).to_be_hidden()
    row = page.locator(f"tr[data-container='{form_container}']")
    expect(row.get_by_text("running", exact=True)).to_be_visible()
    assert engine.inspect_container(form_container)["State"]["Running"]

    row.get_by_role("button", name=f"Stop {form_container}").click()
    expect(row.get_by_text("exited", exact=True)).to_be_visible()
    assert not engine.inspect_container(form_container)["State"]["Running"]


def test_a_bad_run_request_is_explained_in_the_form(admin_page: Page, test_image: str) -> None:
    admin_page.goto("/containers")
    admin_page.get_by_role("button", name="Run container").click()
    dialog = admin_page.get_by_role("dialog", name="Run a container")
    dialog.get_by_label("Image", exact=True).fill(test_image)
    dialog.get_by_label("Ports").fill("99999:80")
    dialog.get_by_role("button", name="Run").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Cannot run the container")
    expect(dialog.get_by_role("alert")).to_contain_text("99999")


def test_the_terminal_tab_runs_commands_in_the_container(
    admin_page: Page, make_container: Callable[..., dict[str, Any]]
) -> None:
    container = make_container()
    name = container["Name"].lstrip("/")
    admin_page.goto(f"/containers/{container['Id'][:12]}")
    expect(admin_page.get_by_role("heading", name=name)).to_be_visible()
    admin_page.get_by_role("tab", name="Terminal").click()
    expect(admin_page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    admin_page.locator(".xterm-helper-textarea").focus()
    admin_page.keyboard.type("echo hi\n")
    # one row of the screen holds the output alone (another holds the command typed)
    output = admin_page.locator(".xterm-rows > div").filter(has_text=re.compile(r"^\s*hi\s*$"))
    expect(output).to_have_count(1)


def test_pull_an_image_from_the_local_registry_with_a_progress_bar_then_remove_it(
    admin_page: Page, engine: docker.APIClient, pushed_image: str
) -> None:
    page = admin_page
    page.goto("/images")
    page.get_by_role("button", name="Pull image").click()
    dialog = page.get_by_role("dialog", name="Pull an image")
    dialog.get_by_label("Image", exact=True).fill(pushed_image)
    dialog.get_by_role("button", name="Pull").click()
    bar = dialog.get_by_role("progressbar", name=f"Pulling {pushed_image}")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(dialog.get_by_role("status")).to_contain_text("Done")
    dialog.get_by_role("button", name="Close").click()
    expect(page.get_by_role("cell", name=pushed_image, exact=True)).to_be_visible()
    assert engine.images(name=pushed_image.rpartition(":")[0])

    page.get_by_role("button", name=f"Remove {pushed_image}").click()
    page.get_by_role("dialog", name=f"Remove {pushed_image}?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(page.get_by_role("cell", name=pushed_image, exact=True)).to_have_count(0)
    assert not engine.images(name=pushed_image.rpartition(":")[0])


def test_a_viewer_sees_no_write_buttons(
    viewer_page: Page, make_container: Callable[..., dict[str, Any]]
) -> None:
    container = make_container()
    name = container["Name"].lstrip("/")
    page = viewer_page
    page.goto("/containers")
    expect(page.locator(f"tr[data-container='{name}']")).to_be_visible()
    expect(page.get_by_role("button", name="Run container")).to_have_count(0)
    writes = re.compile(r"^(Stop|Start|Remove|Kill) ")
    expect(page.get_by_role("button", name=writes)).to_have_count(0)
    page.goto(f"/containers/{container['Id'][:12]}")
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_role("button", name=f"Stop {name}")).to_have_count(0)
    expect(page.get_by_role("tab", name="Terminal")).to_have_count(0)
    page.goto("/images")
    expect(page.get_by_role("table", name="Images")).to_be_visible()
    expect(page.get_by_role("button", name="Pull image")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)


PAGES = {
    "containers": "/containers",
    "images": "/images",
    "volumes": "/volumes",
    "networks": "/networks",
    "stacks": "/stacks",
    "admin-users": "/admin/users",
    "admin-roles": "/admin/roles",
    "admin-tokens": "/admin/tokens",
    "admin-audit": "/admin/audit",
    "admin-plugins": "/admin/plugins",
    "terminal": "/terminal",
}


def test_every_page_opens_from_its_address(
    admin_page: Page,
    make_container: Callable[..., dict[str, Any]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    container = make_container()
    for name, path in PAGES.items():
        admin_page.goto(path)
        expect(admin_page.get_by_role("heading", level=1)).to_be_visible()
        expect(admin_page.get_by_role("alert")).to_have_count(0)
        screenshot(admin_page, name)
    admin_page.goto("/admin/plugins")
    expect(admin_page.get_by_label("Effective settings")).to_contain_text('"server"')
    admin_page.goto(f"/containers/{container['Id'][:12]}")
    expect(admin_page.get_by_role("heading", name=container["Name"].lstrip("/"))).to_be_visible()
    screenshot(admin_page, "container")
    wait_for(lambda: admin_page.get_by_role("tab").count() == 4, "the container's tabs")


@pytest.fixture
def stack_name(engine: docker.APIClient, unique: Callable[[str], str]) -> Iterator[str]:
    """A name for a stack the test deploys; whatever is left of it is removed afterwards."""
    name = unique("stack").replace("-", "_")
    yield name
    mine = {"label": f"com.docker.compose.project={name}"}
    for container in engine.containers(all=True, filters=mine):
        engine.remove_container(container["Id"], force=True)


def test_deploy_a_stack_from_the_editor_and_take_it_down(
    admin_page: Page, engine: docker.APIClient, test_image: str, stack_name: str
) -> None:
    page = admin_page
    page.goto("/stacks")
    page.get_by_role("button", name="Deploy stack").click()
    dialog = page.get_by_role("dialog", name="Deploy a stack")
    dialog.get_by_label("Name", exact=True).fill(stack_name)
    compose = f"services:\n  app:\n    image: {test_image}\n    command: sleep 3600\n"
    dialog.get_by_role("textbox", name="compose.yaml").fill(compose + "    network_mode: none\n")
    expect(dialog.locator(".cm-line").first).to_have_text("services:")
    dialog.get_by_role("button", name="Deploy").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name=stack_name, exact=True).click()
    details = page.get_by_role("dialog", name=f"Stack {stack_name}")
    expect(details.get_by_role("cell", name="app", exact=True)).to_be_visible()
    expect(details.get_by_text("running", exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_role("button", name=f"Down {stack_name}").click()
    page.get_by_role("dialog").get_by_role("button", name="Down").click()
    project = {"label": f"com.docker.compose.project={stack_name}"}
    wait_for(lambda: not engine.containers(all=True, filters=project), "the stack to be down")


def test_the_logs_tab_follows_searches_and_downloads(
    admin_page: Page, make_container: Callable[..., dict[str, Any]]
) -> None:
    container = make_container(
        command="echo first-line; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.5; done"
    )
    page = admin_page
    page.goto(f"/containers/{container['Id'][:12]}")
    page.get_by_role("tab", name="Logs").click()
    log = page.get_by_role("log")
    expect(log).to_contain_text("first-line")
    expect(log).to_contain_text("tick-4")  # followed live, after the first page of lines
    page.get_by_label("Search the log").fill("first")
    expect(log).to_contain_text("first-line")
    expect(log).not_to_contain_text("tick-")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    saved = Path(download.value.path()).read_text()
    assert "first-line" in saved and "tick-1" in saved


def test_stop_containers_in_bulk(
    admin_page: Page, engine: docker.APIClient, make_container: Callable[..., dict[str, Any]]
) -> None:
    names = [make_container()["Name"].lstrip("/") for _ in range(2)]
    page = admin_page
    page.goto("/containers")
    for name in names:
        page.get_by_role("checkbox", name=f"Select {name}").check()
    page.get_by_role("toolbar", name="Selected containers").get_by_role(
        "button", name="Stop selected"
    ).click()
    for name in names:
        row = page.locator(f"tr[data-container='{name}']")
        expect(row.get_by_text("exited", exact=True)).to_be_visible()
        assert not engine.inspect_container(name)["State"]["Running"]


def test_the_engine_picker_switches_engines_by_address(
    admin_page: Page, make_container: Callable[..., dict[str, Any]]
) -> None:
    name = make_container()["Name"].lstrip("/")
    page = admin_page
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "skyport_csrf")
    second = {"name": "again", "url": "unix:///var/run/docker.sock"}
    added = page.request.post("/api/docker/engines", data=second, headers={"X-CSRF-Token": csrf})
    assert added.status == 201, added.text()
    try:
        page.goto("/containers")
        page.get_by_label("Engine").select_option("again")
        expect(page).to_have_url(re.compile(r"/containers\?engine=again$"))
        page.locator(f"tr[data-container='{name}']").get_by_role("link").click()
        expect(page).to_have_url(re.compile(r"/containers/[0-9a-f]{12}\?engine=again$"))
        expect(page.get_by_role("heading", name=name)).to_be_visible()
    finally:
        removed = page.request.delete("/api/docker/engines/again", headers={"X-CSRF-Token": csrf})
        assert removed.ok, removed.text()
