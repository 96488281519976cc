"""Fixtures for the marketplace's tests: the real public catalogs, apps with the plugin.

The catalogs are found and laid out by :mod:`skyport_marketplace.testing`.
"""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, bearer, login, require_backend, wait_for
from skyport_marketplace.testing import find_catalogs, store_trees

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def catalogs() -> Path:
    found = find_catalogs(REPO)
    require_backend(
        found is not None,
        "no saved catalogs (shared/data/catalogs beside the repository, or SKYPORT_TEST_CATALOGS)",
    )
    assert found is not None
    return found


@pytest.fixture(scope="session")
def stores(catalogs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each saved repository as a folder laid out like the store (``Apps/<App>/…``)."""
    return store_trees(catalogs, tmp_path_factory.mktemp("stores"))


def make_app(
    make_settings: Callable[..., Settings],
    *plugins: tuple[str, Any],
    sections: dict[str, Any] | None = None,
    **market: Any,
) -> Litestar:
    """The app with the marketplace (and ``plugins``, ``(name, module)``) registered in-process;
    ``market`` is its settings section, ``sections`` other plugins' (``{"pm2": {…}}``)."""
    from skyport_marketplace import plugin

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="marketplace")
    for name, module in plugins:
        manager.register(module, name=name)
    settings = make_settings(
        metrics={"interval": 1.0, "history": False}, marketplace=market, **(sections or {})
    )
    return create_app(settings, plugins=manager)


@contextmanager
def logged_in(app: Litestar) -> Iterator[TestClient[Litestar]]:
    """A TestClient on ``app`` logged in as admin (Bearer header)."""
    with TestClient(app) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client


def wait_job(client: TestClient[Litestar], job: str, timeout: float = 120.0) -> dict[str, Any]:
    """The job once finished (polled)."""

    def finished() -> dict[str, Any] | None:
        record = client.get(f"/api/marketplace/jobs/{job}").json()
        return record if record["state"] != "running" else None

    result: dict[str, Any] = wait_for(finished, f"job {job}", timeout=timeout, every=0.2)
    return result


def user_token(client: TestClient[Litestar], role: str) -> str:
    """A token for a new user with ``role``."""
    username = f"{role}-{secrets.token_hex(2)}"
    body = {"username": username, "password": f"{username}-password", "role": role}
    assert client.post("/api/users", json=body).status_code == 201
    return login(client, username, f"{username}-password")


def sibling_fixtures(plugin: str) -> Any:
    """Another plugin's test helpers (how it builds its test image, starts pm2 …), loaded
    from its ``tests/conftest.py`` by path: one way to reach each backend in every test."""
    path = REPO / "plugins" / plugin / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location(f"{plugin.replace('-', '_')}_test_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
