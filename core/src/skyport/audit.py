"""The audit log: every mutating request and every terminal session, who, what, when, result."""

from __future__ import annotations

import time

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


class AuditLog:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def record(
        self, username: str, action: str, target: str = "", result: str = "ok", client: str = ""
    ) -> None:
        async with self.database.begin() as conn:
            await conn.execute(
                audit_log.insert().values(
                    at=time.time(),
                    username=username[:64],
                    action=action[:255],
                    target=target[:512],
                    result=result[:255],
                    client=client[:128],
                )
            )

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
