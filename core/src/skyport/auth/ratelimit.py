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

The counts live in this process (one per server of a cluster).
"""

from __future__ import annotations

import math
import time
from collections import deque

MAX_BACKOFF = 5.0
"""Seconds: the longest a login waits because of other clients' failures."""
FIRST_BACKOFF = 0.5
MAX_KEYS = 10_000
"""Past this many tracked keys, expired ones are swept out."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; retry in {retry_after} s")
        self.retry_after = retry_after


class LoginLimiter:
    """Counts failures in a sliding window; see the module documentation."""

    def __init__(self, per_user: int, per_client: int, window: float) -> None:
        self.per_user = per_user
        self.per_client = per_client
        self.window = window
        self._failures: dict[tuple[str, ...], deque[float]] = {}

    def check(self, username: str, client: str) -> float:
        """Raise :class:`TooManyAttempts` if this client must wait; else return the
        seconds this attempt should wait before the password is checked (the backoff)."""
        now = time.monotonic()
        user = username.lower()
        wait = max(
            self._wait(("pair", user, client), self.per_user, now),
            self._wait(("client", client), self.per_client, now),
        )
        if wait > 0:
            raise TooManyAttempts(max(1, math.ceil(wait)))
        beyond = len(self._recent(("user", user), now)) - self.per_user
        return 0.0 if beyond < 0 else min(MAX_BACKOFF, FIRST_BACKOFF * 2**beyond)

    def failed(self, username: str, client: str) -> None:
        now = time.monotonic()
        user = username.lower()
        if len(self._failures) > MAX_KEYS:
            self._sweep(now)
        for key in (("pair", user, client), ("client", client), ("user", user)):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str, client: str) -> None:
        """Forget this client's failures for the user (the user's backoff ages out)."""
        self._failures.pop(("pair", username.lower(), client), None)

    def _wait(self, key: tuple[str, ...], limit: int, now: float) -> float:
        failures = self._recent(key, now)
        if len(failures) < limit:
            return 0.0
        return failures[-limit] + self.window - now

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def _sweep(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
