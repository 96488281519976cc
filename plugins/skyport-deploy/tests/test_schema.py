"""The deploy plugin's tables are what its migrations create, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from skyport.store import Database
from skyport.testing import schema_differences
from skyport_deploy import plugin
from skyport_deploy.tables import metadata


@pytest.mark.every_database
async def test_the_tables_match_their_migrations(database_url: str) -> None:
    database = Database(database_url)
    await database.migrate({"deploy": plugin.register_migrations()})
    assert await schema_differences(database, metadata) == []
    await database.dispose()
