"""Fixtures for tests against a real PM2 daemon (DESIGN.md §7).

One daemon for the whole session, in a temporary ``PM2_HOME`` (with the
``touch`` file and ``PM2_DISABLE_VERSION_CHECK=1``: pm2 never calls home),
started with ``pm2 ping`` and killed at the end by the pid in its
``pm2.pid`` (whichever daemon is there then: some tests kill it and let the
plugin start another). Every test starts from an empty process list and
leaves one. The apps are small Node.js scripts written by the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, bearer, login, require_backend
from skyport_pm2.rpc import RpcClient

WAIT = 20.0

SERVER_JS = """
const http = require('http');
const server = http.createServer((req, res) => {
  res.end(JSON.stringify({pid: process.pid, instance: process.env.NODE_APP_INSTANCE || null}));
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGUSR2', () => console.log('got SIGUSR2'));
// a graceful stop, as pm2 asks of apps reloaded without downtime: finish what was accepted
process.on('SIGINT', () => server.close(() => process.exit(0)));
"""
CRASHER_JS = """
console.log('about to crash');
console.error('crash: ' + (process.env.CRASH_REASON || 'no reason'));
setTimeout(() => process.exit(3), 100);
"""
LOGGER_JS = """
let n = 0;
setInterval(() => {
  n += 1;
  console.log('tick ' + n);
  if (n % 5 === 0) console.error('warn ' + n);
}, 100);
"""
ECOSYSTEM_JS = """
module.exports = {
  apps: [
    {name: 'eco-logger', script: './logger.js', env: {ECO_SECRET: 'eco-hunter2'}},
    {name: 'eco-server', script: './server.js', instances: 2, exec_mode: 'cluster',
     env: {PORT: '0'}},
  ],
};
"""


def pm2_binary() -> str | None:
    return os.environ.get("SKYPORT_TEST_PM2_BIN") or shutil.which("pm2")


def pm2_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKYPORT_")}
    env.update(PM2_HOME=str(home), PM2_DISABLE_VERSION_CHECK="1")
    return env


def run_pm2(home: Path, *args: str) -> str:
    binary = pm2_binary()
    assert binary
    done = subprocess.run(
        [binary, *args], env=pm2_env(home), cwd=home, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def rpc(home: Path, method: str, arg: Any = None) -> Any:
    """One call to the daemon with the plugin's protocol client (a fresh connection)."""

    async def call() -> Any:
        client = RpcClient(str(home / "rpc.sock"), timeout=WAIT)
        try:
            return await client.call(method, arg)
        finally:
            await client.close()

    return asyncio.run(call())


def daemon_pid(home: Path) -> int | None:
    try:
        return int((home / "pm2.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_daemon(home: Path, sig: int = signal.SIGTERM) -> None:
    """Stop the daemon of ``home`` (its apps with it) by its pid; wait until it is gone."""
    pid = daemon_pid(home)
    if pid is None or not alive(pid):
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + WAIT
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def pm2_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private PM2_HOME with a running daemon, killed at the end of the session."""
    binary = pm2_binary()
    require_backend(
        binary is not None and shutil.which("node") is not None,
        "pm2 is not installed (npm install -g pm2, or set SKYPORT_TEST_PM2_BIN)",
    )
    home = tmp_path_factory.mktemp("pm2-home")
    (home / "touch").touch()
    run_pm2(home, "ping")
    try:
        yield home
    finally:
        stop_daemon(home)


@pytest.fixture(scope="session")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test apps: server.js (HTTP on $PORT), crasher.js, logger.js, ecosystem files."""
    folder = tmp_path_factory.mktemp("apps")
    for name, text in (
        ("server.js", SERVER_JS),
        ("crasher.js", CRASHER_JS),
        ("logger.js", LOGGER_JS),
        ("ecosystem.config.js", ECOSYSTEM_JS),
    ):
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def daemon(pm2_home: Path) -> Iterator[Path]:
    """The session's daemon, emptied after the test (every process deleted)."""
    yield pm2_home
    with contextlib.suppress(Exception):
        for proc in rpc(pm2_home, "getMonitorData", {}):
            with contextlib.suppress(Exception):
                rpc(pm2_home, "deleteProcessId", proc["pm_id"])


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Process names no other test uses: ``unique("web")`` → ``sp-web-1a2b3c``."""
    return lambda stem: f"sp-{stem}-{secrets.token_hex(3)}"


def pm2_settings(home: Path, **more: Any) -> dict[str, Any]:
    return {"home": str(home), "bin": pm2_binary() or "", **more}


def make_app(make_settings: Callable[..., Settings], **pm2: Any) -> Litestar:
    from skyport_pm2 import plugin

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="pm2")
    # metrics.history off: collectors are sampled when asked, so tests see fresh data.
    settings = make_settings(metrics={"interval": 1.0, "history": False}, pm2=pm2)
    return create_app(settings, plugins=manager)


@pytest.fixture
def pm2_app(daemon: Path, make_settings: Callable[..., Settings]) -> Litestar:
    """The app with the pm2 plugin registered in-process (strict), on the session's daemon."""
    return make_app(make_settings, **pm2_settings(daemon))


@pytest.fixture
def api(pm2_app: Litestar) -> Iterator[TestClient[Litestar]]:
    """A TestClient logged in as admin (Bearer header) on the pm2-enabled app."""
    with TestClient(pm2_app) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client


@pytest.fixture
def user_token(api: TestClient[Litestar]) -> Callable[[str], str]:
    """A token for a new user with ``role`` (viewer, operator …)."""

    def make(role: str) -> str:
        username = f"{role}-{secrets.token_hex(2)}"
        body = {"username": username, "password": f"{username}-password", "role": role}
        assert api.post("/api/users", json=body).status_code == 201
        return login(api, username, f"{username}-password")

    return make


def start_app(api: TestClient[Litestar], **body: Any) -> dict[str, Any]:
    response = api.post("/api/pm2/start", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def rows_named(api: TestClient[Litestar], name: str) -> list[dict[str, Any]]:
    response = api.get("/api/pm2/list")
    assert response.status_code == 200, response.text
    return [row for row in response.json() if row["name"] == name]
