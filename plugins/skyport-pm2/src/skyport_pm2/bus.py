"""The daemon's event bus (axon PUB/SUB over ``$PM2_HOME/pub.sock``), read while someone listens.

Each message is ``s:<topic>``, ``j:<data>``; there is no subscription
handshake, every subscriber gets every topic. :class:`EventBus` keeps one
connection for all its listeners: it connects when the first one is added
and disconnects when the last one leaves. When the daemon goes away (killed,
restarted) it tells the listeners (topic :data:`DISCONNECTED`) and keeps
trying, with a growing pause, until it is back (:data:`CONNECTED`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skyport_pm2 import amp

log = logging.getLogger("skyport.pm2")

Listener = Callable[[str, Any], None]
CONNECTED = "skyport:connected"
DISCONNECTED = "skyport:disconnected"
RETRY_PAUSES = (0.1, 0.25, 0.5, 1.0, 2.0)
READ_CHUNK = 256 * 1024
RESYNC_WAIT = 2.0


class EventBus:
    """Fans the daemon's bus out to listeners, ``listener(topic, data)``, on the event loop."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.connected = asyncio.Event()
        self.tried = asyncio.Event()
        """Set once the first attempt to connect has succeeded or failed."""
        self.generation = 0
        """Connections made so far: tells a new daemon's socket from the last one's."""

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every message from now on; returns the function that stops it."""
        self._listeners.append(listener)
        if self._task is None or self._task.done():
            self.tried.clear()
            self._task = asyncio.create_task(self._follow(), name="pm2-bus")

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)
            if not self._listeners and self._task is not None:
                self._task.cancel()
                self._task = None
                self.connected.clear()

        return remove

    async def resync(self, since: int, limit: float = RESYNC_WAIT) -> None:
        """Reconnect now (not after the back-off) and wait, bounded, for a connection newer
        than ``since``: called after starting a daemon, so its events are not missed."""
        if not self._listeners:
            return
        deadline = asyncio.get_running_loop().time() + limit
        while self.generation == since and asyncio.get_running_loop().time() < deadline:
            self._wake.set()
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self._listeners.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self) -> None:
        failures = 0
        while self._listeners:
            try:
                reader, writer = await asyncio.open_unix_connection(
                    str(self.socket), limit=READ_CHUNK
                )
            except OSError as exc:
                if failures == 0:
                    self._emit(DISCONNECTED, {"error": f"cannot connect to {self.socket}: {exc}"})
                self.tried.set()
                await self._pause(RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)])
                failures += 1
                continue
            try:
                self.generation += 1
                self.connected.set()
                self.tried.set()
                if failures:
                    self._emit(CONNECTED, {})
                failures = 0
                await self._read(reader)
                self._emit(DISCONNECTED, {"error": "the PM2 daemon closed its event socket"})
                failures = 1
            except (OSError, amp.FramingError, ValueError) as exc:
                self._emit(DISCONNECTED, {"error": f"the PM2 event socket broke: {exc}"})
                failures = 1
            finally:
                self.connected.clear()
                writer.close()
            # a daemon that is shutting down may accept once more: let it finish
            await self._pause(RETRY_PAUSES[0])

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when :meth:`resync` asks to reconnect now."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        parser = amp.Parser()
        while data := await reader.read(READ_CHUNK):
            for message in parser.feed(data):
                if len(message) >= 2 and isinstance(message[0], str):
                    self._emit(message[0], message[1])

    def _emit(self, topic: str, data: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(topic, data)
            except Exception:
                log.warning("a pm2 bus listener failed on %s", topic, exc_info=True)
