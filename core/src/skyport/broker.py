"""In-process publish/subscribe behind ``WS /ws``.

A published message is encoded once, then offered to each subscriber's
bounded queue; a subscriber whose queue is full is evicted (its socket is
closed) so one slow client never holds up the others. Topics are declared
with the scope they require and, optionally, a *starter* that begins
producing data when the first client subscribes and stops after the last
one leaves.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

log = logging.getLogger(__name__)

TopicStopper = Callable[[], Awaitable[None]]
TopicStarter = Callable[[str], Awaitable[TopicStopper | None]]
TopicView = Callable[[Any], Any]
"""What one subscriber may see of a message: the message, a part of it, or None (nothing)."""
ViewFactory = Callable[[Any], Awaitable[TopicView | None]]
"""``view(principal)`` at subscribe time: the subscriber's :data:`TopicView` (None: all)."""

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class TopicSpec:
    """Topics equal to ``prefix``, or starting with it when it ends in ``:``."""

    prefix: str
    scope: str
    starter: TopicStarter | None = None
    owner: str = ""
    """The plugin that declared the topic ("" for the core)."""
    view: ViewFactory | None = None
    """Per-subscriber views of the messages (resource grants): see :data:`ViewFactory`."""

    def matches(self, topic: str) -> bool:
        if self.prefix.endswith(":"):
            return topic.startswith(self.prefix) and len(topic) > len(self.prefix)
        return topic == self.prefix


@dataclass(eq=False)
class Subscriber:
    """One WebSocket client's mailbox of encoded frames."""

    max_queue: int = 64
    topics: set[str] = field(default_factory=set)
    views: dict[str, TopicView] = field(default_factory=dict)
    """What this client may see of each topic's messages (topics without one: everything)."""
    queue: asyncio.Queue[str] = field(init=False)
    evicted: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.max_queue)

    def offer(self, frame: str) -> bool:
        """Queue a frame; ``False`` when the client is too slow to keep up."""
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        return True


class Broker:
    """Routes published data to subscribed WebSocket clients."""

    def __init__(self) -> None:
        self._specs: list[TopicSpec] = []
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._stoppers: dict[str, TopicStopper | None] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._lock = asyncio.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the server's event loop so other threads can publish."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def add_topic(
        self,
        prefix: str,
        *,
        scope: str,
        starter: TopicStarter | None = None,
        owner: str = "",
        view: ViewFactory | None = None,
    ) -> None:
        if any(s.prefix == prefix for s in self._specs):
            raise ValueError(f"WebSocket topic {prefix!r} is declared twice")
        self._specs.append(TopicSpec(prefix, scope, starter, owner, view))

    def remove_topics(self, owner: str) -> None:
        """Forget the topics plugin ``owner`` declared (it failed to start)."""
        self._specs = [s for s in self._specs if s.owner != owner]

    def spec_for(self, topic: str) -> TopicSpec | None:
        return next((s for s in self._specs if s.matches(topic)), None)

    def listeners(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    async def subscribe(
        self, subscriber: Subscriber, topic: str, view: TopicView | None = None
    ) -> None:
        """Add ``subscriber`` to ``topic`` (seeing ``view`` of each message, if given);
        start the topic's producer if first."""
        async with self._lock:
            if view is not None:
                subscriber.views[topic] = view
            if topic in subscriber.topics:
                return
            subscriber.topics.add(topic)
            members = self._subscribers.setdefault(topic, set())
            members.add(subscriber)
            if len(members) == 1:
                spec = self.spec_for(topic)
                if spec and spec.starter:
                    self._stoppers[topic] = await spec.starter(topic)

    async def unsubscribe(self, subscriber: Subscriber, topic: str) -> None:
        async with self._lock:
            subscriber.topics.discard(topic)
            subscriber.views.pop(topic, None)
            members = self._subscribers.get(topic)
            if not members or subscriber not in members:
                return
            members.discard(subscriber)
            if not members:
                del self._subscribers[topic]
                stop = self._stoppers.pop(topic, None)
                if stop is not None:
                    await _quietly(stop, topic)

    async def drop(self, subscriber: Subscriber) -> None:
        """Forget a client that disconnected or was evicted."""
        for topic in list(subscriber.topics):
            await self.unsubscribe(subscriber, topic)

    def publish(self, topic: str, data: Any) -> None:
        """Deliver ``data`` to the subscribers of ``topic``; callable from any thread."""
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self._deliver, topic, data)
        else:
            self._deliver(topic, data)

    def _deliver(self, topic: str, data: Any) -> None:
        members = self._subscribers.get(topic)
        if not members:
            return
        frame: str | None = None
        for subscriber in list(members):
            view = subscriber.views.get(topic)
            if view is None:
                frame = frame or _encoder.encode({"topic": topic, "data": data}).decode()
                offered = subscriber.offer(frame)
            else:
                shown = _viewed(view, topic, data)
                if shown is None:
                    continue
                offered = subscriber.offer(
                    _encoder.encode({"topic": topic, "data": shown}).decode()
                )
            if not offered:
                subscriber.evicted.set()

    async def close(self) -> None:
        for topic, stop in list(self._stoppers.items()):
            if stop is not None:
                await _quietly(stop, topic)
        self._stoppers.clear()
        self._subscribers.clear()


def _viewed(view: TopicView, topic: str, data: Any) -> Any:
    """``view(data)``; a view that fails shows nothing (and is logged)."""
    try:
        return view(data)
    except Exception:
        log.exception("the view of a message on topic %r failed", topic)
        return None


async def _quietly(stop: TopicStopper, topic: str) -> None:
    try:
        await stop()
    except Exception:
        log.exception("stopping the producer of topic %r failed", topic)
