"""The WebSocket topics ``pm2.events`` and ``pm2.logs:<name>``, fed by the daemon's bus.

Both follow the bus only while someone is subscribed. ``pm2.events``
carries the daemon's ``process:event`` messages (``online``, ``exit``,
``restart``, ``stop``, ``delete`` …) as :class:`ProcessEvent`, with the
process's name and id but never its environment; ``daemon:disconnected`` /
``daemon:connected`` say when the daemon went away and came back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from skyport.api import PluginContext
from skyport_pm2 import bus, logs
from skyport_pm2.service import Pm2Service

EVENTS_TOPIC = "pm2.events"
CONNECT_WAIT = 2.0
"""Seconds a new subscription waits for the daemon's event socket."""

Stop = Callable[[], Awaitable[None]]
Starter = Callable[[str], Awaitable[Stop | None]]


class ProcessEvent(msgspec.Struct, frozen=True):
    event: str
    at: int
    """Unix milliseconds."""
    name: str | None = None
    pm_id: int | None = None
    namespace: str | None = None
    status: str | None = None
    manually: bool = False
    """The action came from a user (API, CLI), not from pm2 itself (a crash, a restart)."""
    error: str | None = None


def process_event(topic: str, data: Any) -> ProcessEvent | None:
    """The published form of a bus message; None for the topics ``pm2.events`` leaves out."""
    now = int(time.time() * 1000)
    if topic == bus.DISCONNECTED:
        return ProcessEvent("daemon:disconnected", now, error=str(data.get("error") or ""))
    if topic == bus.CONNECTED:
        return ProcessEvent("daemon:connected", now)
    if topic != "process:event" or not isinstance(data, dict):
        return None
    found = data.get("process")
    process: dict[str, Any] = found if isinstance(found, dict) else {}
    pm_id = process.get("pm_id")
    at = data.get("at")
    return ProcessEvent(
        event=str(data.get("event") or "unknown"),
        at=int(at) if isinstance(at, int | float) else now,
        name=process.get("name"),
        pm_id=pm_id if isinstance(pm_id, int) else None,
        namespace=process.get("namespace"),
        status=process.get("status"),
        manually=bool(data.get("manually")),
    )


def follow_events(skyport: PluginContext) -> Starter:
    async def start(topic: str) -> Stop:
        def forward(kind: str, data: Any) -> None:
            event = process_event(kind, data)
            if event is not None:
                skyport.publish(topic, event)

        return await _listening(skyport, forward)

    return start


def follow_logs(skyport: PluginContext) -> Starter:
    """Starter of ``pm2.logs:<name>`` (also ``<pm_id>``, or ``all`` for every process)."""

    async def start(topic: str) -> Stop:
        ref = topic.removeprefix(logs.TOPIC_PREFIX)

        def forward(kind: str, data: Any) -> None:
            output = logs.live_output(kind, data)
            if output is not None and logs.matches(output, ref):
                skyport.publish(topic, output)

        return await _listening(skyport, forward)

    return start


async def _listening(skyport: PluginContext, listener: bus.Listener) -> Stop:
    """Add ``listener`` to the bus; wait (bounded) until the bus is read, so nothing is missed
    (or until it is clear that no daemon runs: the listener then hears when one does)."""
    service: Pm2Service = skyport.state["pm2"]
    remove = service.bus.listen(listener)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(service.bus.tried.wait(), CONNECT_WAIT)

    async def stop() -> None:
        remove()

    return stop
