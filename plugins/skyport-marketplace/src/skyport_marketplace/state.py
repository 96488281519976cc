"""The plugin's running state, kept in ``skyport.state["marketplace"]``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import sqlalchemy as sa

from skyport.api import PluginContext
from skyport_marketplace.catalog import Catalog
from skyport_marketplace.installs import InstallBook, Installer
from skyport_marketplace.jobs import JobRunner
from skyport_marketplace.settings import MarketplaceSettings, SourceConfig
from skyport_marketplace.tables import sources as sources_table

log = logging.getLogger("skyport.marketplace")
RECHECK_EVERY = 30.0
"""Seconds between two looks for sources due for a read."""


@dataclass
class MarketplaceState:
    skyport: PluginContext
    catalog: Catalog
    jobs: JobRunner
    installer: Installer
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def settings(self) -> MarketplaceSettings:
        return self.skyport.settings

    @classmethod
    async def start(cls, skyport: PluginContext) -> MarketplaceState:
        """Sources from the settings and the database, kept catalogs, then refreshes behind."""
        folder = skyport.config.data_path / "marketplace"
        formats = {f.type: f for f in skyport.registry.marketplace_sources}
        catalog = Catalog(formats, skyport.settings, folder)
        for config in skyport.settings.sources:
            catalog.add(config, "settings")
        async with skyport.database.connect() as conn:
            for row in await conn.execute(sa.select(sources_table)):
                try:
                    catalog.add(SourceConfig(row.name, row.type, row.url), "api")
                except Exception as exc:  # e.g. a format whose plugin is gone
                    log.warning("catalog source %s left out: %s", row.name, exc)
        await asyncio.to_thread(catalog.load_kept)
        jobs = JobRunner(skyport)
        book = InstallBook(skyport)
        await book.fail_interrupted(await jobs.fail_interrupted())
        state = cls(
            skyport, catalog, jobs, Installer(skyport, catalog, jobs, book, folder / "apps")
        )
        state.tasks.append(asyncio.create_task(state._keep_fresh(), name="marketplace-refresh"))
        return state

    async def _keep_fresh(self) -> None:
        """Read stale sources now, and again whenever their kept copy grows old."""
        while True:
            stale = self.catalog.stale()
            if stale:
                with contextlib.suppress(Exception):
                    await self.catalog.refresh(stale)
            await asyncio.sleep(RECHECK_EVERY)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.jobs.stop()


def marketplace_state(skyport: PluginContext) -> MarketplaceState:
    """The state ``startup`` created; route handlers get ``skyport`` injected."""
    state: MarketplaceState = skyport.state["marketplace"]
    return state
