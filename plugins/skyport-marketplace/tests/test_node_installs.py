"""A Node.js app template installed through the pm2 plugin's deployer, on a real PM2 daemon."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.config import Settings
from skyport.testing import bearer, free_port, require_backend, wait_for

from .conftest import logged_in, make_app, sibling_fixtures, user_token, wait_job

PM2 = sibling_fixtures("skyport-pm2")
SERVER_JS = """
const http = require('http');
const fs = require('fs');
const built = fs.readFileSync('built.txt', 'utf8');
http.createServer((req, res) => res.end(JSON.stringify({greeting: process.env.GREETING, built})))
  .listen(Number(process.env.PORT), '127.0.0.1');
"""
BUILD = (
    "node -e \"require('fs').writeFileSync('built.txt', 'v' + require('./package.json').version)\""
)


@pytest.fixture(scope="module")
def pm2_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private PM2_HOME with a running daemon for this module, stopped at its end."""
    binary = PM2.pm2_binary()
    require_backend(
        binary is not None and shutil.which("node") is not None,
        "pm2 is not installed (npm install -g pm2, or set SKYPORT_TEST_PM2_BIN)",
    )
    home = tmp_path_factory.mktemp("pm2-home")
    (home / "touch").touch()
    PM2.run_pm2(home, "ping")
    try:
        yield home
    finally:
        PM2.stop_daemon(home)


def write_app(folder: Path, version: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "server.js").write_text(SERVER_JS)
    (folder / "package.json").write_text(json.dumps({"name": "hello", "version": version}))


@pytest.fixture
def market(
    pm2_home: Path, tmp_path: Path, make_settings: Callable[..., Settings]
) -> Iterator[TestClient[Litestar]]:
    from skyport_pm2 import plugin as pm2_plugin

    write_app(tmp_path / "hello", "1.0.0")
    apps = [
        {
            "id": "hello",
            "title": "Hello",
            "kind": "node",
            "node": {"repository": str(tmp_path / "hello"), "start": "server.js", "install": BUILD},
            "env": [
                {"name": "PORT", "required": True},
                {"name": "GREETING", "default": "hello"},
            ],
        }
    ]
    (tmp_path / "apps.yaml").write_text(json.dumps({"skyport_catalog": 1, "apps": apps}))
    source = {"name": "local", "type": "skyport", "url": str(tmp_path / "apps.yaml")}
    pm2 = {"home": str(pm2_home), "bin": PM2.pm2_binary() or ""}
    app = make_app(make_settings, ("pm2", pm2_plugin), sections={"pm2": pm2}, sources=[source])
    with logged_in(app) as client:
        job = client.post("/api/marketplace/sources/local/refresh").json()["job"]
        assert wait_job(client, job)["state"] == "done"
        yield client


def answer(port: int) -> dict[str, Any] | None:
    try:
        body: dict[str, Any] = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).json()
    except httpx.HTTPError:
        return None
    return body


def test_a_node_app_installs_runs_updates_stops_and_uninstalls(
    market: TestClient[Litestar], tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    port = free_port()
    started = market.post(
        "/api/marketplace/apps/local:hello/install",
        json={"name": "hello-app", "values": {"PORT": str(port), "GREETING": "hej"}},
    )
    assert started.status_code == 202, started.text
    job = wait_job(market, started.json()["job"])
    assert job["state"] == "done", job["error"]
    assert wait_for(lambda: answer(port), "the app to answer") == {
        "greeting": "hej",
        "built": "v1.0.0",
    }
    shown = market.get("/api/marketplace/installed/hello-app").json()
    assert shown["status"]["state"] == "running" and shown["deployer"] == "pm2-node"
    # Another node on the same database neither lists it nor changes it: it runs here.
    other = make_app(make_settings, sections={"cluster": {"node_name": "other-node"}})
    with logged_in(other) as elsewhere:
        assert elsewhere.get("/api/marketplace/installed").json() == []
        refused = elsewhere.delete("/api/marketplace/installed/hello-app")
        assert refused.status_code == 404
        assert f"is on node {shown['node']}" in refused.json()["detail"]

    write_app(tmp_path / "hello", "2.0.0")  # a new release of the app's code
    updated = wait_job(
        market, market.post("/api/marketplace/installed/hello-app/update").json()["job"]
    )
    assert updated["state"] == "done", updated["error"]
    assert wait_for(lambda: (answer(port) or {}).get("built") == "v2.0.0", "the new code")

    stopped = market.post("/api/marketplace/installed/hello-app/stop").json()
    assert stopped["status"]["state"] == "stopped" and answer(port) is None
    assert market.post("/api/marketplace/installed/hello-app/start").json()["status"]["state"] == (
        "running"
    )

    removed = wait_job(market, market.delete("/api/marketplace/installed/hello-app").json()["job"])
    assert removed["state"] == "done", removed["error"]
    listed = market.get("/api/pm2/list").json()
    assert not [row for row in listed if row["name"] == "hello-app"]
    assert market.get("/api/marketplace/installed").json() == []


def test_a_failing_install_command_is_rolled_back(
    market: TestClient[Litestar], tmp_path: Path
) -> None:
    (tmp_path / "hello" / "package.json").write_text("{broken")
    started = market.post(
        "/api/marketplace/apps/local:hello/install",
        json={"name": "broken-app", "values": {"PORT": str(free_port())}},
    )
    job = wait_job(market, started.json()["job"])
    assert job["state"] == "failed" and "failed (exit 1)" in job["error"]
    assert market.get("/api/marketplace/installed/broken-app").status_code == 404
    assert not [row for row in market.get("/api/pm2/list").json() if row["name"] == "broken-app"]


def test_installing_a_node_app_needs_pm2_write(market: TestClient[Litestar]) -> None:
    viewer = bearer(user_token(market, "viewer"))
    detail = market.get("/api/marketplace/apps/local:hello", headers=viewer).json()
    assert [r["scope"] for r in detail["requirements"]] == ["pm2:write"]
    assert detail["you_may_install"] is False
