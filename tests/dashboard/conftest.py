"""End-to-end fixtures: one real SkyPort server (with the docker plugin on the real engine),
one headless Debian Chromium driven by Playwright, and a local image registry, each shared
by the whole session; every test gets a fresh browser context (no cookies)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from skyport import dashboard
from skyport.app import create_app
from skyport.config import load_settings
from skyport.plugins import PluginManager
from skyport.testing import (
    ADMIN_PASSWORD,
    CHROMIUM,
    CHROMIUM_FLAGS,
    LiveServer,
    bearer,
    free_port,
    isolate_environment,
    login,
    require_backend,
    wait_for,
)
from skyport_docker.testing import TEST_IMAGE, build_test_image

VIEWER = ("vera", "vera-password-123")
RUN_ID = secrets.token_hex(3)
LABEL = {"skyport.test": f"dashboard-{RUN_ID}"}
expect.set_options(timeout=20_000)
ARTIFACTS = Path(
    os.environ.get("SKYPORT_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)


@pytest.fixture(scope="package")
def engine() -> Iterator[docker.APIClient]:
    try:
        client = docker.APIClient(base_url="unix:///var/run/docker.sock", version="auto")
        client.ping()
    except Exception:
        require_backend(False, "no Docker engine at unix:///var/run/docker.sock")
    yield client
    for container in client.containers(
        all=True, filters={"label": f"skyport.test={LABEL['skyport.test']}"}
    ):
        client.remove_container(container["Id"], force=True)
    client.close()


@pytest.fixture(scope="package")
def test_image(engine: docker.APIClient) -> str:
    if not engine.images(name=TEST_IMAGE):
        build_test_image(engine)
    return TEST_IMAGE


@pytest.fixture(scope="package")
def server(
    tmp_path_factory: pytest.TempPathFactory, engine: docker.APIClient
) -> Iterator[LiveServer]:
    """``skyport serve``'s app with the docker plugin, on a free loopback port."""
    require_backend((dashboard.WEB_DIR / "index.html").is_file(), "the dashboard is not built")
    from skyport_docker import plugin

    with contextlib.ExitStack() as running:
        # Its own HOME and data dir while it starts; the rest of the session keeps its own.
        with pytest.MonkeyPatch.context() as env:
            isolate_environment(tmp_path_factory.mktemp("dashboard-server"), env)
            settings = load_settings(
                overrides={
                    "metrics": {"interval": 1.0},
                    "terminal": {"host_shell": True, "shell": "/bin/sh"},
                }
            )
            manager = PluginManager(strict=True, use_entry_points=False)
            manager.register(plugin, name="docker")
            live = running.enter_context(LiveServer(create_app(settings, plugins=manager)))
        with httpx.Client(base_url=live.url) as client:
            token = login(client, "admin", ADMIN_PASSWORD)
            created = client.post(
                "/api/users",
                json={"username": VIEWER[0], "password": VIEWER[1], "role": "viewer"},
                headers=bearer(token),
            )
            assert created.status_code == 201, created.text
        yield live


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    require_backend(os.path.exists(CHROMIUM), f"{CHROMIUM} missing (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(
    page: Page, username: str = "admin", password: str = ADMIN_PASSWORD, path: str = "/"
) -> Page:
    """Open ``path`` and log in on the page it sends a visitor to."""
    page.goto(path)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


@pytest.fixture
def admin_page(page: Page) -> Page:
    return log_in(page)


@pytest.fixture
def viewer_page(page: Page) -> Page:
    return log_in(page, *VIEWER)


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot as a test artefact: ``test-artifacts/dashboard/<name>.png``."""

    def take(page: Page, name: str) -> Path:
        path = ARTIFACTS / "dashboard" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def unique() -> Callable[[str], str]:
    return lambda stem: f"sp-{stem}-{secrets.token_hex(3)}"


@pytest.fixture
def make_container(
    engine: docker.APIClient, test_image: str, unique: Callable[[str], str]
) -> Iterator[Callable[..., dict[str, Any]]]:
    """A labelled, running busybox container made through the engine (removed afterwards)."""
    made: list[str] = []

    def make(name: str | None = None, command: str = "sleep 3600") -> dict[str, Any]:
        created = engine.create_container(
            test_image,
            command=["sh", "-c", command],
            name=name or unique("c"),
            labels=LABEL,
            host_config=engine.create_host_config(network_mode="none"),
        )
        made.append(created["Id"])
        engine.start(created["Id"])
        return engine.inspect_container(created["Id"])

    yield make
    for container_id in made:
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_container(container_id, force=True)


@pytest.fixture(scope="package")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's ``docker-registry`` on a free 127.0.0.1 port; its address (host:port)."""
    binary = shutil.which("docker-registry")
    require_backend(binary is not None, "docker-registry missing (apt-get install docker-registry)")
    assert binary is not None
    root = tmp_path_factory.mktemp("registry")
    address = f"127.0.0.1:{free_port()}"
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: {address}}}\n"
    )
    with (root / "registry.log").open("wb") as out:
        process = subprocess.Popen([binary, "serve", str(config)], stdout=out, stderr=out)
    try:
        wait_for(lambda: _answers(f"http://{address}/v2/"), "the local registry", timeout=30)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def pushed_image(registry: str, engine: docker.APIClient, test_image: str) -> Iterator[str]:
    """An image with a layer of its own, pushed to the local registry and absent from the
    engine: pulling it downloads (and shows progress for) about 4 MB."""
    ref = f"{registry}/skyport-e2e/payload:{secrets.token_hex(3)}"
    build_test_image(engine, ref, extra={"payload.bin": secrets.token_bytes(4 * 1024 * 1024)})
    for line in engine.push(ref, stream=True, decode=True):
        assert "error" not in line, line
    engine.remove_image(ref, force=True)
    yield ref
    with contextlib.suppress(docker.errors.NotFound):
        engine.remove_image(ref, force=True)
