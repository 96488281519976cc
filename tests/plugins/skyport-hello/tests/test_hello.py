"""Tests of the hello plugin against a real, in-process SkyPort server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import skyport_hello.plugin
from litestar import Litestar
from litestar.testing import TestClient
from skyport.app import create_app
from skyport.config import load_settings
from skyport.plugins import PluginManager

PASSWORD = "a-password-for-tests"


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient[Litestar]]:
    """A server with only the hello plugin, logged in as admin."""
    config = tmp_path / "config.yaml"
    # metrics.history off: collectors are sampled when asked, so tests see fresh data.
    config.write_text("hello:\n  greeting: Hi\nmetrics:\n  history: false\n")
    # Only this file and these overrides: not your own config file nor SKYPORT_* variables.
    settings = load_settings(str(config), overrides={"data_dir": str(tmp_path)}, environ={})
    monkeypatch.setenv("SKYPORT_ADMIN_PASSWORD", PASSWORD)  # the first admin's password
    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(skyport_hello.plugin, name="hello")
    with TestClient(create_app(settings, plugins=manager)) as client:
        login = {"username": "admin", "password": PASSWORD}
        token = client.post("/api/auth/login", json=login).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def test_greeting_uses_the_configured_words(client: TestClient[Litestar]) -> None:
    response = client.get("/api/hello/greeting", params={"name": "Ada"})
    assert response.status_code == 200
    assert response.json()["message"] == "Hi, Ada!"


def test_signing_needs_the_write_scope(client: TestClient[Litestar]) -> None:
    vera = {"username": "vera", "password": "vera-password"}
    assert client.post("/api/users", json={**vera, "role": "viewer"}).status_code == 201
    token = client.post("/api/auth/login", json=vera).json()["token"]
    refused = client.post(
        "/api/hello/guests", json={"name": "Vera"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 403
    assert client.post("/api/hello/guests", json={"name": "Vera"}).status_code == 201
    assert [g["name"] for g in client.get("/api/hello/guests").json()] == ["Vera"]


def test_the_collector_counts_signatures(client: TestClient[Litestar]) -> None:
    for name in ("Ada", "Grace", "Ada"):
        client.post("/api/hello/guests", json={"name": name})
    metrics = client.get("/api/metrics").json()
    assert metrics["collectors"]["hello"] == {"signatures": 3, "guests": 2}
