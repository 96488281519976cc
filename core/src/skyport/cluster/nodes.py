"""The nodes sharing the database: each registers itself and heartbeats in ``cluster_nodes``.

A node is *up* while its last heartbeat is younger than ``cluster.down_after_seconds``
and it has not said it stopped; otherwise it is *down* (and left out of ``?node=all``).
Rows of nodes down for longer than :data:`FORGET_AFTER` are deleted by the leader.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from skyport.store import Database
from skyport.store.tables import cluster_nodes

log = logging.getLogger("skyport.cluster")

FORGET_AFTER = 24 * 3600.0
"""Seconds a node may stay down before it leaves the list."""

NodeState = Literal["up", "down"]


class NodeInfo(msgspec.Struct, frozen=True):
    """One node as ``GET /api/nodes`` and ``skyport nodes`` show it."""

    name: str
    url: str
    state: NodeState
    version: str
    plugins: list[str]
    manages: dict[str, str]
    """What the node drives itself, by plugin (its Docker engine, its PM2 home …)."""
    roles: list[str]
    """The run-once work it leads now (see :mod:`skyport.cluster.leader`)."""
    started_at: float
    heartbeat_at: float
    this: bool = False
    """The node that answered."""


class NameTaken(Exception):
    """Another running node already uses this name."""


class NodeBook:
    """This node's row, and everyone's."""

    def __init__(self, database: Database, name: str, url: str, down_after: float) -> None:
        self.database = database
        self.name = name
        self.url = url
        self.down_after = down_after

    async def register(
        self, version: str, plugins: list[str], manages: dict[str, str], roles: list[str]
    ) -> None:
        """Write this node's row; refuse a name another live node at another address holds."""
        now = time.time()
        async with self.database.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(cluster_nodes).where(cluster_nodes.c.name == self.name)
                )
            ).first()
            if (
                row is not None
                and row.url != self.url
                and _state(row, now, self.down_after) == "up"
            ):
                raise NameTaken(
                    f"node name {self.name!r} is taken by a running node at {row.url} "
                    f"(heartbeat {now - row.heartbeat_at:.0f} s ago); give this one another "
                    "name (cluster.node_name, SKYPORT_NODE_NAME)"
                )
            values = {
                "url": self.url,
                "version": version,
                "plugins": plugins,
                "manages": manages,
                "roles": roles,
                "started_at": now,
                "heartbeat_at": now,
                "stopped_at": None,
            }
            await conn.execute(_upsert(conn.dialect.name, self.name, values))

    async def heartbeat(self, manages: dict[str, str], roles: list[str]) -> None:
        values = {
            "heartbeat_at": time.time(),
            "manages": manages,
            "roles": roles,
            "stopped_at": None,
        }
        async with self.database.begin() as conn:
            await conn.execute(
                cluster_nodes.update().where(cluster_nodes.c.name == self.name).values(**values)
            )

    async def stopped(self) -> None:
        """Say this node stopped (it shows down at once rather than after the timeout)."""
        async with self.database.begin() as conn:
            await conn.execute(
                cluster_nodes.update()
                .where(cluster_nodes.c.name == self.name)
                .values(stopped_at=time.time(), roles=[])
            )

    async def all(self) -> list[NodeInfo]:
        now = time.time()
        async with self.database.connect() as conn:
            rows = await conn.execute(sa.select(cluster_nodes).order_by(cluster_nodes.c.name))
            return [self._info(row, now) for row in rows]

    async def get(self, name: str) -> NodeInfo | None:
        return next((n for n in await self.all() if n.name == name), None)

    async def forget_old(self) -> int:
        """Delete the rows of nodes down for longer than :data:`FORGET_AFTER`."""
        cutoff = time.time() - FORGET_AFTER
        async with self.database.begin() as conn:
            result = await conn.execute(
                cluster_nodes.delete().where(cluster_nodes.c.heartbeat_at < cutoff)
            )
        return int(result.rowcount or 0)

    def _info(self, row: Any, now: float) -> NodeInfo:
        return NodeInfo(
            name=row.name,
            url=row.url,
            state=_state(row, now, self.down_after),
            version=row.version,
            plugins=list(row.plugins),
            manages=dict(row.manages),
            roles=list(row.roles),
            started_at=row.started_at,
            heartbeat_at=row.heartbeat_at,
            this=row.name == self.name,
        )


def _state(row: Any, now: float, down_after: float) -> NodeState:
    alive = row.stopped_at is None and now - row.heartbeat_at < down_after
    return "up" if alive else "down"


def _upsert(dialect: str, name: str, values: dict[str, Any]) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(cluster_nodes)
        .values(name=name, **values)
        .on_conflict_do_update(index_elements=["name"], set_=values)
    )
