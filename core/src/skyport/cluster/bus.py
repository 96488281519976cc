"""Messages between the nodes: PostgreSQL ``LISTEN``/``NOTIFY`` on one channel.

Every node listens on :data:`CHANNEL` over one connection of its own and sends
on it too. A message is ``"<kind> <node>\\n<body>"``: live events (the frame a
WebSocket client receives), which topics the node's clients follow, and "a
credential was revoked". A node ignores its own messages. PostgreSQL delivers
notifications in the order they were committed; a body larger than a NOTIFY may
carry (8000 bytes) goes into ``cluster_events`` and the notification names its row.

When the connection drops the bus reconnects by itself (waiting up to 5 s between
tries); what was sent meanwhile is lost, which is why revocation keeps its polling
and interest is announced again on every heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from skyport.store import Database
from skyport.store.tables import cluster_events

log = logging.getLogger("skyport.cluster")

CHANNEL = "skyport_cluster"
MAX_NOTIFY_BYTES = 7900
"""Bodies above this go through ``cluster_events`` (PostgreSQL's limit is 8000)."""
MAX_PENDING = 10_000
"""Messages waiting to be sent; past this, new ones are dropped (and said so in the log)."""
KEEPALIVE = 5.0
"""Seconds without sending after which the connection is tried with ``SELECT 1``."""
BATCH = 200

EVENT, INTEREST, REVOKED, HELLO, STORED = "e", "i", "r", "h", "x"


@dataclass
class BusHandlers:
    """What the node does with what the others say."""

    event: Callable[[str], None]
    """A frame published on another node."""
    interest: Callable[[str, str], None]
    """A node's list of followed topics (JSON)."""
    revoked: Callable[[], None]
    hello: Callable[[str], None]
    """A node (re)joined: it wants everyone's interest now."""
    connected: Callable[[], None]
    """The bus (re)connected: messages may have been missed meanwhile."""


class ClusterBus:
    def __init__(self, dsn: str, node: str, database: Database, handlers: BusHandlers) -> None:
        self.dsn = dsn
        self.node = node
        self.database = database
        self.handlers = handlers
        self.up = asyncio.Event()
        self._out: asyncio.Queue[str] = asyncio.Queue(MAX_PENDING)
        self._in: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
        self._dropped = 0

    def send(self, kind: str, body: str = "") -> None:
        """Queue a message for the other nodes (from the event loop's thread)."""
        if not self.up.is_set() and kind == EVENT:
            return  # nobody would get it; what matters is said again on reconnecting
        try:
            self._out.put_nowait(f"{kind} {self.node}\n{body}")
        except asyncio.QueueFull:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log.warning("cluster bus: %d messages dropped (PostgreSQL too slow)", self._dropped)

    async def run(self) -> None:
        """Connect, listen and send until cancelled, reconnecting when the connection drops."""
        import asyncpg

        handling = asyncio.create_task(self._handle_incoming())
        wait, said = 0.5, False
        try:
            while True:
                try:
                    conn = await asyncpg.connect(self.dsn, timeout=5)
                except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                    if not said:
                        log.warning("cluster bus: cannot reach PostgreSQL (%s); retrying", exc)
                        said = True
                    await asyncio.sleep(wait)
                    wait = min(5.0, wait * 2)
                    continue
                wait, said = 0.5, False
                try:
                    await self._serve(conn)
                except (
                    OSError,
                    TimeoutError,
                    asyncpg.PostgresError,
                    asyncpg.InterfaceError,
                ) as exc:
                    log.warning("cluster bus: connection lost (%s); reconnecting", exc)
                finally:
                    self.up.clear()
                    conn.terminate()
        finally:
            handling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await handling

    async def _serve(self, conn: Any) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, self._heard)
        self.up.set()
        self.send(HELLO)
        self.handlers.connected()
        sending = asyncio.create_task(self._send_all(conn))
        ended = asyncio.create_task(lost.wait())
        try:
            await asyncio.wait({sending, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sending, ended):
                task.cancel()
        if sending.done() and not sending.cancelled() and (error := sending.exception()):
            raise error
        raise ConnectionError("PostgreSQL closed the connection")

    async def _send_all(self, conn: Any) -> None:
        while True:
            try:
                first = await asyncio.wait_for(self._out.get(), KEEPALIVE)
            except TimeoutError:
                await conn.fetchval("SELECT 1", timeout=KEEPALIVE)
                continue
            batch = [first]
            while len(batch) < BATCH and not self._out.empty():
                batch.append(self._out.get_nowait())
            payloads = [await self._fitting(message) for message in batch]
            await conn.execute(
                "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", CHANNEL, payloads
            )

    async def _fitting(self, message: str) -> str:
        """The message, or a reference to the row that holds it when it is too large."""
        if len(message) * 4 <= MAX_NOTIFY_BYTES or len(message.encode()) <= MAX_NOTIFY_BYTES:
            return message
        async with self.database.begin() as conn:
            row_id = await conn.scalar(
                cluster_events.insert()
                .values(at=time.time(), payload=message)
                .returning(cluster_events.c.id)
            )
        return f"{STORED} {self.node}\n{row_id}"

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        head, _, body = payload.partition("\n")
        kind, _, node = head.partition(" ")
        if node != self.node:
            self._in.put_nowait((kind, node, body))

    async def _handle_incoming(self) -> None:
        while True:
            kind, node, body = await self._in.get()
            try:
                if kind == STORED:
                    kind, node, body = await self._stored(int(body))
                self._dispatch(kind, node, body)
            except Exception:
                log.exception("cluster bus: cannot handle a %r message from %s", kind, node)

    async def _stored(self, row_id: int) -> tuple[str, str, str]:
        async with self.database.connect() as conn:
            message = await conn.scalar(
                sa.select(cluster_events.c.payload).where(cluster_events.c.id == row_id)
            )
        head, _, body = (message or "? ?\n").partition("\n")
        kind, _, node = head.partition(" ")
        return kind, node, body

    def _dispatch(self, kind: str, node: str, body: str) -> None:
        if kind == EVENT:
            self.handlers.event(body)
        elif kind == INTEREST:
            self.handlers.interest(node, body)
        elif kind == REVOKED:
            self.handlers.revoked()
        elif kind == HELLO:
            self.handlers.hello(node)


async def prune_stored(database: Database, older_than: float = 300.0) -> None:
    """Delete oversize events every node has had time to read."""
    async with database.begin() as conn:
        await conn.execute(
            cluster_events.delete().where(cluster_events.c.at < time.time() - older_than)
        )
