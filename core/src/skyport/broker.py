"""Publish/subscribe behind ``WS /ws``, on this node and across the cluster.

A published message is encoded once, then offered to each subscriber's
bounded mailbox, which each client's own task empties into its socket: one slow
client never holds up the others. A full mailbox drops its oldest frame for the
newest (counted: :meth:`Broker.stats`); a client that takes nothing while more
than ``max_dropped`` frames are dropped is evicted (its socket is closed). Topics are declared
with the scope they require and, optionally, a *starter* that begins
producing data when the first client subscribes and stops after the last
one leaves.

In a cluster, frames name the node that published them, and topics declared
with ``cluster=True`` (the default) cross nodes: the broker hands each frame
published here to its ``relay`` (the cluster bus) and delivers the frames other
nodes relay (:meth:`Broker.deliver_frame`; a subscriber's view then sees the
message as JSON gives it: dicts and lists). Their starters run while a client of
*any* node follows the topic: nodes tell each other which topics their clients
follow (:meth:`Broker.followed`, :meth:`Broker.set_remote_interest`).
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


class _FrameHead(msgspec.Struct):
    topic: str


class _Frame(msgspec.Struct):
    topic: str
    data: Any = None
    node: str = ""


_frame_head = msgspec.json.Decoder(_FrameHead)
_frame = msgspec.json.Decoder(_Frame)


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
    cluster: bool = True
    """Frames cross to the clients of every node (False: this node's clients only)."""

    def matches(self, topic: str) -> bool:
        if self.prefix.endswith(":"):
            return topic.startswith(self.prefix) and len(topic) > len(self.prefix)
        return topic == self.prefix


@dataclass(eq=False)
class Subscriber:
    """One WebSocket client's mailbox of encoded frames.

    Bounded: when it is full the oldest frame is dropped for the newest, so a slow
    client gets the latest news with gaps rather than holding up the others. A client
    that takes no frame while more than ``max_dropped`` are dropped is stuck, not slow:
    it is evicted (``evicted`` is set; the socket closes with 1013).
    """

    max_queue: int = 64
    max_dropped: int = 256
    topics: set[str] = field(default_factory=set)
    views: dict[str, TopicView] = field(default_factory=dict)
    """What this client may see of each topic's messages (topics without one: everything)."""
    queue: asyncio.Queue[str] = field(init=False)
    evicted: asyncio.Event = field(default_factory=asyncio.Event)
    lag: int = 0
    """Frames dropped since the client last took one."""

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.max_queue)

    def offer(self, frame: str) -> bool:
        """Queue a frame; ``False`` when the oldest queued one was dropped for it."""
        if not self.queue.full():
            self.queue.put_nowait(frame)
            return True
        self.queue.get_nowait()
        self.queue.put_nowait(frame)
        self.lag += 1
        if self.lag > self.max_dropped:
            self.evicted.set()
        return False

    async def take(self) -> str:
        """The next frame to send (waiting for one)."""
        frame = await self.queue.get()
        self.lag = 0
        return frame


class BrokerStats(msgspec.Struct, frozen=True):
    """Counters of the fan-out since the server started (exported to Prometheus)."""

    clients: int
    """WebSocket clients following at least one topic now."""
    frames_dropped: int
    """Frames a slow client's full mailbox dropped (the oldest, for a newer one)."""
    clients_evicted: int
    """Clients disconnected for taking no frame while their mailbox overflowed."""


class Broker:
    """Routes published data to subscribed WebSocket clients."""

    def __init__(self, node: str = "") -> None:
        self.node = node
        """Named in every frame when set (the node's name in a cluster)."""
        self.relay: Callable[[str], None] | None = None
        """Called with each frame of a ``cluster`` topic published here."""
        self.on_followed_change: Callable[[], None] | None = None
        """Called when :meth:`followed` changes."""
        self._specs: list[TopicSpec] = []
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._stoppers: dict[str, TopicStopper | None] = {}
        self._remote: dict[str, frozenset[str]] = {}
        """Node -> the topics with starters its clients follow."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._lock = asyncio.Lock()
        self._dropped = 0
        self._evicted = 0

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
        cluster: bool = True,
    ) -> None:
        if any(s.prefix == prefix for s in self._specs):
            raise ValueError(f"WebSocket topic {prefix!r} is declared twice")
        self._specs.append(TopicSpec(prefix, scope, starter, owner, view, cluster))

    def remove_topics(self, owner: str) -> None:
        """Forget the topics plugin ``owner`` declared (it failed to start)."""
        self._specs = [s for s in self._specs if s.owner != owner]

    def spec_for(self, topic: str) -> TopicSpec | None:
        return next((s for s in self._specs if s.matches(topic)), None)

    def listeners(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    def stats(self) -> BrokerStats:
        clients = set[Subscriber]().union(*self._subscribers.values())
        return BrokerStats(len(clients), self._dropped, self._evicted)

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
                self._followed_changed(topic)
                if topic not in self._stoppers and (spec := self.spec_for(topic)) and spec.starter:
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
                self._followed_changed(topic)
                await self._stop_unwanted(topic)

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
        relay = self.relay
        if relay is not None and not ((spec := self.spec_for(topic)) and spec.cluster):
            relay = None
        if not members and relay is None:
            return
        frame = self._encode(topic, data, self.node)
        if relay is not None:  # first: the bus's sender wakes before this node's writers
            relay(frame)
        self._offer(members, topic, frame, lambda: (data, self.node))

    def deliver_frame(self, frame: str) -> None:
        """Deliver a frame another node published (it names its topic and node)."""
        topic = _frame_head.decode(frame).topic
        members = self._subscribers.get(topic)
        if not members:
            return
        decoded: list[_Frame] = []

        def message() -> tuple[Any, str]:  # decoded once, only for subscribers with a view
            if not decoded:
                decoded.append(_frame.decode(frame))
            return decoded[0].data, decoded[0].node

        self._offer(members, topic, frame, message)

    def _offer(
        self,
        members: set[Subscriber] | None,
        topic: str,
        frame: str,
        message: Callable[[], tuple[Any, str]],
    ) -> None:
        """Offer ``frame`` to ``members``; to a member with a view, what it may see of
        ``message()`` (the data and the node that published it)."""
        for subscriber in list(members or ()):
            view = subscriber.views.get(topic)
            if view is None:
                shared = frame
            else:
                data, node = message()
                shown = _viewed(view, topic, data)
                if shown is None:
                    continue
                shared = self._encode(topic, shown, node)
            stuck = subscriber.evicted.is_set()
            if not subscriber.offer(shared):
                self._dropped += 1
                if not stuck and subscriber.evicted.is_set():
                    self._evicted += 1

    @staticmethod
    def _encode(topic: str, data: Any, node: str) -> str:
        message = {"topic": topic, "data": data, "node": node} if node else None
        return _encoder.encode(message or {"topic": topic, "data": data}).decode()

    # -- the cluster ----------------------------------------------------------------

    def followed(self) -> list[str]:
        """The topics with a starter that cross nodes and that clients here follow."""
        return sorted(t for t in self._subscribers if self._starts_across(t))

    async def set_remote_interest(self, node: str, topics: frozenset[str]) -> None:
        """Node ``node``'s clients follow ``topics`` (replacing what it said before):
        start their producers here, and stop those nobody follows any more."""
        async with self._lock:
            before = self._remote.get(node, frozenset())
            if topics:
                self._remote[node] = topics
            else:
                self._remote.pop(node, None)
            for topic in topics - before:
                spec = self.spec_for(topic)
                if topic in self._stoppers or not spec or not spec.starter or not spec.cluster:
                    continue
                try:
                    self._stoppers[topic] = await spec.starter(topic)
                except Exception as exc:  # not producible here (e.g. no such resource)
                    log.debug("topic %r not started for node %s: %s", topic, node, exc)
            for topic in before - topics:
                await self._stop_unwanted(topic)

    def remote_nodes(self) -> list[str]:
        return sorted(self._remote)

    def _starts_across(self, topic: str) -> bool:
        spec = self.spec_for(topic)
        return bool(spec and spec.cluster and spec.starter)

    def _followed_changed(self, topic: str) -> None:
        if self.on_followed_change is not None and self._starts_across(topic):
            self.on_followed_change()

    async def _stop_unwanted(self, topic: str) -> None:
        """Stop ``topic``'s producer if no client here or elsewhere follows it (lock held)."""
        if topic in self._subscribers or any(topic in t for t in self._remote.values()):
            return
        if topic in self._stoppers and (stop := self._stoppers.pop(topic)) is not None:
            await _quietly(stop, topic)

    async def close(self) -> None:
        self.relay = self.on_followed_change = None
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
