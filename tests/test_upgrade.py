"""A data dir made by SkyPort 0.1.0 (before Alembic) opens in this release without loss."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

import skyport_vps
from skyport.api import SecretBox, hkdf
from skyport.app import create_app
from skyport.config import load_settings
from skyport.plugins import PluginManager
from skyport.store.revisions import CORE_VERSIONS, declared_heads
from skyport.testing import bearer, login

CORE_HEAD = max(declared_heads([CORE_VERSIONS]) or ())
"""The core's newest revision."""
VPS_HEAD = max(declared_heads([Path(skyport_vps.__file__).parent / "migrations"]) or ())
"""The vps plugin's newest revision (0.1.0 had its first, ``vps_0001``)."""


def start(*disabled: str) -> TestClient[Any]:
    """The installed plugins but pm2 (its daemon is not what this test is about)."""
    manager = PluginManager(disabled=["pm2", *disabled], strict=True)
    return TestClient(create_app(load_settings(), plugins=manager))


def query(sql: str) -> list[tuple[Any, ...]]:
    """Rows of the data dir's SQLite database, read directly (the tests here are synchronous:
    the browser tests' Playwright holds the main thread's event loop)."""
    path = load_settings().data_path / "skyport.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def schema_state() -> tuple[list[str], list[str]]:
    """The tables, and the Alembic revisions recorded."""
    tables = query("SELECT name FROM sqlite_master WHERE type = 'table'")
    versions = query("SELECT version_num FROM alembic_version")
    return sorted(name for (name,) in tables), sorted(version for (version,) in versions)


def test_everything_from_0_1_0_is_still_there(data_dir_from_0_1_0: dict[str, Any]) -> None:
    facts = data_dir_from_0_1_0
    passwords = facts["passwords"]
    with start() as client:
        admin = bearer(login(client, "admin", passwords["admin"]))
        assert login(client, "alice", passwords["alice"])
        assert login(client, "bob", passwords["bob"])
        refused = client.post(
            "/api/auth/login", json={"username": "carol", "password": passwords["carol"]}
        )
        assert refused.status_code == 401  # disabled in 0.1.0, still disabled

        users = {u["username"]: u for u in client.get("/api/users", headers=admin).json()}
        assert {name: u["role"] for name, u in users.items()} == {
            "admin": "admin",
            "alice": "operator",
            "bob": "viewer",
            "carol": "auditor",
        }
        roles = {r["name"]: r for r in client.get("/api/roles", headers=admin).json()}
        assert sorted(roles["auditor"]["scopes"]) == ["audit:read", "status:read"]

        token = bearer(facts["api_token"])
        assert client.get("/api/status", headers=token).status_code == 200
        session = bearer(facts["session_token"])  # the admin's session opened under 0.1.0
        me = client.get("/api/auth/me", headers=session)
        assert me.status_code == 200 and me.json()["username"] == "admin"

        grants = client.get("/api/grants", headers=admin).json()
        assert [(g["username"], g["kind"], g["resource"]) for g in grants] == [
            ("bob", "vps", "web-1")
        ]
        audit = client.get("/api/audit", headers=admin, params={"limit": 100}).json()
        actions = [entry["action"] for entry in audit["items"]]
        assert audit["total"] >= 11 + 4  # 0.1.0's rows and this test's logins
        assert any("/api/vps/servers" in action for action in actions)

        engines = client.get("/api/docker/engines", headers=admin).json()
        assert "second" in {e["name"] for e in engines}
        servers = {s["name"]: s for s in client.get("/api/vps/servers", headers=admin).json()}
        assert servers["web-1"]["tags"] == ["web"] and servers["web-1"]["auth"] == "private_key"
        assert servers["db-1"]["auth"] == "password"


@pytest.mark.usefixtures("data_dir_from_0_1_0")
def test_the_old_schema_table_becomes_alembic_history() -> None:
    with start():
        pass
    tables, versions = schema_state()
    assert "schema_migrations" not in tables
    assert {CORE_HEAD, "docker_0001", VPS_HEAD} <= set(versions)
    with start():  # a second start has nothing to do and changes nothing
        pass
    assert schema_state() == (tables, versions)


@pytest.mark.usefixtures("data_dir_from_0_1_0")
def test_a_plugin_left_out_at_the_first_start_is_adopted_when_it_returns() -> None:
    with start("docker"):
        pass
    tables, versions = schema_state()
    assert "schema_migrations" in tables and "docker_engines" in tables
    assert "docker_0001" not in versions and {CORE_HEAD, VPS_HEAD} <= set(versions)
    with start() as client:
        admin = bearer(login(client, "admin", "fixture-admin-password"))
        engines = client.get("/api/docker/engines", headers=admin).json()
        assert "second" in {e["name"] for e in engines}
    tables, versions = schema_state()
    assert "schema_migrations" not in tables
    assert {CORE_HEAD, "docker_0001", VPS_HEAD} <= set(versions)


def stored_secrets() -> dict[str, str]:
    """The vps inventory's sealed credentials, as stored."""
    return {
        name: secret for name, secret in query("SELECT name, secret FROM vps_servers") if secret
    }


def test_credentials_sealed_by_0_1_0_open_and_move_to_the_plugins_own_key(
    data_dir_from_0_1_0: dict[str, Any],
) -> None:
    sealed_by_0_1_0 = stored_secrets()
    with start() as client:
        context = client.app.state.contexts["vps"]
        inventory = context.state["vps"].inventory
        web = inventory.credentials(inventory.get("web-1"))
        assert web.private_key == data_dir_from_0_1_0["vps_private_key"]
        assert inventory.credentials(inventory.get("db-1")).password == "db-password"
        resealed = stored_secrets()
        assert resealed.keys() == sealed_by_0_1_0.keys()
        current_key_only = SecretBox(hkdf(context.key, "secrets"))
        for name, token in resealed.items():
            assert token != sealed_by_0_1_0[name]
            current_key_only.decrypt(token, context=f"server:{name}")
    with start():  # the next start finds nothing left to move
        pass
    assert stored_secrets() == resealed
