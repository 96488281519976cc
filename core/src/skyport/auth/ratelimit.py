"""Failed-login limiter: per (user, client) and per client, with a per-user backoff.

Refusals are keyed on the client, so nobody can lock another person out:

- a client that failed ``per_user`` times for one user within ``window``
  seconds is refused for that user until the oldest failure leaves the window;
- a client that failed ``per_client`` times, whichever users it tried, is
  refused altogether likewise;
- a user whose failures from all clients reach ``per_user`` is never locked:
  each further attempt waits first (half a second, doubling with each failure,
  at most :data:`MAX_BACKOFF`), which slows guessing from many addresses while
  the owner still gets in.

The failures are rows of ``login_failures`` (wall-clock times), so every server
of a cluster counts the same ones; rows older than the window are deleted as new
ones come.
"""

from __future__ import annotations

import math
import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from skyport.store import Database
from skyport.store.tables import login_failures

MAX_BACKOFF = 5.0
"""Seconds: the longest a login waits because of other clients' failures."""
FIRST_BACKOFF = 0.5


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; retry in {retry_after} s")
        self.retry_after = retry_after


class LoginLimiter:
    """Counts failures in a sliding window; see the module documentation.

    ``kind`` keeps the counts of two limiters apart (logins, password changes).
    """

    def __init__(
        self, database: Database, kind: str, per_user: int, per_client: int, window: float
    ) -> None:
        self.database = database
        self.kind = kind
        self.per_user = per_user
        self.per_client = per_client
        self.window = window

    async def check(self, username: str, client: str) -> float:
        """Raise :class:`TooManyAttempts` if this client must wait; else return the
        seconds this attempt should wait before the password is checked (the backoff)."""
        now = time.time()
        pair, by_client, by_user = self._keys(username, client)
        async with self.database.connect() as conn:
            wait = max(
                await self._wait(conn, pair, self.per_user, now),
                await self._wait(conn, by_client, self.per_client, now),
            )
            if wait > 0:
                raise TooManyAttempts(max(1, math.ceil(wait)))
            recent = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(login_failures)
                .where(login_failures.c.key == by_user, login_failures.c.at > now - self.window)
            )
        beyond = int(recent or 0) - self.per_user
        return 0.0 if beyond < 0 else min(MAX_BACKOFF, FIRST_BACKOFF * 2**beyond)

    async def failed(self, username: str, client: str) -> None:
        now = time.time()
        async with self.database.begin() as conn:
            await conn.execute(
                login_failures.delete().where(login_failures.c.at <= now - self.window)
            )
            await conn.execute(
                login_failures.insert(),
                [{"key": k, "at": now} for k in self._keys(username, client)],
            )

    async def succeeded(self, username: str, client: str) -> None:
        """Forget this client's failures for the user (the user's backoff ages out)."""
        pair = self._keys(username, client)[0]
        async with self.database.begin() as conn:
            await conn.execute(login_failures.delete().where(login_failures.c.key == pair))

    def _keys(self, username: str, client: str) -> tuple[str, str, str]:
        """The (user, client) pair's, the client's and the user's key, in that order."""
        user, where = username.lower()[:200], client[:200]
        return (
            f"{self.kind}:pair:{user}:{where}",
            f"{self.kind}:client:{where}",
            f"{self.kind}:user:{user}",
        )

    async def _wait(self, conn: AsyncConnection, key: str, limit: int, now: float) -> float:
        """Seconds until ``key`` has fewer than ``limit`` failures in the window."""
        oldest_counted = await conn.scalar(
            sa.select(login_failures.c.at)
            .where(login_failures.c.key == key, login_failures.c.at > now - self.window)
            .order_by(login_failures.c.at.desc())
            .limit(1)
            .offset(limit - 1)
        )
        return 0.0 if oldest_counted is None else oldest_counted + self.window - now
