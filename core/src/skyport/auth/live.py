"""Long-lived connections (``/ws``, terminals) end when their credential stops working.

Every open WebSocket registers its principal with :class:`LiveSessions`. Every
``interval`` seconds — and at once after a revocation made through this server —
the sessions and API tokens behind them are read again from the database, in one
query per kind: a connection whose session was logged out or revoked, whose token
was revoked or expired, whose user was disabled or deleted, is ended with
:data:`CLOSE_REVOKED`; one whose scopes shrank (a role change) with
:data:`CLOSE_CHANGED`. Reading the shared database makes this reach the connections
of every server of a cluster; a revocation made on another node arrives at once over
PostgreSQL ``NOTIFY`` (:mod:`skyport.cluster.member` calls :meth:`LiveSessions.wake`),
the polling staying as the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from skyport.auth.principal import Principal
from skyport.auth.service import credential_key

if TYPE_CHECKING:
    from skyport.auth.service import AuthService

log = logging.getLogger("skyport.auth")

CLOSE_REVOKED = 4401
"""WebSocket close code: the session or token behind the connection no longer works."""
CLOSE_CHANGED = 4403
"""WebSocket close code: the user lost scopes; reconnecting gives the current ones."""


@dataclass(eq=False)
class LiveConnection:
    """One open connection: who is behind it now, and whether it must end."""

    principal: Principal
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    code: int = 0
    reason: str = ""

    def end(self, code: int, reason: str) -> None:
        if not self.ended.is_set():
            self.code, self.reason = code, reason
            self.ended.set()


class LiveSessions:
    """The open connections of this server, kept in step with their credentials."""

    def __init__(self, auth: AuthService, interval: float) -> None:
        self.auth = auth
        self.interval = interval
        self._connections: set[LiveConnection] = set()
        self._wake = asyncio.Event()
        auth.on_change.append(self.wake)

    @contextlib.contextmanager
    def track(self, principal: Principal) -> Iterator[LiveConnection]:
        """Follow a connection for as long as the ``with`` block lasts."""
        connection = LiveConnection(principal)
        self._connections.add(connection)
        try:
            yield connection
        finally:
            self._connections.discard(connection)

    def wake(self) -> None:
        """Check every connection now rather than at the next interval."""
        self._wake.set()

    async def refresh(self, connection: LiveConnection) -> Principal | None:
        """Read ``connection``'s principal again now; ``None`` if it has been ended."""
        await self._check([connection])
        return None if connection.ended.is_set() else connection.principal

    async def run(self) -> None:
        """Check the connections, and the credentials cached for HTTP requests
        (:meth:`AuthService.revalidate`), every ``interval`` seconds, or when woken."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.auth.revalidate()
                if self._connections:
                    await self._check(list(self._connections))
            except Exception:  # the database is down: keep the connections, try again
                log.exception("cannot check the credentials of open connections")

    async def _check(self, connections: list[LiveConnection]) -> None:
        current = await self.auth.recheck(c.principal for c in connections)
        for connection in connections:
            now = current.get(credential_key(connection.principal))
            if now is None:
                connection.end(CLOSE_REVOKED, "session ended or revoked; log in again")
            elif not now.is_admin and (
                connection.principal.is_admin or not now.scopes >= connection.principal.scopes
            ):
                connection.end(CLOSE_CHANGED, "your permissions changed; reconnect")
            else:
                connection.principal = now
