"""The plugin's running state, kept in ``skyport.state["vps"]``."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from skyport.api import PluginContext
from skyport_vps.inventory import Inventory
from skyport_vps.jobs import JobStore
from skyport_vps.pool import Pool
from skyport_vps.settings import VpsSettings


@dataclass
class VpsState:
    skyport: PluginContext
    inventory: Inventory
    pool: Pool
    executor: ThreadPoolExecutor
    """Worker threads for blocking SSH work, ``max_parallel`` of them."""
    jobs: JobStore = field(default_factory=JobStore)
    reaper: asyncio.Task[None] | None = None

    @property
    def settings(self) -> VpsSettings:
        return self.skyport.settings

    @classmethod
    async def start(cls, skyport: PluginContext) -> VpsState:
        settings: VpsSettings = skyport.settings
        inventory = Inventory(skyport.database, skyport.secrets)
        await inventory.load()
        if moved := await inventory.reseal():
            skyport.logger.info("credentials of %s sealed with this release's key", moved)
        pool = Pool(settings, inventory.credentials, inventory.get)
        executor = ThreadPoolExecutor(settings.max_parallel, thread_name_prefix="vps")
        state = cls(skyport, inventory, pool, executor)
        state.reaper = asyncio.create_task(state._reap_idle())
        return state

    async def _reap_idle(self) -> None:
        """Close idle connections now and then (at most every 30 s)."""
        period = min(30.0, max(1.0, self.settings.idle_close / 2))
        while True:
            await asyncio.sleep(period)
            try:
                await asyncio.to_thread(self.pool.reap)
            except Exception:
                self.skyport.logger.exception("closing idle SSH connections failed")

    async def stop(self) -> None:
        if self.reaper is not None:
            self.reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reaper
        await asyncio.to_thread(self.pool.close)
        self.executor.shutdown(wait=False, cancel_futures=True)


def vps_state(skyport: PluginContext) -> VpsState:
    """The state ``startup`` created; route handlers get ``skyport`` injected."""
    return skyport.state["vps"]
