"""State: migrations, first-start admin, upgrades — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.store import Database
from skyport.types import Migration

from .conftest import ADMIN_PASSWORD, bearer, login


def _notes_table(conn: sa.Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE notes_items (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")


def _notes_column(conn: sa.Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE notes_items ADD COLUMN pinned INTEGER DEFAULT 0")


async def test_migrations_apply_once_and_upgrades_keep_data(database_url: str) -> None:
    database = Database(database_url)
    first = await database.migrate({"notes": [Migration("0001_items", _notes_table)]})
    assert first == ["core:0001_initial", "notes:0001_items"]
    async with database.begin() as conn:
        await conn.exec_driver_sql("INSERT INTO notes_items (id, body) VALUES (1, 'keep me')")
    assert await database.migrate({"notes": [Migration("0001_items", _notes_table)]}) == []
    upgraded = await database.migrate(
        {"notes": [Migration("0001_items", _notes_table), Migration("0002_pin", _notes_column)]}
    )
    assert upgraded == ["notes:0002_pin"]
    async with database.connect() as conn:
        rows = (await conn.exec_driver_sql("SELECT id, body, pinned FROM notes_items")).all()
    assert [tuple(r) for r in rows] == [(1, "keep me", 0)]
    await database.dispose()


def test_app_runs_on_each_database(
    database_url: str, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(database={"url": database_url})
    app = create_app(settings, plugins=PluginManager(strict=True, use_entry_points=False))
    with TestClient(app) as client:
        token = login(client, "admin", ADMIN_PASSWORD)
        created = client.post(
            "/api/users",
            json={"username": "pat", "password": "pat-password", "role": "viewer"},
            headers=bearer(token),
        )
        assert created.status_code == 201
        assert client.get("/api/audit", headers=bearer(token)).json()["total"] >= 2
    # A second server on the same database sees the same users and keeps them.
    again = create_app(settings, plugins=PluginManager(strict=True, use_entry_points=False))
    with TestClient(again) as client:
        assert login(client, "pat", "pat-password")


def test_first_start_without_password_prints_one_once(
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SKYPORT_ADMIN_PASSWORD")
    settings = make_settings()

    def start() -> str:
        app = create_app(settings, plugins=PluginManager(strict=True, use_entry_points=False))
        with TestClient(app):
            pass
        return capsys.readouterr().err

    printed = start()
    password = printed.split("password: ")[1].split()[0]
    assert len(password) >= 16
    assert "password:" not in start()
    app = create_app(settings, plugins=PluginManager(strict=True, use_entry_points=False))
    with TestClient(app) as client:
        assert login(client, "admin", password)


def test_admin_password_from_environment_is_used_and_not_printed(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(), plugins=PluginManager(strict=True, use_entry_points=False))
    with TestClient(app) as client:
        assert login(client, "admin", ADMIN_PASSWORD)
    assert ADMIN_PASSWORD not in capsys.readouterr().err


def test_no_password_hash_or_secret_is_stored_in_clear(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    app = create_app(settings, plugins=PluginManager(strict=True, use_entry_points=False))
    with TestClient(app) as client:
        token = login(client, "admin", ADMIN_PASSWORD)
        secret = client.post(
            "/api/auth/tokens", json={"name": "t", "scopes": ["status:read"]}, headers=bearer(token)
        ).json()["token"]
    stored = b"".join(p.read_bytes() for p in settings.data_path.glob("skyport.db*"))
    assert ADMIN_PASSWORD.encode() not in stored
    assert secret.split("_")[-1].encode() not in stored
    assert b"$argon2id$" in stored
    assert oct((settings.data_path / "secret.key").stat().st_mode & 0o777) == "0o600"
