"""The plugin's running state, kept in ``skyport.state["marketplace"]``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from skyport.api import PluginContext
from skyport_marketplace.catalog import Catalog
from skyport_marketplace.installs import InstallBook, Installer
from skyport_marketplace.jobs import JobRunner
from skyport_marketplace.settings import MarketplaceSettings

log = logging.getLogger("skyport.marketplace")
RECHECK_EVERY = 30.0
"""Seconds between two looks for sources due for a read (by the node leading
``marketplace.refresh``)."""
SYNC_EVERY = 5.0
"""Seconds between two looks at the database for sources added or removed and catalogs
read on other nodes."""


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
        """Sources from the settings and the database with their kept catalogs; the
        refreshes run behind, on the node leading ``marketplace.refresh``."""
        folder = skyport.config.data_path / "marketplace"
        formats = {f.type: f for f in skyport.registry.marketplace_sources}
        catalog = Catalog(formats, skyport.settings, folder, skyport.database)
        for config in skyport.settings.sources:
            catalog.add(config, "settings")
        await catalog.sync_sources()
        await catalog.import_disk_copies()
        await catalog.sync_kept()
        jobs = JobRunner(skyport)
        book = InstallBook(skyport)
        await book.fail_interrupted(await jobs.fail_interrupted())
        state = cls(
            skyport, catalog, jobs, Installer(skyport, catalog, jobs, book, folder / "apps")
        )
        skyport.lead("refresh", state._keep_fresh)
        state.tasks.append(asyncio.create_task(state._keep_in_step(), name="marketplace-sync"))
        return state

    async def _keep_fresh(self) -> None:
        """Read stale sources now, and again whenever their kept copy grows old (the
        work of the node leading ``marketplace.refresh``)."""
        first = True
        while True:
            try:
                await self.catalog.sync()  # what the other nodes read meanwhile
                stale = self.catalog.stale(first=first)
                if stale:
                    await self.catalog.refresh(stale)
                first = False
            except Exception as exc:  # the database is down: look again later
                log.warning("catalog refresh: %s", exc)
            await asyncio.sleep(RECHECK_EVERY)

    async def _keep_in_step(self) -> None:
        """Take in the sources and catalogs changed on other nodes (every node)."""
        while True:
            await asyncio.sleep(SYNC_EVERY)
            try:
                await self.catalog.sync()
            except Exception as exc:  # the database is down: try again next time
                log.debug("cannot read the kept catalogs: %s", exc)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.jobs.stop()


def marketplace_state(skyport: PluginContext) -> MarketplaceState:
    """The state ``startup`` created; route handlers get ``skyport`` injected."""
    state: MarketplaceState = skyport.state["marketplace"]
    return state
