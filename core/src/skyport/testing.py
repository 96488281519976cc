"""Pytest fixtures for SkyPort and its plugins' tests.

Load them with ``pytest_plugins = ["skyport.testing"]`` in your top-level
``conftest.py``. Every test gets its own data directory (SQLite database,
secret key), HOME and plugin manager: nothing global is shared. Fixtures:
``settings``/``make_settings``, ``plugin_manager``, ``app``, ``client``
(Litestar TestClient), ``admin_token``, ``admin``, ``make_user``,
``live_server`` (uvicorn on a free loopback port); helpers ``login``,
``bearer``, ``free_port``, ``LiveServer``, ``require_backend``, ``schema_differences``,
``install_distribution`` (a plugin really installed into a folder of its own),
``module_from_file`` (another package's test helpers, by path),
``TerminalProbe`` (the browser's side of ``/ws/terminal``), ``wait_for``, for the
CLI the ``run_cli`` fixture with ``CliResult``, ``cli_ok`` and ``one_line_error``, and
for the TUI ``tui_pilot``, ``pilot_wait``, ``tui_area`` and ``tui_screen``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.server
import importlib.util
import io
import json
import os
import queue
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession

from skyport.app import create_app
from skyport.config import Settings, load_settings
from skyport.plugins import PluginManager
from skyport.server import uvicorn_options
from skyport.store import Database

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Route
    from textual.pilot import Pilot

    from skyport.tui.app import SkyportTui

ScreenT = TypeVar("ScreenT")
"""A TUI screen class (see :func:`tui_screen`)."""

ADMIN_PASSWORD = "admin-password-for-tests"  # noqa: S105 - tests only

CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium, for browser tests and benchmarks (Playwright's ``executable_path``)."""
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
"""Headless, and no connection of Chromium's own (this machine reaches no internet)."""


@contextmanager
def headless_chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (skipped, or failed under
    ``SKYPORT_REQUIRE_BACKENDS=1``, when it is not installed); closed on the way out."""
    require_backend(os.path.exists(CHROMIUM), f"{CHROMIUM} missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            browser.close()


class QuietFolderHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder's files without logging every request."""

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serve_folder(
    folder: Path, handler: type[http.server.SimpleHTTPRequestHandler] = QuietFolderHandler
) -> Iterator[str]:
    """Serve ``folder`` over HTTP on a free 127.0.0.1 port; yields its URL (no trailing /)."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, name="serve-folder", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


NOT_LOOPBACK = re.compile(r"^(https?|wss?)://(?!127\.0\.0\.1[:/])")


def keep_to_loopback(context: BrowserContext) -> None:
    """Let the browser context reach 127.0.0.1 only (a catalog's logos on the internet, for
    one, are not fetched: the request fails as a blocked one)."""

    def refuse(route: Route) -> None:
        route.abort("blockedbyclient")

    context.route(NOT_LOOPBACK, refuse)


def wait_for(
    check: Callable[[], Any], what: str = "condition", *, timeout: float = 20.0, every: float = 0.1
) -> Any:
    """Poll ``check`` until it returns something true, and return that; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what} (last: {result!r})"
            )
        time.sleep(every)
    return result


async def schema_differences(database: Database, metadata: sa.MetaData) -> list[Any]:
    """What would change to make the database's copy of ``metadata``'s tables match it.

    An empty list means the migrations create exactly the tables the code queries
    (Alembic's autogenerate comparison, limited to the tables of ``metadata``).
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    def ours(name: str | None, kind: str, _parents: Any) -> bool:
        return kind != "table" or name in metadata.tables

    def compare(conn: sa.Connection) -> list[Any]:
        opts = {"compare_type": True, "include_name": ours}
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), metadata))

    async with database.connect() as conn:
        return await conn.run_sync(compare)


def require_backend(available: bool, reason: str) -> None:
    """Skip when a real backend is missing, or fail with ``SKYPORT_REQUIRE_BACKENDS=1``."""
    if available:
        return
    if os.environ.get("SKYPORT_REQUIRE_BACKENDS") == "1":
        pytest.fail(f"{reason} (SKYPORT_REQUIRE_BACKENDS=1)")
    pytest.skip(reason)


def promtool_problems(text: str) -> list[str]:
    """What ``promtool check metrics`` (Debian ``prometheus``) says about exposition text."""
    binary = shutil.which("promtool")
    require_backend(binary is not None, "promtool is not installed (Debian: prometheus)")
    assert binary is not None
    done = subprocess.run(
        [binary, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    problems = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert problems or done.returncode == 0, f"promtool failed: {done}"
    return problems


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the developer's real config, data and keyring."""
    isolate_environment(tmp_path, monkeypatch)


def isolate_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HOME, config, data dir and keyring under ``tmp_path``; other ``SKYPORT_*`` unset.

    For fixtures of a wider scope than a test (a server shared by a module), with
    ``pytest.MonkeyPatch.context()``.
    """
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("SKYPORT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SKYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in list(os.environ):
        # SKYPORT_TEST_* tell the tests where the real backends are (set by .ci/run).
        keep = name.startswith("SKYPORT_TEST_") or name in (
            "SKYPORT_DATA_DIR",
            "SKYPORT_ADMIN_PASSWORD",
            "SKYPORT_REQUIRE_BACKENDS",
        )
        if name.startswith("SKYPORT_") and not keep:
            monkeypatch.delenv(name)


POSTGRES_URL_VARIABLE = "SKYPORT_TEST_POSTGRES_URL"
"""Where the tests find a PostgreSQL server they may create databases on (.ci/run starts one)."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "every_database: run the test once on SQLite and once on PostgreSQL "
        f"(a fresh database on the server named by {POSTGRES_URL_VARIABLE})",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("every_database") and (
        "database_url" in metafunc.fixturenames
    ):
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty database on the test PostgreSQL server; dropped afterwards."""
    server = os.environ.get(POSTGRES_URL_VARIABLE, "")
    require_backend(bool(server), f"no PostgreSQL server (set {POSTGRES_URL_VARIABLE})")
    name = f"skyport_{secrets.token_hex(6)}"

    async def run(sql: str) -> None:
        import asyncpg

        url = sa.make_url(server)
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def execute(sql: str) -> None:  # on a thread of its own: the caller may run a loop
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, run(sql)).result()

    execute(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The database of this test: SQLite in its data dir, unless the test is marked
    ``every_database``, which runs it on SQLite and on a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite+aiosqlite:///{Path(os.environ['SKYPORT_DATA_DIR']) / 'skyport.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    """Settings for a test: defaults plus ``overrides`` (nested dicts, like flags)."""

    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {"plugins": {"strict": True}}
        if not database_url.startswith("sqlite"):
            base["database"] = {"url": database_url}
        return load_settings(overrides={**base, **overrides})

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(metrics={"interval": 1.0})


@pytest.fixture
def plugin_manager(settings: Settings) -> PluginManager:
    """A fresh manager with only the built-in plugin (no installed plugins)."""
    return PluginManager(strict=True, use_entry_points=False)


@pytest.fixture
def app(settings: Settings, plugin_manager: PluginManager) -> Litestar:
    return create_app(settings, plugins=plugin_manager)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


def login(client: TestClient[Litestar] | httpx.Client, username: str, password: str) -> str:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_token(client: TestClient[Litestar]) -> str:
    return login(client, "admin", ADMIN_PASSWORD)


@pytest.fixture
def admin(client: TestClient[Litestar], admin_token: str) -> TestClient[Litestar]:
    """The test client, logged in as admin with a Bearer header (no cookies)."""
    client.headers.update(bearer(admin_token))
    return client


@pytest.fixture
def make_user(client: TestClient[Litestar], admin_token: str) -> Callable[[str, str], str]:
    """Create a user with ``role`` and return a token for them."""

    def make(username: str, role: str) -> str:
        password = f"{username}-password"
        response = client.post(
            "/api/users",
            json={"username": username, "password": password, "role": role},
            headers=bearer(admin_token),
        )
        assert response.status_code == 201, response.text
        return login(client, username, password)

    return make


def install_distribution(source: Path, target: Path) -> Path:
    """Install the distribution in ``source`` (a folder with a ``pyproject.toml``) into
    ``target``, without its dependencies, as ``pip install --target`` does: with ``target`` on
    ``sys.path`` its entry points are found like those of any installed plugin."""
    install = ["uv", "pip", "install", "--quiet", "--no-deps", "--python", sys.executable]
    subprocess.run(
        [*install, "--target", str(target), str(source)],
        check=True,
        timeout=110,
    )
    return target


def module_from_file(path: Path, name: str) -> Any:
    """The module in ``path`` loaded as ``name``: a ``conftest.py`` that another package's
    tests cannot import (how a plugin's tests start its backend, reused elsewhere)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look a class's module up there
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A real uvicorn server on a free loopback port, in a background thread, configured
    as ``skyport serve`` configures it (apart from the address)."""

    def __init__(self, app: Litestar, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        options = uvicorn_options(app.state.settings.server)
        options.update(host="127.0.0.1", port=self.port, log_level="warning")
        config = uvicorn.Config(app, **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture
def live_server(app: Litestar) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


class TerminalProbe:
    """The browser's side of ``/ws/terminal`` on a test client, with bounded waits.

    ``probe = TerminalProbe(client.websocket_connect("/ws/terminal?...").__enter__())``;
    ``probe.type("echo hi\\n")``, ``probe.expect(b"hi")``, ``probe.expect_control("exit")``.
    """

    WAIT = 15.0

    def __init__(self, ws: WebSocketTestSession) -> None:
        self.ws = ws
        self.output = b""
        """Output not yet consumed by :meth:`expect`."""
        self.seen = b""
        """All output, never consumed."""

    def type(self, text: str) -> None:
        self.ws.send_bytes(text.encode())

    def control(self, **message: Any) -> None:
        self.ws.send_text(json.dumps(message))

    def next_frame(self, deadline: float) -> dict[str, Any]:
        """The next control message (``{}`` for output, which is collected)."""
        try:
            event = self.ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"timed out; output so far: {self.output!r}") from None
        message: dict[str, Any] = dict(event)
        if message.get("type") == "websocket.close":
            raise WebSocketDisconnect(detail="closed", code=int(message.get("code") or 1000))
        data = message.get("bytes")
        if data is not None:
            self.output += data
            self.seen += data
            return {}
        return dict(json.loads(message["text"]))

    def expect(self, needle: bytes, timeout: float = WAIT) -> None:
        """Wait until ``needle`` appears in the output; consume the output up to it."""
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            frame = self.next_frame(deadline)
            assert frame.get("type") not in ("exit", "error"), (frame, self.output)
        self.output = self.output.split(needle, 1)[1]

    def expect_control(self, kind: str, timeout: float = WAIT) -> dict[str, Any]:
        """Wait for the control message of type ``kind`` (``exit``, ``error`` …)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.next_frame(deadline)
            if frame.get("type") == kind:
                return frame

    def expect_close(self, timeout: float = WAIT) -> WebSocketDisconnect:
        """Wait for the server to close the connection; the close it sent."""
        deadline = time.monotonic() + timeout
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                self.next_frame(deadline)
        return closed.value


class CliResult(NamedTuple):
    """What one ``skyport …`` run gave: its exit code, standard output and error."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class _TerminalInput(io.StringIO):
    """Standard input that says it is a terminal (for the CLI's questions)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliResult]:
    """``run_cli("docker", "ps", stdin="…", tty=False)`` runs ``skyport docker ps`` in-process."""
    from skyport.cli import main

    def run(*args: str, stdin: str = "", tty: bool = False) -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr("sys.stdin", (_TerminalInput if tty else io.StringIO)(stdin))
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def cli_ok(result: CliResult) -> CliResult:
    """``result``, after checking that the command succeeded."""
    assert result.code == 0, result
    return result


def one_line_error(result: CliResult) -> str:
    """The error line of a failed command (checking it is one ``skyport: error:`` line)."""
    assert result.code != 0, result
    assert result.err.startswith("skyport: error: "), result.err
    assert result.err.count("\n") == 1, result.err
    return result.err


@contextlib.asynccontextmanager
async def tui_pilot(
    url: str, token: str, size: tuple[int, int] = (80, 24)
) -> AsyncIterator[Pilot[None]]:
    """``skyport tui`` against the server at ``url`` as the holder of ``token``, headless,
    driven by Textual's pilot (``pilot.app`` is the :class:`~skyport.tui.app.SkyportTui`)."""
    from skyport.client import Client
    from skyport.tui.app import SkyportTui

    app = SkyportTui(lambda: Client.remote(url, token))
    async with app.run_test(size=size) as pilot:
        yield pilot


def tui_screenshot(pilot: Pilot[Any], name: str) -> Path:
    """Save what the TUI shows now as ``<artifacts>/tui/<name>.svg`` (``$SKYPORT_TEST_ARTIFACTS``,
    default ``test-artifacts``); the documentation's screenshots are copies of these."""
    folder = Path(os.environ.get("SKYPORT_TEST_ARTIFACTS", "test-artifacts")) / "tui"
    folder.mkdir(parents=True, exist_ok=True)
    return Path(pilot.app.save_screenshot(f"{name}.svg", str(folder)))


async def pilot_wait(
    pilot: Pilot[Any], check: Callable[[], Any], what: str, *, seconds: float = 20.0
) -> Any:
    """As :func:`wait_for`, letting the app run between checks."""
    deadline = time.monotonic() + seconds
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")
        await pilot.pause(0.1)
    return result


async def tui_screen(pilot: Pilot[Any], kind: type[ScreenT]) -> ScreenT:
    """Wait until the TUI shows a screen of ``kind`` (a list, a log, a dialog …); return it."""
    screen: ScreenT = await pilot_wait(
        pilot, lambda: isinstance(pilot.app.screen, kind) and pilot.app.screen, kind.__name__
    )
    return screen


async def tui_area(pilot: Pilot[Any], name: str, kind: type[ScreenT]) -> ScreenT:
    """Go to area ``name`` (``:name``) once its plugin is known; return its screen."""
    tui: SkyportTui = pilot.app  # type: ignore[assignment]
    await pilot_wait(pilot, lambda: any(a.name == name for a in tui.areas), f"area {name}")
    await pilot.press("colon", *name, "enter")
    return await tui_screen(pilot, kind)
