"""Whether an app answers: an HTTP request to its port on 127.0.0.1, and free ports."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable, Callable

PROBE_TIMEOUT = 2.0
PROBE_EVERY = 0.1
ALIVE_EVERY = 1.0
"""Seconds between two looks at whether the app still runs, while waiting for an answer."""


async def answers(port: int) -> bool:
    """Whether an HTTP server answers on ``127.0.0.1:port`` (any status counts)."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                await writer.drain()
                line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError):
        return False
    return line.startswith(b"HTTP/")


async def wait_for_answer(
    port: int, within: float, stopped: Callable[[], Awaitable[str | None]]
) -> str | None:
    """None once the app answers on ``port``; else why not (it stopped: ``stopped()`` said
    so, or ``within`` seconds passed)."""
    deadline = time.monotonic() + within
    next_look = time.monotonic() + ALIVE_EVERY
    while True:
        if await answers(port):
            return None
        now = time.monotonic()
        if now >= deadline:
            return f"it did not answer on port {port} within {within:g} s"
        if now >= next_look:
            next_look = now + ALIVE_EVERY
            why = await stopped()
            if why:
                return why
        await asyncio.sleep(PROBE_EVERY)


def port_free(port: int) -> bool:
    """Whether a program could listen on ``port`` now (on every address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))  # noqa: S104 - a probe, closed at once
        except OSError:
            return False
    return True


def any_free_port() -> int:
    """A port nothing listens on now (the system's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
