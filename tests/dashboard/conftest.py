"""End-to-end fixtures: one real SkyPort server with every plugin of the workspace (docker on
the real engine, pm2 on a private daemon, vps, marketplace, deploy) and a third-party plugin
installed as a user installs one, one headless Debian Chromium driven by Playwright, and a
local image registry, each shared by the dashboard's tests; every test gets a fresh browser
context (no cookies) that reaches nothing but 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import docker
import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    expect,
)

from skyport import dashboard
from skyport.app import create_app
from skyport.config import load_settings
from skyport.plugins import PluginManager
from skyport.testing import (
    ADMIN_PASSWORD,
    LiveServer,
    bearer,
    free_port,
    headless_chromium,
    install_distribution,
    isolate_environment,
    keep_to_loopback,
    login,
    module_from_file,
    require_backend,
    wait_for,
)
from skyport_docker.testing import TEST_IMAGE, build_test_image
from skyport_marketplace.testing import find_catalogs

ROOT = Path(__file__).resolve().parents[2]
VIEWER = ("vera", "vera-password-123")
RUN_ID = secrets.token_hex(3)
LABEL = {"skyport.test": f"dashboard-{RUN_ID}"}
expect.set_options(timeout=20_000)
ARTIFACTS = Path(os.environ.get("SKYPORT_TEST_ARTIFACTS", ROOT / "test-artifacts"))
THIRD_PARTY = ROOT / "tests" / "plugins" / "skyport-snapshots"
"""A plugin written from docs/plugins.md alone, with panels and no frontend code."""
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
Theme = Literal["light", "dark"]
REAL_CATALOG = "portainer_templates__templates-2.0.json"
"""A saved public catalog (Portainer's own templates) the server lists apps from."""

PM2 = module_from_file(ROOT / "plugins/skyport-pm2/tests/conftest.py", "pm2_test_helpers")
VPS = module_from_file(ROOT / "plugins/skyport-vps/tests/conftest.py", "vps_test_helpers")
# The plugins' own fixtures, shared: a private sshd and its keys, pm2's test apps.
keys = VPS.keys
sshd = VPS.sshd
scripts = PM2.scripts


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
def pm2_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    """A private PM2_HOME whose daemon the server drives (None: pm2 is not installed, and the
    server runs without the pm2 plugin); the daemon is stopped at the end."""
    if PM2.pm2_binary() is None or shutil.which("node") is None:
        yield None
        return
    home = tmp_path_factory.mktemp("dashboard-pm2")
    (home / "touch").touch()
    try:
        yield home
    finally:
        PM2.stop_daemon(home)


@pytest.fixture
def pm2(pm2_home: Path | None) -> Iterator[Path]:
    """The server's PM2_HOME, for tests of the processes pages (skipped without pm2); every
    process is deleted after the test (by the pm2 CLI: Playwright holds this thread's loop)."""
    require_backend(pm2_home is not None, "pm2 is not installed (set SKYPORT_TEST_PM2_BIN)")
    assert pm2_home is not None
    yield pm2_home
    if pm2_processes(pm2_home):
        PM2.run_pm2(pm2_home, "delete", "all")


def pm2_processes(home: Path) -> list[dict[str, Any]]:
    """What the daemon of ``home`` itself says it runs (``pm2 jlist``)."""
    listed: list[dict[str, Any]] = json.loads(PM2.run_pm2(home, "jlist"))
    return listed


@pytest.fixture(scope="package")
def server(
    tmp_path_factory: pytest.TempPathFactory, engine: docker.APIClient, pm2_home: Path | None
) -> Iterator[LiveServer]:
    """``skyport serve``'s app with every plugin found through its entry point (the
    workspace's and the third-party one installed into a folder of its own), on a free
    loopback port."""
    require_backend((dashboard.WEB_DIR / "index.html").is_file(), "the dashboard is not built")
    site = install_distribution(THIRD_PARTY, tmp_path_factory.mktemp("third-party-site"))
    catalogs = find_catalogs(ROOT)
    sources = [{"name": "portainer", "type": "portainer", "url": str(catalogs / REAL_CATALOG)}]
    with contextlib.ExitStack() as running:
        # Its own HOME and data dir while it starts; the rest of the session keeps its own.
        with pytest.MonkeyPatch.context() as env:
            isolate_environment(tmp_path_factory.mktemp("dashboard-server"), env)
            env.syspath_prepend(str(site))
            settings = load_settings(
                overrides={
                    "metrics": {"interval": 1.0},
                    "terminal": {"host_shell": True, "shell": "/bin/sh"},
                    "plugins": {"disabled": [] if pm2_home else ["pm2"]},
                    "pm2": {"home": str(pm2_home or ""), "bin": PM2.pm2_binary() or ""},
                    "vps": {"connect_timeout": 5.0, "metrics_interval": 2.0},
                    "marketplace": {"sources": sources if catalogs else []},
                }
            )
            manager = PluginManager(strict=True, disabled=settings.plugins.disabled)
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
def admin_api(server: LiveServer) -> Iterator[httpx.Client]:
    """The server's API as the admin (a Bearer token), to set up and check what pages show."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with headless_chromium() as browser:
        yield browser


@pytest.fixture
def open_page(browser: Browser, server: LiveServer) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh browser contexts (no cookies: log in on each), closed afterwards;
    ``theme`` is the system's colour scheme, which the dashboard follows."""
    contexts: list[BrowserContext] = []

    def open_(viewport: dict[str, int] | None = None, theme: Theme = "light") -> Page:
        context = browser.new_context(
            base_url=server.url, viewport=viewport or DESKTOP, color_scheme=theme
        )
        contexts.append(context)
        context.set_default_timeout(20_000)
        keep_to_loopback(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    return open_page()


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
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """Save a screenshot as a test artefact: ``test-artifacts/dashboard/<name>.png``, of the
    whole page or (``full_page=False``) of what fits the screen."""

    def take(page: Page, name: str, *, full_page: bool = True) -> Path:
        path = ARTIFACTS / "dashboard" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def axe_problems(page: Page, impacts: tuple[str, ...] = ("critical",)) -> list[str]:
    """What axe-core (the npm package the frontend installs) finds on the page as it is now,
    of the given impacts: one line per rule, with the elements it names."""
    require_backend(AXE.is_file(), f"{AXE} missing (npm ci in frontend/)")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['impact']} {v['id']}: {v['help']} — {', '.join(str(n['target']) for n in v['nodes'])}"
        for v in found
        if v["impact"] in impacts
    ]


def csrf(page: Page) -> dict[str, str]:
    """The CSRF header for API calls made with the page's session (``page.request``)."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "skyport_csrf")
    return {"X-CSRF-Token": token}


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
