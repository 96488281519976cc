"""The audit log: every mutating request, every denial and every terminal session — who,
what, when, result.

Failures can come in floods (password guessing, a script hammering a route it may not
use), so they are recorded with :meth:`AuditLog.record_repeated`: the first of a kind
is written at once, the same one again within :data:`REPEAT_WINDOW` seconds is only
counted, and one row at the end of the window says how many more there were. Nobody
can grow the database by failing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa

from skyport.store import Database
from skyport.store.tables import audit_log


class AuditEntry(msgspec.Struct, frozen=True):
    id: int
    at: float
    username: str
    action: str
    target: str
    result: str
    client: str


class AuditPage(msgspec.Struct, frozen=True):
    items: list[AuditEntry]
    total: int
    limit: int
    offset: int


log = logging.getLogger("skyport.audit")

TOPIC = "audit"
"""The live feed of new entries (WebSocket, scope ``audit:read``)."""
REPEAT_WINDOW = 60.0
MAX_REPEAT_KEYS = 10_000
"""Past this many kinds of failure being counted, all counts are written out at once."""


@dataclass
class _Repeats:
    """Failures of one kind seen since ``since`` (monotonic) and not yet written."""

    since: float
    entry: tuple[str, str, str, str, str]
    """username, action, target, result, client of the first one."""
    count: int = 0


class AuditLog:
    """Writes the audit log, and publishes each entry on the admins' live topic ``audit``
    (``publish``: the broker's, so every node of a cluster sees every node's entries)."""

    def __init__(
        self,
        database: Database,
        repeat_window: float = REPEAT_WINDOW,
        publish: Callable[[str, Any], None] | None = None,
    ) -> None:
        self.database = database
        self.repeat_window = repeat_window
        self.publish = publish
        self._repeats: dict[tuple[str, ...], _Repeats] = {}

    async def record(
        self, username: str, action: str, target: str = "", result: str = "ok", client: str = ""
    ) -> None:
        values: dict[str, Any] = {
            "at": time.time(),
            "username": username[:64],
            "action": action[:255],
            "target": target[:512],
            "result": result[:255],
            "client": client[:128],
        }
        async with self.database.begin() as conn:
            entry_id = await conn.scalar(
                audit_log.insert().values(values).returning(audit_log.c.id)
            )
        if self.publish is not None:
            self.publish(TOPIC, AuditEntry(id=int(entry_id), **values))

    async def record_repeated(
        self,
        username: str,
        action: str,
        target: str = "",
        result: str = "failed",
        client: str = "",
        *,
        key: tuple[str, ...] | None = None,
    ) -> None:
        """Record a failure, folding repeats of it (same ``key``, by default every field)
        within the window into one row written when the window ends."""
        await self.flush()
        key = key or (username, action, target, result, client)
        if (seen := self._repeats.get(key)) is not None:
            seen.count += 1
            return
        if len(self._repeats) >= MAX_REPEAT_KEYS:
            await self.flush(everything=True)
        self._repeats[key] = _Repeats(time.monotonic(), (username, action, target, result, client))
        await self.record(username, action, target, result, client)

    async def flush(self, *, everything: bool = False) -> None:
        """Write the counts of windows that ended (``everything``: of all windows)."""
        cutoff = time.monotonic() - self.repeat_window
        ended = [k for k, seen in self._repeats.items() if everything or seen.since <= cutoff]
        done = [self._repeats.pop(key) for key in ended]  # before any await: no double writes
        for seen in done:
            if seen.count:
                username, action, target, result, client = seen.entry
                many = f"{result} (and {seen.count} more like it within {self.repeat_window:g} s)"
                await self.record(username, action, target, many, client)

    async def keep_flushing(self) -> None:
        """Write repeat counts as their windows end (runs for the server's lifetime)."""
        while True:
            await asyncio.sleep(self.repeat_window / 4)
            try:
                await self.flush()
            except Exception:  # the database is down: the counts wait for the next round
                log.exception("cannot write repeated audit events")

    async def page(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        username: str | None = None,
        action: str | None = None,
    ) -> AuditPage:
        where = []
        if username:
            where.append(audit_log.c.username == username)
        if action:
            where.append(audit_log.c.action.contains(action, autoescape=True))
        async with self.database.connect() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                sa.select(audit_log)
                .where(*where)
                .order_by(audit_log.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            items = [
                AuditEntry(r.id, r.at, r.username, r.action, r.target, r.result, r.client)
                for r in rows
            ]
        return AuditPage(items, int(total), limit, offset)
