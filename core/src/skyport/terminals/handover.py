"""Output read by a blocking thread, handed to an asyncio reader with back-pressure.

Terminal providers built on blocking clients (the docker SDK's exec socket,
a paramiko channel) read in a thread of their own. :class:`OutputHandover`
carries each chunk to the session's ``read()`` on the event loop; when the
reader falls behind, the thread waits (so a fast program is slowed down, not
buffered without bound), and it stops waiting once the session is closed.
"""

from __future__ import annotations

import asyncio
import threading

QUEUED_CHUNKS = 64
"""Chunks held for a slow reader before the producing thread is made to wait."""


class OutputHandover:
    """Chunks from one producer thread to one async reader; ``b""`` marks the end."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_chunks: int = QUEUED_CHUNKS) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(max_chunks)
        self._closed = threading.Event()
        self._ended = False

    def put(self, data: bytes) -> bool:
        """From the thread: queue ``data`` (``b""`` = end); False once nobody will read it."""
        try:
            future = asyncio.run_coroutine_threadsafe(self._queue.put(data), self._loop)
        except RuntimeError:  # the loop is closed
            return False
        while True:
            try:
                future.result(timeout=0.5)
                return True
            except TimeoutError:
                if self._closed.is_set():
                    future.cancel()
                    return False
            except Exception:  # cancelled with its loop
                return False

    async def get(self) -> bytes:
        """On the loop: the next chunk; ``b""`` once the output has ended (and after)."""
        if self._ended and self._queue.empty():
            return b""
        data = await self._queue.get()
        if not data:
            self._ended = True
        return data

    def close(self) -> None:
        """Nobody reads any more: a waiting :meth:`put` gives up."""
        self._closed.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()
