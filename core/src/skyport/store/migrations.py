"""The core's schema migrations and the runner shared with plugins.

Each component (``core`` and every plugin with a ``register_migrations``
hook) has an ordered list of :class:`~skyport.types.Migration`. Applied ids
are recorded in ``schema_migrations``; start-up applies the missing ones in
order, each in its own transaction, so an upgrade never redoes or loses
anything.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from skyport.store import tables
from skyport.types import Migration

_applied = sa.Table(
    "schema_migrations",
    sa.MetaData(),
    sa.Column("component", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("applied_at", sa.Float, nullable=False),
)


def _create_core_tables(conn: Connection) -> None:
    # Version 1 of the schema is tables.py as first released. A later schema
    # change adds a migration here (ALTER TABLE …) and updates tables.py.
    tables.metadata.create_all(conn)


CORE_MIGRATIONS: Sequence[Migration] = (
    Migration(id="0001_initial", upgrade=_create_core_tables, description="users, auth, audit"),
)


async def apply_migrations(
    engine: AsyncEngine, components: Mapping[str, Sequence[Migration]]
) -> list[str]:
    """Apply every missing migration; return ``component:id`` of those applied."""
    async with engine.begin() as conn:
        await conn.run_sync(_applied.metadata.create_all)
        rows = await conn.execute(sa.select(_applied.c.component, _applied.c.id))
        done = {(r.component, r.id) for r in rows}
    applied = []
    for component, migrations in components.items():
        for migration in migrations:
            if (component, migration.id) in done:
                continue
            async with engine.begin() as conn:
                await conn.run_sync(migration.upgrade)
                await conn.execute(
                    _applied.insert().values(
                        component=component, id=migration.id, applied_at=time.time()
                    )
                )
            applied.append(f"{component}:{migration.id}")
    return applied
