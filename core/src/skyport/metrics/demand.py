"""Who wants a collector's costly details right now.

A collector can hold a :class:`Demand` (``MetricsCollector.details``) and read
its expensive part (the host's process table) only while :attr:`Demand.wanted`:
while a WebSocket client follows the topic ``metrics.details:<collector>``, or
for :attr:`Demand.linger` seconds after someone asked once
(``GET /api/metrics?details=<collector>``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable


class Demand:
    """Listeners and one-off asks for a collector's details; read from any thread."""

    def __init__(self, linger: float = 10.0) -> None:
        self.linger = linger
        self._listeners = 0
        self._asked = -float("inf")

    @property
    def wanted(self) -> bool:
        """Whether the next sample should include the details."""
        return self._listeners > 0 or time.monotonic() - self._asked < self.linger

    @property
    def asked_at(self) -> float:
        """``time.monotonic()`` of the last one-off ask (``-inf`` when never)."""
        return self._asked

    def ask(self) -> None:
        """Want the details for the next :attr:`linger` seconds."""
        self._asked = time.monotonic()

    async def listen(self, topic: str) -> Callable[[], Awaitable[None]]:
        """Want the details until the returned coroutine function is called.

        Fits ``Broker.add_topic(..., starter=demand.listen)``.
        """
        self._listeners += 1
        released = False

        async def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._listeners -= 1

        return release
