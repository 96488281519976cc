"""State: migrations, first-start admin, upgrades — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.store import Database, tables
from skyport.store.migrations import MigrationError
from skyport.store.revisions import CORE_VERSIONS
from skyport.testing import schema_differences

from .conftest import ADMIN_PASSWORD, bearer, login, write_revision

CORE_REVISIONS = sorted(p.name[:9] for p in CORE_VERSIONS.glob("core_*.py"))
"""The core's revisions, oldest first (``core_0001`` …)."""

CREATE_ITEMS = """
op.create_table("notes_items", sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("body", sa.Text, nullable=False))
"""


@pytest.mark.every_database
async def test_migrations_apply_once_and_upgrades_keep_data(
    database_url: str, tmp_path: Path
) -> None:
    notes = write_revision(tmp_path / "notes", "notes_0001", None, CREATE_ITEMS)
    database = Database(database_url)
    assert await database.migrate({"notes": notes}) == [*CORE_REVISIONS, "notes_0001"]
    async with database.begin() as conn:
        await conn.exec_driver_sql("INSERT INTO notes_items (id, body) VALUES (1, 'keep me')")
    assert await database.migrate({"notes": notes}) == []
    write_revision(
        notes,
        "notes_0002",
        "notes_0001",
        'op.add_column("notes_items", sa.Column("pinned", sa.Integer, server_default="0"))',
    )
    assert await database.migrations({"notes": notes}).behind()
    assert await database.migrate({"notes": notes}) == ["notes_0002"]
    async with database.connect() as conn:
        rows = (await conn.exec_driver_sql("SELECT id, body, pinned FROM notes_items")).all()
    assert [tuple(r) for r in rows] == [(1, "keep me", 0)]
    states = {s.component: s for s in await database.migrations({"notes": notes}).states()}
    assert (states["notes"].current, states["notes"].head, states["notes"].behind) == (
        "notes_0002",
        "notes_0002",
        [],
    )
    await database.dispose()


@pytest.mark.every_database
async def test_a_failing_revision_changes_nothing(database_url: str, tmp_path: Path) -> None:
    """Each revision is one transaction, DDL included (SQLite too)."""
    notes = write_revision(tmp_path / "notes", "notes_0001", None, CREATE_ITEMS)
    write_revision(
        notes,
        "notes_0002",
        "notes_0001",
        """
op.create_table("notes_tags", sa.Column("id", sa.Integer, primary_key=True))
raise RuntimeError("boom in notes_0002")
""",
    )
    database = Database(database_url)
    failures: list[str] = []
    applied = await database.migrate({"notes": notes}, lambda name, exc: failures.append(str(exc)))
    assert applied == [*CORE_REVISIONS, "notes_0001"]
    assert failures == ["migrating 'notes' failed: boom in notes_0002"]
    async with database.connect() as conn:
        tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert "notes_items" in tables
    assert "notes_tags" not in tables
    (state,) = [
        s for s in await database.migrations({"notes": notes}).states() if s.component == "notes"
    ]
    assert (state.current, state.behind) == ("notes_0001", ["notes_0002"])
    await database.dispose()


@pytest.mark.every_database
async def test_servers_starting_together_migrate_once(database_url: str, tmp_path: Path) -> None:
    notes = write_revision(tmp_path / "notes", "notes_0001", None, CREATE_ITEMS)
    databases = [Database(database_url) for _ in range(4)]
    results = await asyncio.gather(*(d.migrate({"notes": notes}) for d in databases))
    assert sorted(results) == [[], [], [], [*CORE_REVISIONS, "notes_0001"]]
    for database in databases:
        await database.dispose()


@pytest.mark.every_database
async def test_the_core_tables_match_their_migrations(database_url: str) -> None:
    database = Database(database_url)
    await database.migrate()
    assert await schema_differences(database, tables.metadata) == []
    await database.dispose()


async def test_a_history_without_its_labelled_first_revision_is_refused(
    tmp_path: Path,
) -> None:
    notes = write_revision(tmp_path / "notes", "notes_0001", None, CREATE_ITEMS, label="other")
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(MigrationError, match=r"branch_labels = \('notes',\)"):
        await database.migrate({"notes": notes})
    await database.dispose()


@pytest.mark.every_database
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


@pytest.mark.every_database
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


@pytest.mark.every_database
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
