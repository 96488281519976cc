"""This server as a node of the cluster: registered, heartbeating, wired to the others.

A node registers in ``cluster_nodes`` and heartbeats every
``cluster.heartbeat_seconds``; on PostgreSQL it also joins the bus (live events,
followed topics, revocations: :mod:`skyport.cluster.bus`) and contends for the
leader roles (:mod:`skyport.cluster.leader`). Only ``skyport serve`` makes a node:
the CLI's in-process server and test apps share the database without joining.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import TYPE_CHECKING

import msgspec
import sqlalchemy as sa

from skyport import __version__
from skyport.cluster.bus import EVENT, INTEREST, REVOKED, BusHandlers, ClusterBus, prune_stored
from skyport.cluster.leader import Leadership, every
from skyport.cluster.nodes import NodeBook
from skyport.store.tables import sessions

if TYPE_CHECKING:
    from skyport.auth.live import LiveSessions
    from skyport.auth.service import AuthService
    from skyport.broker import Broker
    from skyport.config import Settings
    from skyport.store import Database

log = logging.getLogger("skyport.cluster")

PRUNE_EVERY = 300.0
"""Seconds between two rounds of the leader's housekeeping."""
EXPIRED_SESSIONS_KEPT = 7 * 24 * 3600.0
"""Seconds an expired or revoked session's row is kept (then deleted)."""


def node_name(settings: Settings) -> str:
    """This node's name: ``cluster.node_name``, else the host name."""
    return settings.cluster.node_name or socket.gethostname().split(".")[0][:64] or "skyport"


def advertised_url(settings: Settings) -> str:
    """How the other nodes reach this one."""
    if settings.cluster.advertise_url:
        return settings.cluster.advertise_url.rstrip("/")
    server = settings.server
    host = server.host if server.host not in ("0.0.0.0", "::", "") else socket.getfqdn()  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if server.certfile else 'http'}://{host}:{server.port}"


def asyncpg_dsn(database_url: str) -> str | None:
    """The DSN asyncpg takes for a PostgreSQL database URL; ``None`` for another database."""
    url = sa.make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class ClusterMember:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        nodes: NodeBook,
        broker: Broker,
        auth: AuthService,
        live_sessions: LiveSessions,
        leadership: Leadership,
        manages: dict[str, str],
    ) -> None:
        self.settings = settings.cluster
        self.database = database
        self.nodes = nodes
        self.broker = broker
        self.auth = auth
        self.live_sessions = live_sessions
        self.manages = manages
        """What this node drives itself, by plugin (told by plugins at startup)."""
        self.leadership = leadership
        leadership.add("core.housekeeping", lambda: every(PRUNE_EVERY, self._prune, "housekeeping"))
        dsn = asyncpg_dsn(database.url)
        self.bus: ClusterBus | None = None
        self._heard_from: dict[str, float] = {}
        self._interest_said: list[str] | None = None
        if dsn is not None:
            handlers = BusHandlers(
                event=broker.deliver_frame,
                interest=self._remote_interest,
                revoked=self._revoked_elsewhere,
                hello=lambda _node: self._announce(force=True),
                connected=self._reconnected,
            )
            self.bus = ClusterBus(dsn, nodes.name, database, handlers)
            bus = self.bus
            broker.relay = lambda frame: bus.send(EVENT, frame)
            broker.on_followed_change = self._announce
            auth.on_change.append(lambda: bus.send(REVOKED))

    async def join(self, plugins: list[str]) -> None:
        """Register this node (raises :class:`~skyport.cluster.nodes.NameTaken`)."""
        await self.nodes.register(__version__, plugins, self.manages, self.leadership.held)

    async def run(self) -> None:
        """Heartbeat and bus, until cancelled (the app runs the leadership)."""
        bus = asyncio.create_task(self.bus.run(), name="cluster:bus") if self.bus else None
        try:
            await self._heartbeat()
        finally:
            if bus is not None:
                bus.cancel()
                await asyncio.gather(bus, return_exceptions=True)

    async def leave(self) -> None:
        """Say this node stopped (so it shows down at once)."""
        with contextlib.suppress(Exception):
            await self.nodes.stopped()

    async def _heartbeat(self) -> None:
        said = False
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            try:
                await self.nodes.heartbeat(self.manages, self.leadership.held)
            except Exception as exc:
                if not said:
                    log.warning("cannot heartbeat (%s); the database is unavailable?", exc)
                    said = True
            else:
                said = False
            self._announce(force=True)
            await self._forget_silent()

    # -- followed topics -------------------------------------------------------------

    def _announce(self, force: bool = False) -> None:
        if self.bus is None:
            return
        followed = self.broker.followed()
        if force or followed != self._interest_said:
            self._interest_said = followed
            self.bus.send(INTEREST, msgspec.json.encode(followed).decode())

    def _remote_interest(self, node: str, body: str) -> None:
        self._heard_from[node] = time.monotonic()
        topics = frozenset(msgspec.json.decode(body, type=list[str]))
        asyncio.get_running_loop().create_task(self.broker.set_remote_interest(node, topics))

    async def _forget_silent(self) -> None:
        """A node silent for longer than the down timeout follows nothing any more."""
        cutoff = time.monotonic() - self.settings.down_after_seconds
        for node in self.broker.remote_nodes():
            if self._heard_from.get(node, 0.0) < cutoff:
                self._heard_from.pop(node, None)
                await self.broker.set_remote_interest(node, frozenset())

    # -- revocations --------------------------------------------------------------------

    def _revoked_elsewhere(self) -> None:
        self.auth.forget_cached()
        self.live_sessions.wake()

    def _reconnected(self) -> None:
        """Revocations may have been missed while the bus was away: check now."""
        self._revoked_elsewhere()
        self._announce(force=True)

    # -- the leader's housekeeping -----------------------------------------------------

    async def _prune(self) -> None:
        cutoff = time.time() - EXPIRED_SESSIONS_KEPT
        async with self.database.begin() as conn:
            await conn.execute(
                sessions.delete().where(
                    sa.or_(sessions.c.expires_at < cutoff, sessions.c.revoked_at < cutoff)
                )
            )
        await prune_stored(self.database)
        await self.nodes.forget_old()
