"""Fixtures for deploy tests: the app with the deploy, docker and pm2 plugins on the real
Docker engine and a private PM2 daemon; sample projects packed as the CLI uploads them."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, bearer, login, require_backend, wait_for
from skyport_deploy.sources import pack

REPO = Path(__file__).resolve().parents[3]
SAMPLES = Path(__file__).parent / "samples"


def sibling_fixtures(plugin: str) -> Any:
    """Another plugin's test helpers (its tests/conftest.py, loaded by path)."""
    path = REPO / "plugins" / plugin / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location(f"{plugin.replace('-', '_')}_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PM2 = sibling_fixtures("skyport-pm2")
DOCKER = sibling_fixtures("skyport-docker")


@pytest.fixture(scope="session")
def pm2_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private PM2_HOME with a running daemon for the session, stopped at its end."""
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


@pytest.fixture(scope="session")
def engine() -> Iterator[docker.APIClient]:
    client = DOCKER._engine_client()
    require_backend(client is not None, "no Docker engine at unix:///var/run/docker.sock")
    assert client is not None
    if not client.images(name=DOCKER.TEST_IMAGE):
        DOCKER.build_test_image(client)
    yield client
    client.close()


def make_app(make_settings: Callable[..., Settings], pm2_home: Path, **deploy: Any) -> Litestar:
    from skyport_deploy import plugin
    from skyport_docker import plugin as docker_plugin
    from skyport_pm2 import plugin as pm2_plugin

    manager = PluginManager(strict=True, use_entry_points=False)
    for name, module in (("deploy", plugin), ("docker", docker_plugin), ("pm2", pm2_plugin)):
        manager.register(module, name=name)
    settings = make_settings(
        metrics={"interval": 1.0, "history": False},
        pm2={"home": str(pm2_home), "bin": PM2.pm2_binary() or ""},
        deploy={"static_image": DOCKER.TEST_IMAGE, "health_timeout": 20.0, **deploy},
    )
    return create_app(settings, plugins=manager)


@pytest.fixture
def api(
    pm2_home: Path, engine: docker.APIClient, make_settings: Callable[..., Settings]
) -> Iterator[TestClient[Litestar]]:
    """A TestClient logged in as admin on the app with deploy, docker and pm2; every app
    deployed is removed afterwards."""
    with TestClient(make_app(make_settings, pm2_home)) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client
        for app in client.get("/api/deploy/apps").json():
            client.delete(f"/api/deploy/apps/{app['name']}")


def copy_sample(name: str, target: Path) -> Path:
    shutil.copytree(SAMPLES / name, target)
    return target


def deploy(client: TestClient[Litestar], folder: Path | None, **options: Any) -> dict[str, Any]:
    """POST /api/deploy/apps with the folder packed (or ``git`` in the options); the job's
    release once finished."""
    files = {"options": (None, json.dumps(options))}
    if folder is not None:
        files["project"] = ("project.tar.gz", pack(folder), "application/gzip")  # type: ignore[assignment]
    started = client.post("/api/deploy/apps", files=files)
    assert started.status_code == 202, started.text
    return wait_job(client, started.json()["id"])


def wait_job(client: TestClient[Litestar], job: str, timeout: float = 180.0) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        record = client.get(f"/api/deploy/jobs/{job}").json()
        return record if record["state"] != "running" else None

    result: dict[str, Any] = wait_for(finished, f"deploy job {job}", timeout=timeout, every=0.2)
    return result


def answer(port: int) -> str | None:
    """The body the app at ``port`` answers with, or None."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
    except httpx.HTTPError:
        return None
