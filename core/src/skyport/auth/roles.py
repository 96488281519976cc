"""Roles are named sets of scopes: three built in, any number custom."""

from __future__ import annotations

import msgspec
import sqlalchemy as sa

from skyport.auth.principal import ALL_SCOPES
from skyport.registry import Registry
from skyport.store import Database
from skyport.store.tables import roles

BUILTIN_ROLES = {
    "admin": "Everything, including users, roles and root-equivalent powers",
    "operator": "Read and change everything; no user management or shells",
    "viewer": "Read only",
}


class Role(msgspec.Struct, frozen=True):
    name: str
    description: str
    scopes: list[str]
    builtin: bool = False


class UnknownScopes(ValueError):
    pass


class RoleBook:
    """Resolves role names to scopes and stores custom roles."""

    def __init__(self, database: Database, registry: Registry) -> None:
        self.database = database
        self.registry = registry

    def builtin_scopes(self, name: str) -> frozenset[str] | None:
        if name == "admin":
            return frozenset({ALL_SCOPES})
        if name == "operator":
            return self.registry.scopes_at("read", "write")
        if name == "viewer":
            return self.registry.scopes_at("read")
        return None

    async def scopes(self, name: str) -> frozenset[str]:
        """The scopes of role ``name``; an unknown role has none."""
        builtin = self.builtin_scopes(name)
        if builtin is not None:
            return builtin
        async with self.database.connect() as conn:
            row = (
                await conn.execute(sa.select(roles.c.scopes).where(roles.c.name == name))
            ).first()
        return frozenset(row.scopes) if row else frozenset()

    async def all(self) -> list[Role]:
        result = [
            Role(name, text, sorted(self.builtin_scopes(name) or ()), builtin=True)
            for name, text in BUILTIN_ROLES.items()
        ]
        async with self.database.connect() as conn:
            rows = await conn.execute(sa.select(roles).order_by(roles.c.name))
            result += [Role(r.name, r.description, sorted(r.scopes)) for r in rows]
        return result

    async def get(self, name: str) -> Role | None:
        return next((r for r in await self.all() if r.name == name), None)

    async def exists(self, name: str) -> bool:
        return await self.get(name) is not None

    def check_scopes(self, scopes: list[str]) -> None:
        unknown = sorted(set(scopes) - set(self.registry.permissions))
        if unknown:
            raise UnknownScopes(
                f"unknown scope(s): {', '.join(unknown)}; known: "
                + ", ".join(sorted(self.registry.permissions))
            )

    async def save(self, name: str, description: str, scopes: list[str]) -> Role:
        """Create or replace custom role ``name``."""
        self.check_scopes(scopes)
        chosen = sorted(set(scopes))
        values = {"description": description, "scopes": chosen}
        async with self.database.begin() as conn:
            updated = await conn.execute(roles.update().where(roles.c.name == name).values(values))
            if updated.rowcount == 0:
                await conn.execute(roles.insert().values(name=name, **values))
        return Role(name, description, chosen)

    async def delete(self, name: str) -> bool:
        async with self.database.begin() as conn:
            deleted = await conn.execute(roles.delete().where(roles.c.name == name))
        return deleted.rowcount > 0
