"""The async SQLAlchemy engine: SQLite in the data dir by default, or PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from skyport.store.migrations import CORE_MIGRATIONS, apply_migrations
from skyport.types import Migration


class Database:
    """One engine per process; ``async with db.begin() as conn`` for a transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = _make_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def begin(self) -> Any:
        """A transaction on a pooled connection (an async context manager)."""
        return self.engine.begin()

    def connect(self) -> Any:
        """A pooled connection without an implicit transaction."""
        return self.engine.connect()

    async def migrate(self, plugins: Mapping[str, Sequence[Migration]] | None = None) -> list[str]:
        """Bring the core's and the plugins' schemas up to date."""
        return await apply_migrations(self.engine, {"core": CORE_MIGRATIONS, **(plugins or {})})

    async def dispose(self) -> None:
        await self.engine.dispose()


def _make_engine(url: str) -> AsyncEngine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
