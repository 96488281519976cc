"""The marketplace pages in a real browser against a real server and the real Docker engine:
a catalog file added as a source, an app installed from it (the busybox test image with a
layer of its own, pulled from a local registry) and seen running, updated, then uninstalled;
a source refreshed and removed by an admin, read-only for others; the saved public catalogs
browsed by category and searched."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
import yaml
from playwright.sync_api import Page, expect

from skyport.testing import require_backend, wait_for
from skyport_marketplace.testing import find_catalogs

from .conftest import LABEL, ROOT, VIEWER, log_in

APP_LABEL = "skyport.app"
LOOP = "echo greeting=$GREETING colour=$COLOUR; trap 'exit 0' TERM; while true; do sleep 1; done"
LOGO = (
    "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdC"
    "b3g9IjAgMCAxNiAxNiI+PGNpcmNsZSBjeD0iOCIgY3k9IjgiIHI9IjciIGZpbGw9IiMxMGI5ODEiLz48L3N2Zz4="
)


def catalog(image: str) -> dict[str, Any]:
    """A SkyPort catalog: an app whose install form has every kind of field, and one that
    needs docker:host."""
    container = {"image": image, "network_mode": "none", "labels": LABEL}
    return {
        "skyport_catalog": 1,
        "apps": [
            {
                "id": "echo-board",
                "title": "Echo Board",
                "kind": "container",
                "categories": ["Utilities"],
                "logo": LOGO,
                "description": "<p>Says <b>hello</b><script>window.pwned = 1</script> back.</p>",
                "note": "<p>Keeps its words in /data.</p>",
                "container": {**container, "command": f'sh -c "{LOOP}"'},
                "env": [
                    {"name": "GREETING", "label": "Greeting", "default": "hello", "required": True},
                    {
                        "name": "COLOUR",
                        "label": "Colour",
                        "default": "blue",
                        "choices": [{"value": "red"}, {"value": "blue"}],
                    },
                    {"name": "TOKEN", "label": "Token", "secret": True},
                    {"name": "MODE", "hidden": True, "default": "fixed"},
                ],
                "volumes": [{"container": "/data"}],
            },
            {
                "id": "host-peeker",
                "title": "Host Peeker",
                "kind": "container",
                "container": {**container, "privileged": True, "command": "sleep 3600"},
            },
        ],
    }


@pytest.fixture
def source(
    admin_api: httpx.Client, pushed_image: str, tmp_path: Path, unique: Callable[[str], str]
) -> Iterator[tuple[str, Path]]:
    """A catalog file to add as a source (name, path), its apps' image in the local registry
    (installs and updates pull it); the source and every install from it are removed
    afterwards."""
    name = unique("cat").replace("sp-", "e2e")
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog(pushed_image)))
    yield name, path
    for app in admin_api.get("/api/marketplace/installed").json():
        if app["app_id"].startswith(f"{name}:"):
            admin_api.delete(f"/api/marketplace/installed/{app['name']}?remove_data=true")
    admin_api.delete(f"/api/marketplace/sources/{name}")


def containers_of(engine: docker.APIClient, install: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = engine.containers(
        all=True, filters={"label": f"{APP_LABEL}={install}"}
    )
    return found


def add_source(page: Page, name: str, path: Path) -> None:
    page.goto("/marketplace/sources")
    page.get_by_role("button", name="Add source").click()
    dialog = page.get_by_role("dialog", name="Add a catalog source")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Format").select_option("skyport")
    dialog.get_by_label("Where").fill(str(path))
    dialog.get_by_role("button", name="Add").click()
    expect(page.get_by_role("progressbar", name="Reading the catalog")).to_have_attribute(
        "aria-valuenow", "100"
    )
    expect(page.locator(f"tr[data-row='{name}']")).to_contain_text("skyport")


def test_install_an_app_from_a_catalog_see_it_run_then_uninstall_it(
    admin_page: Page,
    engine: docker.APIClient,
    source: tuple[str, Path],
    unique: Callable[[str], str],
    screenshot: Callable[[Page, str], Path],
) -> None:
    name, path = source
    install = unique("echo")
    page = admin_page
    add_source(page, name, path)
    expect(page.locator(f"tr[data-row='{name}']").get_by_role("cell").nth(3)).to_have_text("2")
    screenshot(page, "marketplace-sources")

    page.goto("/marketplace?q=echo+board")
    page.get_by_role("list", name="Apps").get_by_role("link", name=re.compile("Echo Board")).click()
    expect(page.get_by_role("heading", name="Echo Board")).to_be_visible()
    description = page.get_by_label("Description")
    expect(description).to_contain_text("Says hello back.")
    assert description.locator("script").count() == 0
    assert page.evaluate("window.pwned") is None
    form = page.get_by_role("form", name="Install Echo Board")
    expect(form.get_by_label("Colour")).to_have_value("blue")
    expect(form.get_by_label("Token")).to_have_attribute("type", "password")
    expect(form.get_by_label("MODE")).to_have_count(0)  # fixed by the template: not asked
    form.get_by_label("Greeting (required)").fill("")
    form.get_by_role("button", name="Install").click()
    expect(form).to_contain_text("Required.")
    assert containers_of(engine, install) == []  # refused before anything was sent
    form.get_by_label("Install name").fill(install)
    form.get_by_label("Greeting (required)").fill("hi-e2e")
    form.get_by_label("Colour").select_option("red")
    form.get_by_role("button", name="Install").click()
    progress = form.get_by_role("progressbar", name="Installing Echo Board")
    expect(progress).to_have_attribute("aria-valuenow", "100", timeout=90_000)
    expect(form.get_by_role("list", name="Steps of Installing Echo Board")).not_to_be_empty()
    screenshot(page, "marketplace-app")
    (made,) = containers_of(engine, install)
    assert made["State"] == "running"
    wait_for(
        lambda: b"greeting=hi-e2e colour=red" in engine.logs(made["Id"]),
        "the app's first words",
    )

    form.get_by_role("link", name="See it with the installed apps").click()
    row = page.locator(f"tr[data-row='{install}']")
    expect(row.get_by_text("running", exact=True)).to_be_visible()
    row.get_by_role("button", name=f"Stop {install}").click()
    expect(row.get_by_text("stopped", exact=True)).to_be_visible()
    assert containers_of(engine, install)[0]["State"] == "exited"
    row.get_by_role("button", name=f"Start {install}").click()
    expect(row.get_by_text("running", exact=True)).to_be_visible()
    row.get_by_role("button", name=f"Update {install}").click()
    expect(page.get_by_role("progressbar", name=f"Updating {install}")).to_have_attribute(
        "aria-valuenow", "100", timeout=90_000
    )
    (updated,) = containers_of(engine, install)  # pulled again, then a new container
    assert updated["Id"] != made["Id"]
    assert updated["State"] == "running"
    expect(row.get_by_text("running", exact=True)).to_be_visible()
    screenshot(page, "marketplace-installed")
    row.get_by_role("button", name=f"Uninstall {install}").click()
    dialog = page.get_by_role("dialog", name=f"Uninstall {install}?")
    dialog.get_by_label("Remove its data volumes too").check()
    dialog.get_by_role("button", name="Uninstall").click()
    expect(page.get_by_role("progressbar", name=f"Uninstalling {install}")).to_have_attribute(
        "aria-valuenow", "100", timeout=60_000
    )
    expect(row).to_have_count(0)
    assert containers_of(engine, install) == []
    assert not engine.volumes(filters={"label": f"{APP_LABEL}={install}"})["Volumes"]


def test_an_app_that_needs_docker_host_says_so_and_whom_it_refuses(
    admin_page: Page,
    admin_api: httpx.Client,
    open_page: Callable[..., Page],
    source: tuple[str, Path],
    unique: Callable[[str], str],
) -> None:
    name, path = source
    add_source(admin_page, name, path)
    admin_page.goto(f"/marketplace/{name}:host-peeker")
    expect(admin_page.get_by_role("status").filter(has_text="Needs docker:host")).to_contain_text(
        "privileged"
    )
    form = admin_page.get_by_role("form", name="Install Host Peeker")
    expect(form.get_by_role("button", name="Install")).to_be_enabled()

    operator = (unique("otto"), "otto-password-123")
    body = {"username": operator[0], "password": operator[1], "role": "operator"}
    assert admin_api.post("/api/users", json=body).status_code == 201
    page = log_in(open_page(), *operator, path=f"/marketplace/{name}:host-peeker")
    expect(page.get_by_text("You may not install this app")).to_be_visible()
    form = page.get_by_role("form", name="Install Host Peeker")
    expect(form.get_by_role("button", name="Install")).to_be_disabled()


def test_browse_the_saved_public_catalogs_by_category_and_search(
    admin_page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    require_backend(find_catalogs(ROOT) is not None, "no saved catalogs (shared/data/catalogs)")
    page = admin_page
    page.get_by_role("link", name="Marketplace").click()
    apps = page.get_by_role("list", name="Apps")
    expect(apps.get_by_role("link").first).to_be_visible()
    screenshot(page, "marketplace")
    page.get_by_role("navigation", name="Categories").get_by_role(
        "button", name=re.compile("^database")
    ).click()
    expect(page).to_have_url(re.compile(r"/marketplace\?category=database$"))
    expect(apps).to_contain_text("PostgreSQL")
    expect(apps).not_to_contain_text("Nginx")
    page.get_by_label("Search apps").fill("maria")
    expect(apps.get_by_role("link")).to_have_count(1)
    expect(apps).to_contain_text("MariaDB")


def test_an_admin_refreshes_and_removes_a_source_others_only_read_the_list(
    admin_page: Page,
    open_page: Callable[..., Page],
    admin_api: httpx.Client,
    source: tuple[str, Path],
) -> None:
    name, path = source
    page = admin_page
    add_source(page, name, path)
    viewer_page = log_in(open_page(), *VIEWER, path="/marketplace/sources")
    row = viewer_page.locator(f"tr[data-row='{name}']")
    expect(row).to_contain_text("skyport")
    expect(row.get_by_role("button", name=re.compile("^(Refresh|Remove) "))).to_have_count(0)
    expect(viewer_page.get_by_role("button", name="Add source")).to_have_count(0)

    row = page.locator(f"tr[data-row='{name}']")
    row.get_by_role("button", name=f"Refresh {name}").click()
    expect(page.get_by_role("progressbar", name="Reading the catalog")).to_have_attribute(
        "aria-valuenow", "100"
    )
    row.get_by_role("button", name=f"Remove {name}").click()
    page.get_by_role("dialog", name=f"Remove the source {name}?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(row).to_have_count(0)
    assert name not in {s["name"] for s in admin_api.get("/api/marketplace/sources").json()}
