"""Every configured catalog source, read concurrently, kept in the database, searchable as one.

A source is a name, a format and a location. Reading one (download or file,
then the format's ``parse`` in a worker thread) is bounded by
``refresh_timeout``; a source that fails keeps what it last had and shows the
error, and the others are not held up. Each source's templates are kept in the
database (:mod:`skyport_marketplace.kept`) and used until ``cache_ttl`` has
passed, across restarts; in a cluster one node reads the sources that are due
(the ``marketplace.refresh`` role) and every node serves what it read, taking
each new read in within :data:`~skyport_marketplace.state.SYNC_EVERY` seconds.
Template ids are ``<source>:<id>``: stable as long as the catalog names its apps
the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import msgspec
import sqlalchemy as sa
from litestar.exceptions import ClientException, NotFoundException

from skyport.api import AppTemplate, MarketplaceSource, SkippedTemplate
from skyport.store import Database
from skyport_marketplace.fetch import CatalogReader, CatalogUnreadable
from skyport_marketplace.kept import KeptCatalog, KeptCatalogs, KeptHead
from skyport_marketplace.search import SearchIndex
from skyport_marketplace.settings import MarketplaceSettings, SourceConfig
from skyport_marketplace.tables import sources as sources_table

log = logging.getLogger("skyport.marketplace")

Origin = Literal["settings", "api"]
RETRY_AFTER = 60.0
"""Seconds before a source whose read failed is read again."""


class SourceStatus(msgspec.Struct, kw_only=True):
    """A source and how its last read went."""

    name: str
    type: str
    url: str
    origin: Origin
    """``settings`` (the config file) or ``api`` (added at run time, removable)."""
    templates: int = 0
    skipped: int = 0
    skipped_reasons: list[SkippedTemplate] = msgspec.field(default_factory=list)
    refreshed: float | None = None
    """When it was last read successfully."""
    error: str | None = None
    """Why the last read failed (the templates of the read before are still served)."""
    refreshing: bool = False


@dataclass
class Source:
    config: SourceConfig
    origin: Origin
    templates: list[AppTemplate] = field(default_factory=list)
    skipped: list[SkippedTemplate] = field(default_factory=list)
    refreshed: float | None = None
    error: str | None = None
    attempted: float | None = None
    """When a read last started (on any node: the database says)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def where(self) -> tuple[str, str]:
        return self.config.type, self.config.url

    def take(self, head: KeptHead, kept: KeptCatalog | None) -> bool:
        """Take in what the database holds of this source (another node's read, or this
        one's); whether the templates changed."""
        if (head.type, head.url) != self.where():
            return False  # of an earlier location, or another node's settings
        if self.attempted is None or head.attempted >= self.attempted:
            self.attempted, self.error = head.attempted, head.error
        if kept is None or (self.refreshed is not None and kept.refreshed <= self.refreshed):
            return False
        self.templates, self.skipped, self.refreshed = kept.templates, kept.skipped, kept.refreshed
        return True

    def status(self) -> SourceStatus:
        return SourceStatus(
            name=self.config.name,
            type=self.config.type,
            url=self.config.url,
            origin=self.origin,
            templates=len(self.templates),
            skipped=len(self.skipped),
            skipped_reasons=self.skipped,
            refreshed=self.refreshed,
            error=self.error,
            refreshing=self.lock.locked(),
        )


class Catalog:
    """The sources and the one searchable catalog made of all of them."""

    def __init__(
        self,
        formats: Mapping[str, MarketplaceSource],
        settings: MarketplaceSettings,
        folder: Path,
        database: Database,
    ) -> None:
        self.formats = dict(formats)
        self.settings = settings
        self.folder = folder
        self.database = database
        self.kept = KeptCatalogs(database)
        self.reader = CatalogReader(
            folder / "downloads",
            timeout=settings.refresh_timeout,
            max_bytes=settings.max_catalog_bytes,
        )
        self._sources: dict[str, Source] = {}
        self._by_id: dict[str, AppTemplate] = {}
        self.index = SearchIndex([])

    # -- sources ---------------------------------------------------------------------

    def check_new(self, config: SourceConfig) -> None:
        """409 if the name is taken, 400 for an unknown format."""
        if config.name in self._sources:
            raise ClientException(f"a source named {config.name!r} exists", status_code=409)
        if config.type not in self.formats:
            known = ", ".join(sorted(self.formats))
            raise ClientException(
                f"type: no catalog format {config.type!r} (known: {known})",
                extra={"field": "type"},
            )

    def add(self, config: SourceConfig, origin: Origin) -> Source:
        """Take a source on (see :meth:`check_new`); one added meanwhile (a
        :meth:`sync`) is kept if it is the same."""
        known = self._sources.get(config.name)
        if known is not None and (known.config, known.origin) == (config, origin):
            return known
        self.check_new(config)
        source = self._sources[config.name] = Source(config, origin)
        return source

    def check_removable(self, name: str) -> None:
        if self.get(name).origin == "settings":
            raise ClientException(
                f"source {name!r} comes from the settings file; remove it there", status_code=409
            )

    def remove(self, name: str) -> None:
        """Drop a source (its rows are gone: see :meth:`check_removable`)."""
        if self._sources.pop(name, None) is not None:
            self._reindex()

    def get(self, name: str) -> Source:
        try:
            return self._sources[name]
        except KeyError:
            raise NotFoundException(f"no catalog source {name!r}") from None

    def statuses(self) -> list[SourceStatus]:
        return [s.status() for s in self._sources.values()]

    # -- what the database holds -------------------------------------------------------

    async def sync(self) -> None:
        """Take in the sources added and removed through the API (on any node) and each
        source's latest read: cheap when nothing changed (only the changed are read)."""
        await self.sync_sources()
        await self.sync_kept()

    async def sync_sources(self) -> None:
        async with self.database.connect() as conn:
            rows = {row.name: row for row in await conn.execute(sa.select(sources_table))}
        changed = False
        for name, row in rows.items():
            if name not in self._sources:
                try:
                    self.add(SourceConfig(row.name, row.type, row.url), "api")
                except Exception as exc:  # e.g. a format whose plugin is gone
                    log.warning("catalog source %s left out: %s", row.name, exc)
        for name, source in list(self._sources.items()):
            if source.origin == "api" and name not in rows:
                del self._sources[name]
                changed = True
        if changed:
            self._reindex()

    async def sync_kept(self) -> None:
        heads = await self.kept.heads()
        wanted = [
            name
            for name, head in heads.items()
            if (source := self._sources.get(name)) is not None
            and (head.type, head.url) == source.where()
            and head.refreshed is not None
            and (source.refreshed is None or head.refreshed > source.refreshed)
        ]
        bodies = await self.kept.bodies(wanted) if wanted else {}
        changed = False
        for name, head in heads.items():
            source = self._sources.get(name)
            if source is not None and not source.lock.locked():
                changed |= source.take(head, bodies.get(name))
        if changed:
            self._reindex()

    async def import_disk_copies(self) -> None:
        """The copies earlier versions kept on disk, into the database (once)."""
        where = {name: source.where() for name, source in self._sources.items()}
        await self.kept.import_disk_copies(self.folder / "catalogs", where)

    # -- reading -----------------------------------------------------------------------

    def stale(self, *, first: bool = False) -> list[str]:
        """Sources due for a read: never read, read longer than ``cache_ttl`` ago, or failed
        more than a minute ago. ``first`` (a node's first look) does not wait for the
        tries of before."""
        now = time.time()
        due = []
        for name, source in self._sources.items():
            last = max(source.refreshed or 0.0, source.attempted or 0.0)
            if first or source.attempted is None:
                if source.refreshed is None or source.refreshed <= now - self.settings.cache_ttl:
                    due.append(name)
            elif last <= now - max(self.settings.cache_ttl, RETRY_AFTER):
                due.append(name)
        return due

    async def refresh(self, names: Iterable[str] | None = None) -> list[SourceStatus]:
        """Read the sources (all by default) concurrently; each failure stays with its source.
        What is read is kept in the database for the other nodes."""
        chosen = [self.get(n) for n in (self._sources if names is None else names)]
        await asyncio.gather(*(self._refresh(source) for source in chosen))
        self._reindex()
        return [source.status() for source in chosen]

    async def _refresh(self, source: Source) -> None:
        config, kept = source.config, self.kept
        async with source.lock:
            source.attempted = time.time()
            await self._tell(
                config.name, kept.attempt(config.name, *source.where(), source.attempted)
            )
            try:
                async with asyncio.timeout(self.settings.refresh_timeout):
                    files = await self.reader.read(config.name, config.url)
                    parsed = await asyncio.to_thread(self.formats[config.type].parse, files)
            except TimeoutError:
                error = f"not read within {self.settings.refresh_timeout:g} s"
            except (CatalogUnreadable, ValueError) as exc:
                error = str(exc)
            except Exception as exc:  # a format's bug must not take the others down
                log.exception("catalog format %r failed on source %r", config.type, config.name)
                error = f"the {config.type} format failed: {type(exc).__name__}: {exc}"
            else:
                source.templates = [self._owned(config.name, t) for t in parsed.templates]
                source.skipped, source.refreshed, source.error = parsed.skipped, time.time(), None
                read = KeptCatalog(
                    *source.where(), source.refreshed, source.templates, source.skipped
                )
                await self._tell(config.name, kept.keep(config.name, read))
                return
            source.error = error
            log.info("catalog source %s not read: %s", config.name, error)
            await self._tell(config.name, kept.fail(config.name, *source.where(), error))

    @staticmethod
    async def _tell(name: str, write: Awaitable[None]) -> None:
        """Write to the kept catalogs; the database being down leaves this node's copy."""
        try:
            await write
        except Exception as exc:
            log.warning("catalog source %s: cannot write to the database (%s)", name, exc)

    @staticmethod
    def _owned(source: str, template: AppTemplate) -> AppTemplate:
        return msgspec.structs.replace(template, id=f"{source}:{template.id}", source=source)

    def _reindex(self) -> None:
        templates = [t for s in self._sources.values() for t in s.templates]
        self._by_id = {t.id: t for t in templates}
        self.index = SearchIndex(templates)

    # -- apps ----------------------------------------------------------------------------

    def app(self, app_id: str) -> AppTemplate:
        try:
            return self._by_id[app_id]
        except KeyError:
            raise NotFoundException(
                f"no app {app_id!r} in the catalog (ids are <source>:<app>; "
                "search with GET /api/marketplace/apps?q=…)"
            ) from None
