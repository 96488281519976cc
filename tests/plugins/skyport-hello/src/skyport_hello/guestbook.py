"""The guest book: the plugin's "backend".

A real plugin keeps its adapter here (a Docker client, an SSH pool); the
hooks and the routes only call it. This one lives in memory.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from skyport.api import PluginContext

from skyport_hello.models import Greeting, GuestbookStats

TOPIC = "hello.guests"
"""WebSocket topic on which every new signature is published."""


class Guestbook:
    """Greets people and remembers the last hundred who signed."""

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport
        self._signed: deque[Greeting] = deque(maxlen=100)
        self._count = 0
        self._lock = threading.Lock()  # the collector runs in a worker thread

    @classmethod
    def of(cls, skyport: PluginContext) -> Guestbook:
        """The application's guest book, kept in the plugin's ``state``."""
        book = skyport.state.get("guestbook")
        if book is None:
            book = skyport.state["guestbook"] = cls(skyport)
        return book

    def greet(self, name: str) -> Greeting:
        return Greeting(name, f"{self.skyport.settings.greeting}, {name}!", time.time())

    def sign(self, name: str) -> Greeting:
        greeting = self.greet(name)
        with self._lock:
            self._signed.appendleft(greeting)
            self._count += 1
        self.skyport.publish(TOPIC, greeting)
        return greeting

    def signatures(self) -> list[Greeting]:
        """Everyone who signed, newest first."""
        with self._lock:
            return list(self._signed)

    def stats(self) -> GuestbookStats:
        with self._lock:
            return GuestbookStats(self._count, len({g.name for g in self._signed}))
