"""The engines' event streams (``docker events``), published on the topic ``docker.events``.

While anyone listens, one thread per engine follows its ``GET /events``
stream and publishes every event with the engine's name added
(``{"engine": "local", "Type": "container", "Action": "start", …}``).
Engines added while the topic is live are picked up within a second. When
an engine cannot be reached the watcher publishes
``{"engine": …, "Type": "engine", "Action": "disconnected", "error": …}``,
retries with a growing pause, and publishes ``"connected"`` once it is back,
resuming from the last event it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from docker.errors import DockerException

from skyport.api import PluginContext
from skyport_docker.engines import Engine, connection_failure
from skyport_docker.state import docker_state

log = logging.getLogger("skyport.docker")

TOPIC = "docker.events"
SYNC_INTERVAL = 1.0
"""Seconds between checks for engines added or removed while the topic is live."""
RETRY_PAUSES = (0.5, 1.0, 2.0, 5.0)
JOIN_TIMEOUT = 5.0
READY_WAIT = 5.0
"""Seconds a new subscription waits for the engines' streams to be open."""

Stop = Callable[[], Awaitable[None]]


class EngineWatcher:
    """Follows one engine's events in a daemon thread until :meth:`cancel`."""

    def __init__(self, engine: Engine, publish: Callable[[str, Any], None]) -> None:
        self.engine = engine
        self.publish = publish
        self.stopped = threading.Event()
        self.ready = threading.Event()
        """Set once the first attempt to connect has succeeded or failed."""
        self._stream: Any = None
        self._since: str | None = None
        self.thread = threading.Thread(
            target=self._run, name=f"docker-events-{engine.name}", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self.stopped.set()
        _close_stream(self._stream)

    def _run(self) -> None:
        failures = 0
        while not self.stopped.is_set():
            try:
                stream = self.engine.call(lambda c: c.events(decode=True, since=self._since))
                self._stream = stream
                self.ready.set()
                if self.stopped.is_set():
                    _close_stream(stream)
                    return
                if failures:
                    self._status("connected")
                failures = 0
                for event in stream:
                    self._forward(event)
                if self.stopped.is_set():
                    return
                raise ConnectionError("the engine ended the event stream")
            except Exception as exc:
                self.ready.set()
                if self.stopped.is_set():
                    return
                if not failures:
                    self._status("disconnected", _describe(exc, self.engine.url))
                pause = RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)]
                failures += 1
                self.stopped.wait(pause)
            finally:
                _close_stream(self._stream)
                self._stream = None

    def _forward(self, event: dict[str, Any]) -> None:
        nano = event.get("timeNano")
        if isinstance(nano, int):  # resume just after it after a reconnection
            nano += 1
            self._since = f"{nano // 1_000_000_000}.{nano % 1_000_000_000:09d}"
        self.publish(TOPIC, {"engine": self.engine.name, **event})

    def _status(self, action: str, error: str | None = None) -> None:
        event: dict[str, Any] = {
            "engine": self.engine.name,
            "Type": "engine",
            "Action": action,
            "url": self.engine.url,
            "time": int(time.time()),
        }
        if error:
            event["error"] = error
        self.publish(TOPIC, event)


class EventFollower:
    """A watcher per engine of the registry, kept in step with it."""

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport
        self.watchers: dict[str, EngineWatcher] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._supervise, name="docker-events", daemon=True)

    def start(self) -> None:
        """Start a watcher per engine; return once each is following (or failed), bounded."""
        self._sync()
        self.thread.start()
        deadline = time.monotonic() + READY_WAIT
        for watcher in list(self.watchers.values()):
            watcher.ready.wait(max(0.0, deadline - time.monotonic()))

    def cancel(self) -> None:
        """Stop every watcher (without waiting; see :meth:`stop`)."""
        self.stopped.set()
        for watcher in list(self.watchers.values()):
            watcher.cancel()

    def join(self, timeout: float = JOIN_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        for thread in [self.thread, *(w.thread for w in self.watchers.values())]:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def _supervise(self) -> None:
        while not self.stopped.wait(SYNC_INTERVAL):
            with contextlib.suppress(Exception):
                self._sync()

    def _sync(self) -> None:
        engines = {engine.name: engine for engine in docker_state(self.skyport).engines.all()}
        for name, watcher in list(self.watchers.items()):
            if engines.get(name) is not watcher.engine:
                watcher.cancel()
                del self.watchers[name]
        for name, engine in engines.items():
            if name not in self.watchers and not self.stopped.is_set():
                watcher = EngineWatcher(engine, self.skyport.publish)
                self.watchers[name] = watcher
                watcher.start()


def follow_events(skyport: PluginContext) -> Callable[[str], Awaitable[Stop | None]]:
    """The starter of ``docker.events``: follow every engine while someone listens."""

    async def start(topic: str) -> Stop:
        follower = EventFollower(skyport)
        tasks = docker_state(skyport).tasks
        tasks[TOPIC] = follower
        await asyncio.to_thread(follower.start)

        async def stop() -> None:
            follower.cancel()
            if tasks.get(TOPIC) is follower:
                del tasks[TOPIC]
            await asyncio.to_thread(follower.join)

        return stop

    return start


def _close_stream(stream: Any) -> None:
    """Interrupt a blocked read of an event stream, whatever the transport."""
    if stream is None:
        return
    try:
        stream.close()
    except DockerException:  # SSH: the SDK cannot cancel a stream; close the channel
        with contextlib.suppress(Exception):
            stream._response.raw._fp.fp.channel.close()
        with contextlib.suppress(Exception):
            stream._response.close()
    except Exception:  # already closed, or the connection is gone
        log.debug("closing an event stream failed", exc_info=True)


def _describe(exc: BaseException, url: str) -> str:
    """An HTTP exception's detail, or why the stream from the engine at ``url`` broke."""
    detail = getattr(exc, "detail", None)
    return str(detail) if detail else connection_failure(exc, url)
