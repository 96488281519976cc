"""The dashboard in a real browser through HAProxy in front of two nodes: the node picker
shows the chosen node's resources, whichever node the balancer sends the browser to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from skyport.testing import ADMIN_PASSWORD, headless_chromium, keep_to_loopback, wait_for

from .conftest import Cluster, bearer, login


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with headless_chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, cluster: Cluster) -> Iterator[Page]:
    """A fresh browser context on the balancer, logged in as the admin."""
    context = browser.new_context(base_url=cluster.balancer.url)
    context.set_default_timeout(20_000)
    keep_to_loopback(context)
    page = context.new_page()
    page.goto("/")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    yield page
    context.close()


def start_process(cluster: Cluster, node: str, name: str, tmp_path: Path) -> None:
    """A PM2 process on ``node``'s own daemon, started through the other node (``?node=``)."""
    script = tmp_path / f"{name}.js"
    script.write_text("setInterval(() => {}, 1000);\n")
    through = next(n for n in cluster.nodes if n.name != node)
    started = httpx.post(
        f"{through.url}/api/pm2/start",
        params={"node": node},
        json={"script": str(script), "name": name},
        headers=bearer(login(through.url)),
        timeout=60,
    )
    assert started.status_code == 201, started.text


def test_the_node_picker_shows_the_chosen_nodes_processes_and_live_data(
    page: Page, cluster: Cluster, tmp_path: Path
) -> None:
    start_process(cluster, "node-a", "runs-on-a", tmp_path)
    start_process(cluster, "node-b", "runs-on-b", tmp_path)
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    stuck_to = page.request.get("/api/auth/me").headers["x-skyport-node"]
    other = "node-b" if stuck_to == "node-a" else "node-a"

    picker = page.get_by_label("Node", exact=True)
    expect(picker).to_have_value(stuck_to)  # nothing chosen yet: the node the balancer picked
    expect(picker.locator("option")).to_have_text(["node-a", "node-b"])
    page.get_by_role("link", name="Processes").click()
    expect(page.locator(f"tr[data-row='runs-on-{stuck_to[-1]}']")).to_be_visible()
    expect(page.locator(f"tr[data-row='runs-on-{other[-1]}']")).to_have_count(0)

    picker.select_option(other)
    expect(page.locator(f"tr[data-row='runs-on-{other[-1]}']")).to_be_visible()
    expect(page.locator(f"tr[data-row='runs-on-{stuck_to[-1]}']")).to_have_count(0)
    wait_for(
        lambda: f"/ws?node={other}" in {u[u.index("/ws") :] for u in sockets},
        "live data from the chosen node",
    )

    page.reload()  # the choice is kept in the browser
    expect(page.get_by_label("Node", exact=True)).to_have_value(other)
    expect(page.locator(f"tr[data-row='runs-on-{other[-1]}']")).to_be_visible()

    page.get_by_label("Node", exact=True).select_option(stuck_to)
    expect(page.locator(f"tr[data-row='runs-on-{stuck_to[-1]}']")).to_be_visible()
    expect(page.locator(f"tr[data-row='runs-on-{other[-1]}']")).to_have_count(0)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the header still fits
    expect(page.get_by_label("Node", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
