"""Work that must run on one node at a time: leadership by PostgreSQL advisory lock.

Each role (``"core.prune"``, ``"marketplace.refresh"`` …) is a session-level
advisory lock. A node that takes a role's lock runs its work until it stops,
loses its connection or is killed; PostgreSQL releases the lock with the
connection, and the next node to try (every ``retry`` seconds) takes the role
over. On SQLite there is a single server: it runs every role itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("skyport.cluster")

Work = Callable[[], Awaitable[None]]


def lock_id(role: str) -> int:
    """The advisory lock key of a role: a signed 64-bit number taken from its name."""
    digest = hashlib.blake2b(f"skyport leader {role}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Leadership:
    """The roles this node may lead, and the ones it leads now."""

    def __init__(self, dsn: str | None, retry: float) -> None:
        self.dsn = dsn
        self.retry = retry
        self._roles: dict[str, Work] = {}
        self._running: dict[str, asyncio.Task[None]] = {}

    def add(self, role: str, work: Work) -> None:
        """Declare a role (before :meth:`run` starts)."""
        if role in self._roles:
            raise ValueError(f"leader role {role!r} is declared twice")
        self._roles[role] = work

    @property
    def held(self) -> list[str]:
        return sorted(r for r, task in self._running.items() if not task.done())

    async def run(self) -> None:
        """Take and keep roles until cancelled."""
        try:
            if self.dsn is None:
                for role in self._roles:
                    self._start(role)
                await asyncio.Event().wait()
            else:
                await self._contend(self.dsn)
        finally:
            await self._stop_all()

    async def _contend(self, dsn: str) -> None:
        import asyncpg

        said = False
        while True:
            try:
                conn = await asyncpg.connect(dsn, timeout=5)
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                if not said:
                    log.warning("leadership: cannot reach PostgreSQL (%s); retrying", exc)
                    said = True
                await asyncio.sleep(self.retry)
                continue
            said = False
            try:
                await self._hold(conn)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("leadership: connection lost (%s); giving up %s", exc, self.held)
            finally:
                await self._stop_all()
                conn.terminate()

    async def _hold(self, conn: Any) -> None:
        """Try for the roles not held, check the connection, and again every ``retry`` s."""
        while True:
            await conn.fetchval("SELECT 1", timeout=self.retry + 5)
            for role in self._roles:
                task = self._running.get(role)
                if task is not None and not task.done():
                    continue
                if task is not None:  # the work ended: give the role up, someone may retry
                    await conn.execute("SELECT pg_advisory_unlock($1)", lock_id(role))
                    del self._running[role]
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_id(role)):
                    log.info("leading %s", role)
                    self._start(role)
            await asyncio.sleep(self.retry)

    def _start(self, role: str) -> None:
        self._running[role] = asyncio.create_task(self._lead(role), name=f"leader:{role}")

    async def _lead(self, role: str) -> None:
        try:
            await self._roles[role]()
        except Exception:
            log.exception("the work of leader role %s failed", role)

    async def _stop_all(self) -> None:
        tasks = list(self._running.values())
        self._running.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def every(seconds: float, work: Work, what: str) -> None:
    """Run ``work`` now and then every ``seconds``, logging (not raising) its failures."""
    while True:
        try:
            await work()
        except Exception:
            log.exception("%s failed; trying again in %g s", what, seconds)
        await asyncio.sleep(seconds)
