"""Every configured catalog source, read concurrently, kept on disk, searchable as one.

A source is a name, a format and a location. Reading one (download or file,
then the format's ``parse`` in a worker thread) is bounded by
``refresh_timeout``; a source that fails keeps what it last had and shows the
error, and the others are not held up. Each source's templates are kept in
``<data>/marketplace/catalogs/<name>.json`` and used until ``cache_ttl``
has passed, across restarts. Template ids are ``<source>:<id>``: stable as
long as the catalog names its apps the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import msgspec
from litestar.exceptions import ClientException, NotFoundException

from skyport.api import AppTemplate, MarketplaceSource, SkippedTemplate
from skyport_marketplace.fetch import CatalogReader, CatalogUnreadable
from skyport_marketplace.search import SearchIndex
from skyport_marketplace.settings import MarketplaceSettings, SourceConfig

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


class KeptCatalog(msgspec.Struct):
    """What is kept on disk of one source's last successful read."""

    type: str
    url: str
    refreshed: float
    templates: list[AppTemplate]
    skipped: list[SkippedTemplate]


@dataclass
class Source:
    config: SourceConfig
    origin: Origin
    templates: list[AppTemplate] = field(default_factory=list)
    skipped: list[SkippedTemplate] = field(default_factory=list)
    refreshed: float | None = None
    error: str | None = None
    attempted: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

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
    ) -> None:
        self.formats = dict(formats)
        self.settings = settings
        self.folder = folder
        self.reader = CatalogReader(
            folder / "downloads",
            timeout=settings.refresh_timeout,
            max_bytes=settings.max_catalog_bytes,
        )
        self._sources: dict[str, Source] = {}
        self._by_id: dict[str, AppTemplate] = {}
        self.index = SearchIndex([])

    # -- sources ---------------------------------------------------------------------

    def add(self, config: SourceConfig, origin: Origin) -> Source:
        """Take a source on (409 if the name is taken, 400 for an unknown format)."""
        if config.name in self._sources:
            raise ClientException(f"a source named {config.name!r} exists", status_code=409)
        if config.type not in self.formats:
            known = ", ".join(sorted(self.formats))
            raise ClientException(
                f"type: no catalog format {config.type!r} (known: {known})",
                extra={"field": "type"},
            )
        source = self._sources[config.name] = Source(config, origin)
        return source

    def remove(self, name: str) -> None:
        source = self.get(name)
        if source.origin == "settings":
            raise ClientException(
                f"source {name!r} comes from the settings file; remove it there", status_code=409
            )
        del self._sources[name]
        self._kept(name).unlink(missing_ok=True)
        self._reindex()

    def get(self, name: str) -> Source:
        try:
            return self._sources[name]
        except KeyError:
            raise NotFoundException(f"no catalog source {name!r}") from None

    def statuses(self) -> list[SourceStatus]:
        return [s.status() for s in self._sources.values()]

    # -- reading -----------------------------------------------------------------------

    def load_kept(self) -> None:
        """Serve what earlier reads kept on disk (for sources whose type and URL still match)."""
        for name, source in self._sources.items():
            try:
                kept = msgspec.json.decode(self._kept(name).read_bytes(), type=KeptCatalog)
            except (OSError, msgspec.DecodeError):
                continue
            if (kept.type, kept.url) == (source.config.type, source.config.url):
                source.templates, source.skipped = kept.templates, kept.skipped
                source.refreshed = kept.refreshed
        self._reindex()

    def stale(self) -> list[str]:
        """Sources due for a read: never read, read longer than ``cache_ttl`` ago, or failed
        more than a minute ago."""
        now = time.time()
        due = []
        for name, source in self._sources.items():
            last = max(source.refreshed or 0.0, source.attempted or 0.0)
            if source.attempted is None:
                if source.refreshed is None or source.refreshed <= now - self.settings.cache_ttl:
                    due.append(name)
            elif last <= now - max(self.settings.cache_ttl, RETRY_AFTER):
                due.append(name)
        return due

    async def refresh(self, names: Iterable[str] | None = None) -> list[SourceStatus]:
        """Read the sources (all by default) concurrently; each failure stays with its source."""
        chosen = [self.get(n) for n in (self._sources if names is None else names)]
        await asyncio.gather(*(self._refresh(source) for source in chosen))
        self._reindex()
        return [source.status() for source in chosen]

    async def _refresh(self, source: Source) -> None:
        config = source.config
        async with source.lock:
            source.attempted = time.time()
            try:
                async with asyncio.timeout(self.settings.refresh_timeout):
                    files = await self.reader.read(config.name, config.url)
                    parsed = await asyncio.to_thread(self.formats[config.type].parse, files)
            except TimeoutError:
                source.error = f"not read within {self.settings.refresh_timeout:g} s"
            except (CatalogUnreadable, ValueError) as exc:
                source.error = str(exc)
            except Exception as exc:  # a format's bug must not take the others down
                log.exception("catalog format %r failed on source %r", config.type, config.name)
                source.error = f"the {config.type} format failed: {type(exc).__name__}: {exc}"
            else:
                source.templates = [self._owned(config.name, t) for t in parsed.templates]
                source.skipped, source.refreshed, source.error = parsed.skipped, time.time(), None
                kept = KeptCatalog(
                    config.type, config.url, source.refreshed, source.templates, source.skipped
                )
                await asyncio.to_thread(self._keep, config.name, kept)
                return
            log.info("catalog source %s not read: %s", config.name, source.error)

    @staticmethod
    def _owned(source: str, template: AppTemplate) -> AppTemplate:
        return msgspec.structs.replace(template, id=f"{source}:{template.id}", source=source)

    def _kept(self, name: str) -> Path:
        return self.folder / "catalogs" / f"{name}.json"

    def _keep(self, name: str, kept: KeptCatalog) -> None:
        path = self._kept(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".new")
        partial.write_bytes(msgspec.json.encode(kept))
        partial.replace(path)

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
