"""Per-resource grants: which servers, stacks … of a kind a user may reach.

A user with no grant of a kind reaches every resource of that kind (within
their scopes); once they hold one grant of a kind, they reach only the
resources they were granted. Admins reach everything. Plugins ask through
:meth:`ResourceGrants.allows` and :meth:`ResourceGrants.visible`.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
import sqlalchemy as sa

from skyport.auth.principal import Principal
from skyport.store import Database
from skyport.store.tables import resource_grants, users


class Grant(msgspec.Struct, frozen=True):
    id: int
    username: str
    kind: str
    resource: str


class ResourceGrants:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def allowed(self, principal: Principal, kind: str) -> frozenset[str] | None:
        """The resources of ``kind`` the principal may reach; None means all."""
        if principal.is_admin:
            return None
        async with self.database.connect() as conn:
            rows = await conn.execute(
                sa.select(resource_grants.c.resource).where(
                    resource_grants.c.user_id == principal.user_id, resource_grants.c.kind == kind
                )
            )
            granted = frozenset(r.resource for r in rows)
        return granted or None

    async def allows(self, principal: Principal, kind: str, resource: str) -> bool:
        granted = await self.allowed(principal, kind)
        return granted is None or resource in granted

    async def visible(self, principal: Principal, kind: str, names: Iterable[str]) -> list[str]:
        """Filter ``names`` down to those the principal may see."""
        granted = await self.allowed(principal, kind)
        return [n for n in names if granted is None or n in granted]

    async def all(self, username: str | None = None) -> list[Grant]:
        query = sa.select(resource_grants, users.c.username).join(
            users, users.c.id == resource_grants.c.user_id
        )
        if username:
            query = query.where(users.c.username == username)
        async with self.database.connect() as conn:
            rows = await conn.execute(query.order_by(resource_grants.c.id))
            return [Grant(r.id, r.username, r.kind, r.resource) for r in rows]

    async def add(self, user_id: int, username: str, kind: str, resource: str) -> Grant:
        async with self.database.begin() as conn:
            existing = (
                await conn.execute(
                    sa.select(resource_grants.c.id).where(
                        resource_grants.c.user_id == user_id,
                        resource_grants.c.kind == kind,
                        resource_grants.c.resource == resource,
                    )
                )
            ).first()
            if existing:
                return Grant(existing.id, username, kind, resource)
            result = await conn.execute(
                resource_grants.insert().values(user_id=user_id, kind=kind, resource=resource)
            )
            new_id = result.inserted_primary_key[0] if result.inserted_primary_key else 0
        return Grant(int(new_id), username, kind, resource)

    async def remove(self, grant_id: int) -> bool:
        async with self.database.begin() as conn:
            result = await conn.execute(
                resource_grants.delete().where(resource_grants.c.id == grant_id)
            )
        return result.rowcount > 0
