"""What the last reads of the catalog sources gave, kept in the database for every node.

One row of ``marketplace_catalogs`` per source: its format and location, when
it was last read successfully (``refreshed``) and last tried (``attempted``),
the error of the last try, and the templates of the last good read (a
zlib-compressed :class:`KeptCatalog`). The node leading ``marketplace.refresh``
writes it (as does a node asked to refresh through the API); every node reads
the row again when its ``refreshed`` changes, so all serve the same catalog.

Earlier versions kept these copies on disk, in ``<data>/marketplace/catalogs``:
:meth:`KeptCatalogs.import_disk_copies` moves them into the table once.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from skyport.api import AppTemplate, SkippedTemplate
from skyport.store import Database
from skyport_marketplace.tables import catalogs as table

log = logging.getLogger("skyport.marketplace")


class KeptCatalog(msgspec.Struct):
    """What is kept of one source's last successful read."""

    type: str
    url: str
    refreshed: float
    templates: list[AppTemplate]
    skipped: list[SkippedTemplate]


class KeptHead(msgspec.Struct, frozen=True):
    """A row without its templates: cheap to read every few seconds."""

    name: str
    type: str
    url: str
    refreshed: float | None
    attempted: float
    error: str | None


def encode(kept: KeptCatalog) -> bytes:
    return zlib.compress(msgspec.json.encode(kept), 6)


def decode(body: bytes) -> KeptCatalog:
    return msgspec.json.decode(zlib.decompress(body), type=KeptCatalog)


class KeptCatalogs:
    """The ``marketplace_catalogs`` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def heads(self) -> dict[str, KeptHead]:
        columns = [table.c[f] for f in KeptHead.__struct_fields__]
        async with self.database.connect() as conn:
            rows = await conn.execute(sa.select(*columns))
            return {row.name: KeptHead(*row) for row in rows}

    async def bodies(self, names: Iterable[str]) -> dict[str, KeptCatalog]:
        """The kept templates of these sources (those that have some)."""
        async with self.database.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(table.c.name, table.c.body).where(
                        table.c.name.in_(list(names)), table.c.body.is_not(None)
                    )
                )
            ).all()
        return dict(await asyncio.to_thread(_decode_rows, rows))

    async def attempt(self, name: str, type_: str, url: str, when: float) -> None:
        """Say a read of the source started (other nodes then leave it alone a while).

        A row of another format or location (the source was changed) is started afresh.
        """
        try:
            async with self.database.begin() as conn:  # writes first: SQLite locks so
                done = await conn.execute(self._this(name, type_, url).values(attempted=when))
                if not done.rowcount:
                    await start_afresh(conn, name, type_, url, when)
        except IntegrityError:  # another node started one at the same moment
            pass

    async def keep(self, name: str, kept: KeptCatalog) -> None:
        """Store a successful read."""
        body = await asyncio.to_thread(encode, kept)
        async with self.database.begin() as conn:
            await conn.execute(
                self._this(name, kept.type, kept.url).values(
                    refreshed=kept.refreshed, error=None, body=body
                )
            )

    async def fail(self, name: str, type_: str, url: str, error: str) -> None:
        """Store why a read failed (the templates of the read before stay)."""
        async with self.database.begin() as conn:
            await conn.execute(self._this(name, type_, url).values(error=error))

    async def forget(self, name: str) -> None:
        async with self.database.begin() as conn:
            await conn.execute(table.delete().where(table.c.name == name))

    @staticmethod
    def _this(name: str, type_: str, url: str) -> sa.Update:
        return table.update().where(table.c.name == name, table.c.type == type_, table.c.url == url)

    async def import_disk_copies(self, folder: Path, sources: dict[str, tuple[str, str]]) -> None:
        """Move the copies earlier versions kept in ``folder`` (``<name>.json``) into the
        table, for sources (name -> (type, url)) that have no row yet; then delete them."""
        found = await asyncio.to_thread(_read_disk_copies, folder)
        if not found:
            return
        existing = await self.heads()
        for name, (path, kept) in found.items():
            where = (kept.type, kept.url) if kept is not None else None
            if kept is not None and name not in existing and sources.get(name) == where:
                await self._insert_disk_copy(name, kept)
            path.unlink(missing_ok=True)

    async def _insert_disk_copy(self, name: str, kept: KeptCatalog) -> None:
        body = await asyncio.to_thread(encode, kept)
        row = {"type": kept.type, "url": kept.url, "refreshed": kept.refreshed}
        try:
            async with self.database.begin() as conn:
                await conn.execute(
                    table.insert().values(name=name, attempted=kept.refreshed, body=body, **row)
                )
        except IntegrityError:  # another node moved its own copy meanwhile
            return
        log.info("catalog source %s: the copy kept on disk moved to the database", name)


async def start_afresh(conn: AsyncConnection, name: str, type_: str, url: str, when: float) -> None:
    """Make the source's row (in ``conn``'s transaction) one that says a read of ``type_``
    at ``url`` started at ``when``: whatever was kept of it before is gone."""
    await conn.execute(table.delete().where(table.c.name == name))
    await conn.execute(table.insert().values(name=name, type=type_, url=url, attempted=when))


def _decode_rows(rows: Iterable[Any]) -> list[tuple[str, KeptCatalog]]:
    decoded = []
    for name, body in rows:
        try:
            decoded.append((name, decode(body)))
        except (zlib.error, msgspec.DecodeError) as exc:
            log.warning("catalog source %s: the kept copy cannot be read (%s)", name, exc)
    return decoded


def _read_disk_copies(folder: Path) -> dict[str, tuple[Path, KeptCatalog | None]]:
    found: dict[str, tuple[Path, KeptCatalog | None]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            found[path.stem] = (path, msgspec.json.decode(path.read_bytes(), type=KeptCatalog))
        except (OSError, msgspec.DecodeError):
            found[path.stem] = (path, None)
    return found
