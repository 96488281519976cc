"""The metrics hub: samples every collector on its own schedule.

Each collector runs in its own task at its own interval, a plain function in a
worker thread and an ``async def`` on the loop, with a timeout of
``timeout_factor`` times its interval, so a slow or failing collector delays
nobody else. Sampling runs only while there are listeners (WebSocket
subscribers) or ``keep_sampling`` is on (history); otherwise the tasks wait
on an event and cost nothing, and :meth:`MetricsHub.snapshot` refreshes stale
data on demand, at most once per interval.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msgspec

from skyport.metrics import DETAILS_TOPIC
from skyport.metrics.demand import Demand
from skyport.metrics.history import MetricsHistory
from skyport.types import MetricsCollector

log = logging.getLogger(__name__)

TOPIC = "metrics"
"""The WebSocket topic every sample is published on."""

Publish = Callable[[str, Any], None]
"""``publish(topic, message)``, as ``Broker.publish``."""


@dataclass(eq=False)
class _Slot:
    """One collector's schedule, latest result and work in flight."""

    collector: MetricsCollector
    interval: float
    timeout: float
    is_async: bool
    data: Any = None
    ts: float | None = None
    error: str | None = None
    failures: int = 0
    attempted: float = -math.inf
    call: asyncio.Future[Any] | None = None
    """The ``collect()`` call; a thread cannot be stopped, so it may outlive a timeout."""
    op: asyncio.Task[None] | None = None
    """The current sample: the call plus bookkeeping, shared by all who want it."""
    refresh: asyncio.Task[None] | None = None
    """A sample taken because someone asked for the details nobody wanted before."""

    @property
    def name(self) -> str:
        return self.collector.name


class MetricsHub:
    """Samples collectors, keeps their latest snapshots, feeds history and listeners.

    ``publish`` receives ``("metrics", {"collector", "ts", "data"})`` after each
    successful sample. ``keep_sampling`` defaults to ``history is not None``.
    """

    def __init__(
        self,
        collectors: Sequence[MetricsCollector],
        *,
        interval: float = 2.0,
        history: MetricsHistory | None = None,
        publish: Publish | None = None,
        keep_sampling: bool | None = None,
        timeout_factor: float = 2.0,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"metrics interval must be positive, got {interval}")
        self.interval = interval
        self.history = history
        self.keep_sampling = history is not None if keep_sampling is None else keep_sampling
        self._publish = publish
        self._slots: dict[str, _Slot] = {}
        for collector in collectors:
            if collector.name in self._slots:
                raise ValueError(f"two metrics collectors are named {collector.name!r}")
            every = collector.interval or interval
            if every <= 0:
                raise ValueError(f"metrics collector {collector.name!r}: interval must be > 0")
            self._slots[collector.name] = _Slot(
                collector, every, every * timeout_factor, _is_async(collector.collect)
            )
            if history is not None:
                history.track(collector.name, every)
        self._listeners = 0
        self._started = False
        self._wanted = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # -- listeners ---------------------------------------------------------

    @property
    def listeners(self) -> int:
        """How many listeners want live samples."""
        return self._listeners

    @property
    def sampling(self) -> bool:
        """Whether the collectors are being sampled on schedule right now."""
        return self._wanted.is_set()

    def add_listener(self) -> None:
        self._listeners += 1
        self._update()

    def remove_listener(self) -> None:
        self._listeners = max(0, self._listeners - 1)
        self._update()

    @contextmanager
    def listening(self) -> Iterator[None]:
        """Count as a listener for the duration of the block."""
        self.add_listener()
        try:
            yield
        finally:
            self.remove_listener()

    async def listen(self, topic: str = TOPIC) -> Callable[[], Awaitable[None]]:
        """Add a listener; return the coroutine function that removes it.

        Fits ``Broker.add_topic(TOPIC, scope=..., starter=hub.listen)``.
        """
        self.add_listener()
        released = False

        async def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.remove_listener()

        return release

    async def listen_details(self, topic: str) -> Callable[[], Awaitable[None]]:
        """Want the details of the collector ``topic`` names; fits ``Broker.add_topic``."""
        name = topic.removeprefix(DETAILS_TOPIC)
        return await self._demand(name).listen(topic)

    def _ask_details(self, name: str) -> asyncio.Task[None] | None:
        """Ask for ``name``'s details; the sample that brings them, when one must be taken."""
        demand, slot = self._demand(name), self._slots[name]
        if not demand.wanted:
            slot.refresh = asyncio.create_task(self._resample(slot))
        demand.ask()
        return slot.refresh

    def _demand(self, name: str) -> Demand:
        slot = self._slots.get(name)
        if slot is None or slot.collector.details is None:
            raise LookupError(f"no metrics collector {name!r} with details")
        return slot.collector.details

    def _update(self) -> None:
        if self._started and (self._listeners > 0 or self.keep_sampling):
            self._wanted.set()
        else:
            self._wanted.clear()

    def remove(self, name: str) -> None:
        """Drop collector ``name`` before the hub starts (its plugin failed to start)."""
        if self._started:
            raise RuntimeError("collectors can only be removed before the hub starts")
        self._slots.pop(name, None)
        if self.history is not None:
            self.history.forget(name)

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        """Start one sampling task per collector (idle until wanted)."""
        if self._started:
            return
        self._started = True
        self._update()
        count = len(self._slots)
        self._tasks = [
            asyncio.create_task(self._run(slot, index / count), name=f"metrics:{slot.name}")
            for index, slot in enumerate(self._slots.values())
        ]

    async def stop(self) -> None:
        """Cancel the sampling tasks and any sample in flight."""
        self._started = False
        self._update()
        pending: list[asyncio.Future[Any]] = [*self._tasks]
        for slot in self._slots.values():
            in_flight = (slot.op, slot.call, slot.refresh)
            pending += [f for f in in_flight if f is not None and not f.done()]
            slot.op = slot.call = slot.refresh = None
        self._tasks = []
        for future in pending:
            future.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # -- reading -----------------------------------------------------------

    @property
    def collectors(self) -> list[str]:
        return list(self._slots)

    @property
    def expositions(self) -> dict[str, Callable[[Any], Any]]:
        """The collectors' own Prometheus functions, by collector name."""
        return {
            s.name: s.collector.prometheus
            for s in self._slots.values()
            if s.collector.prometheus is not None
        }

    def describe(self) -> list[dict[str, Any]]:
        """Name, interval (seconds) and description of every collector."""
        return [
            {"name": s.name, "interval": s.interval, "description": s.collector.description}
            for s in self._slots.values()
        ]

    def latest(self) -> dict[str, Any]:
        """The latest snapshot of every collector, as plain builtins; never samples.

        ``{"ts": now, "collectors": {name: data | None}, "timestamps": {name:
        unix time | None}, "errors": {name: message}}``; ``errors`` lists only
        collectors whose last attempt failed (their ``data`` is the last good
        one). Treat the result as read-only: the data is shared, not copied.
        """
        slots = self._slots.values()
        return {
            "ts": time.time(),
            "collectors": {s.name: s.data for s in slots},
            "timestamps": {s.name: s.ts for s in slots},
            "errors": {s.name: s.error for s in slots if s.error is not None},
        }

    async def snapshot(self, details: Sequence[str] = ()) -> dict[str, Any]:
        """:meth:`latest`, refreshing data older than its interval when idle.

        While sampling runs, this only reads (waiting just for a collector's
        very first sample, shared with the sampling task). Otherwise each collector
        whose last attempt is older than its interval is sampled once;
        concurrent callers share that one sample in flight. The collectors named
        in ``details`` (``LookupError`` for one without) are asked for their
        details, and sampled afresh when nobody wanted them before.
        """
        refreshes = [self._ask_details(name) for name in details]
        if pending := [r for r in refreshes if r is not None and not r.done()]:
            await asyncio.wait(pending)
        slots = self._slots.values()
        if self.sampling:
            waits = [self._begin(s) for s in slots if s.ts is None and not s.failures]
        else:
            now = asyncio.get_running_loop().time()
            waits = [
                self._begin(slot)
                for slot in slots
                if (slot.op is not None and not slot.op.done())
                or now - slot.attempted >= slot.interval
            ]
        if waits:
            await asyncio.wait(waits)
        return self.latest()

    # -- sampling ----------------------------------------------------------

    async def _resample(self, slot: _Slot) -> None:
        """A sample begun from now on (after the one in flight, if any)."""
        if slot.op is not None and not slot.op.done():
            await asyncio.wait([slot.op])
        await asyncio.wait([self._begin(slot)])

    async def _run(self, slot: _Slot, phase: float) -> None:
        """Sample ``slot`` every interval while wanted; after the first sample, shifted by
        ``phase`` of an interval, so collectors publish one after the other rather than
        all at once (each sample is a write to every subscribed socket)."""
        loop = asyncio.get_running_loop()
        shift = phase * slot.interval
        while True:
            await self._wanted.wait()
            started = loop.time()
            await asyncio.shield(self._begin(slot))
            await asyncio.sleep(max(0.0, started + slot.interval + shift - loop.time()))
            shift = 0.0

    def _begin(self, slot: _Slot) -> asyncio.Task[None]:
        """The sample in flight for ``slot``, started if there is none."""
        if slot.op is None or slot.op.done():
            slot.attempted = asyncio.get_running_loop().time()
            slot.op = asyncio.create_task(self._sample(slot), name=f"metrics:{slot.name}:sample")
        return slot.op

    async def _sample(self, slot: _Slot) -> None:
        if slot.call is None or slot.call.done():
            slot.call = self._call(slot)
        call = slot.call
        try:
            result = await asyncio.wait_for(asyncio.shield(call), slot.timeout)
            data = _to_builtins(result)
        except TimeoutError:
            if slot.is_async:
                call.cancel()
            self._failed(slot, f"no result within {slot.timeout:g} s", None)
            return
        except Exception as exc:
            self._failed(slot, f"{type(exc).__name__}: {exc}", exc)
            return
        ts = time.time()
        if slot.failures:
            log.info("metrics collector %r recovered after %d failures", slot.name, slot.failures)
        slot.data, slot.ts, slot.error, slot.failures = data, ts, None, 0
        if self.history is not None:
            try:
                self.history.record(slot.name, ts, data)
            except Exception:
                log.exception("recording metrics collector %r in history failed", slot.name)
        if self._publish is not None:
            try:
                self._publish(TOPIC, {"collector": slot.name, "ts": ts, "data": data})
            except Exception:
                log.exception("publishing a sample of metrics collector %r failed", slot.name)

    def _call(self, slot: _Slot) -> asyncio.Future[Any]:
        collect = slot.collector.collect
        if slot.is_async:
            return asyncio.ensure_future(collect())
        return asyncio.ensure_future(asyncio.to_thread(collect))

    def _failed(self, slot: _Slot, message: str, exc: BaseException | None) -> None:
        slot.error = message
        slot.failures += 1
        if slot.failures == 1:
            log.warning(
                "metrics collector %r failed: %s (not logged again until it recovers)",
                slot.name,
                message,
                exc_info=exc,
            )


def _is_async(function: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(function):
        return True
    call = getattr(function, "__call__", None)  # noqa: B004 - an async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def _to_builtins(result: Any) -> Any:
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()  # a coroutine that will never be awaited: avoid the warning
        raise TypeError("collect() returned an awaitable: declare it with async def")
    if isinstance(result, Mapping) and not isinstance(result, dict):
        result = dict(result)
    return msgspec.to_builtins(result)
