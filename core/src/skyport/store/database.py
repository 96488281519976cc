"""The async SQLAlchemy engine: SQLite in the data dir by default, or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from skyport.config import ConfigError
from skyport.store.revisions import CORE_VERSIONS, declared_heads, recorded_heads

if TYPE_CHECKING:
    from skyport.store.migrations import Migrations


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

    def migrations(self, plugins: Mapping[str, Path] | None = None) -> Migrations:
        """The core's and these plugins' revision histories (name -> folder) on this database."""
        from skyport.store.migrations import Migrations

        return Migrations(self.engine, plugins)

    async def migrate(
        self,
        plugins: Mapping[str, Path] | None = None,
        on_failure: Callable[[str, Exception], None] | None = None,
    ) -> list[str]:
        """Bring the core's and the plugins' schemas up to date; return the revisions applied.

        A database already up to date is told so without loading Alembic.
        """
        if await self.up_to_date(plugins):
            return []
        return await self.migrations(plugins).upgrade(on_failure)

    async def up_to_date(self, plugins: Mapping[str, Path] | None = None) -> bool:
        """Whether every history's newest revision is applied (``False`` when unsure)."""
        declared = declared_heads([CORE_VERSIONS, *(plugins or {}).values()])
        if not declared:
            return False
        async with self.engine.connect() as conn:
            return declared <= await conn.run_sync(recorded_heads)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _make_engine(url: str) -> AsyncEngine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_async_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"database.url {parsed.render_as_string(hide_password=True)!r} needs the "
                f"Python package {exc.name!r}; for PostgreSQL: pip install 'skyport-core[postgres]'"
            ) from None
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    sa.event.listen(engine.sync_engine, "connect", _sqlite_connect)
    sa.event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own transaction handling would run DDL outside transactions;
    # SQLAlchemy begins them instead (_sqlite_begin), so a migration is all or nothing.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN")
