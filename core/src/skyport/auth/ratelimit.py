"""Failed-login limiter: a sliding window per user name and per client address."""

from __future__ import annotations

import math
import time
from collections import deque


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after


class LoginLimiter:
    """Refuses logins for a key that failed ``limit`` times within ``window`` seconds."""

    def __init__(self, per_user: int, per_client: int, window: float) -> None:
        self.limits = {"user": per_user, "client": per_client}
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def check(self, username: str, client: str) -> None:
        """Raise :class:`TooManyAttempts` if either key is over its limit."""
        now = time.monotonic()
        waits = [
            self._wait(("user", username.lower()), now),
            self._wait(("client", client), now),
        ]
        if (wait := max(waits)) > 0:
            raise TooManyAttempts(max(1, math.ceil(wait)))

    def failed(self, username: str, client: str) -> None:
        now = time.monotonic()
        for key in (("user", username.lower()), ("client", client)):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(("user", username.lower()), None)

    def _wait(self, key: tuple[str, str], now: float) -> float:
        failures = self._failures.get(key)
        if not failures:
            return 0.0
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0.0
        if len(failures) < self.limits[key[0]]:
            return 0.0
        return failures[0] + self.window - now
