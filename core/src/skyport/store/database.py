"""The async SQLAlchemy engine: SQLite in the data dir by default, or PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from skyport.config import ConfigError
from skyport.errors import BackendUnavailable
from skyport.store.revisions import CORE_VERSIONS, declared_heads, recorded_heads

if TYPE_CHECKING:
    from skyport.store.migrations import Migrations

_UNREACHABLE = (OSError, sa.exc.OperationalError, sa.exc.InterfaceError)


class DatabaseUnavailable(BackendUnavailable):
    """The database server cannot be reached (HTTP 503 naming it)."""

    def __init__(self, url: str, exc: BaseException) -> None:
        parsed = sa.make_url(url)
        where = f"{parsed.host}:{parsed.port or 5432}" if parsed.host else parsed.database
        reason = " ".join(str(exc).split()) or type(exc).__name__
        super().__init__("the database", f"{parsed.get_backend_name()} at {where}: {reason}")


def unavailable_database(request: Any, exc: sa.exc.DBAPIError) -> Any:
    """Exception handler: a connection lost in the middle of a query is a 503 too;
    any other database error is unexpected (500)."""
    from litestar import Response

    from skyport.errors import error_body, unexpected_error

    lost = exc.connection_invalidated or isinstance(
        exc, sa.exc.OperationalError | sa.exc.InterfaceError
    )
    if not lost:
        return unexpected_error(request, exc)
    down = DatabaseUnavailable(str(request.app.state.settings.database_url), exc.orig or exc)
    body = error_body(down.status_code, down.detail, down.extra)
    return Response(body, status_code=down.status_code)


class Database:
    """One engine per process; ``async with db.begin() as conn`` for a transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = _make_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Any]:
        """A transaction on a pooled connection; :class:`DatabaseUnavailable` if none."""
        async with self.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Any]:
        """A pooled connection without an implicit transaction; :class:`DatabaseUnavailable`
        (a 503 naming the database) when the server cannot be reached."""
        try:
            conn = await self.engine.connect()
        except _UNREACHABLE as exc:
            raise DatabaseUnavailable(self.url, exc) from exc
        try:
            yield conn
        finally:
            await conn.close()

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
            # Bounded waits: a database that does not answer is a 503 soon, not a hang.
            return create_async_engine(
                url, pool_pre_ping=True, pool_timeout=10, connect_args={"timeout": 5}
            )
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
