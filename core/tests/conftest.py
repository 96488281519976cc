"""The core's tests use the shared fixtures from :mod:`skyport.testing`, and databases."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from skyport.store import Database
from skyport.testing import ADMIN_PASSWORD, LiveServer, bearer, free_port, login, require_backend

__all__ = ["ADMIN_PASSWORD", "LiveServer", "bearer", "free_port", "login"]

POSTGRES_URL = os.environ.get("SKYPORT_TEST_POSTGRES_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty database, dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    require_backend(
        bool(POSTGRES_URL),
        "no PostgreSQL server (set SKYPORT_TEST_POSTGRES_URL; .ci/run starts one)",
    )
    name = f"skyport_{secrets.token_hex(6)}"
    admin_db = Database(POSTGRES_URL)
    async with admin_db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield str(sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    async with admin_db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin_db.dispose()
