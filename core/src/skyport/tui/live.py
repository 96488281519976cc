"""The TUI's one ``/ws`` connection, shared by every screen, kept open across outages.

Screens :meth:`LiveHub.watch` the topics they show while they are visible;
the hub subscribes on the open :class:`~skyport.client.Feed` (the server
starts following a topic only while someone listens) and unsubscribes when
the last watcher leaves. A thread reads the feed and hands each message to
the watchers of its topic on the app's thread. When the connection is lost
the hub says so through ``on_state``, waits a little longer each time, opens
a new one and subscribes again to what is being watched.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from skyport.client import Client, ClientError, Feed

Handler = Callable[[dict[str, Any]], None]
"""Gets every message about its topic: ``{"topic", "data"}``, and the
``{"type": "subscribed" | "error", ...}`` replies that name it."""
RETRY_PAUSES = (0.5, 1.0, 2.0, 5.0)


class LiveHub:
    """Topics watched by screens, over one feed that reconnects."""

    def __init__(
        self,
        client: Client,
        deliver: Callable[[Callable[[], None]], None],
        on_state: Callable[[str | None], None],
    ) -> None:
        """``deliver`` runs a callable on the UI's thread; ``on_state`` gets an outage's
        description, and ``None`` once the feed is back."""
        self._client = client
        self._deliver = deliver
        self._on_state = on_state
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._lock = threading.Lock()
        self._feed: Feed | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="skyport-tui-live", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close the feed; the reading thread ends (it is a daemon: nobody waits)."""
        self._stopped.set()
        with self._lock:
            feed, self._feed = self._feed, None
        if feed is not None:
            feed.close()

    def watch(self, topic: str, handler: Handler) -> Callable[[], None]:
        """Call ``handler`` (on the UI's thread) for ``topic``'s messages; returns the undo."""
        with self._lock:
            first = not self._handlers[topic]
            self._handlers[topic].append(handler)
            feed = self._feed
        if first and feed is not None:
            self._send(feed, "subscribe", topic)

        def unwatch() -> None:
            with self._lock:
                watchers = self._handlers.get(topic, [])
                if handler in watchers:
                    watchers.remove(handler)
                last = not watchers
                if last:
                    self._handlers.pop(topic, None)
                feed = self._feed
            if last and feed is not None:
                self._send(feed, "unsubscribe", topic)

        return unwatch

    def _send(self, feed: Feed, kind: str, topic: str) -> None:
        with contextlib.suppress(Exception):  # the reader sees the loss and reconnects
            (feed.subscribe if kind == "subscribe" else feed.unsubscribe)([topic])

    # -- the reading thread ---------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            try:
                self._follow()
                failures = 0
                reason = "the server closed the live feed"
            except ClientError as exc:
                reason = str(exc)
            except Exception as exc:  # the feed must never take the UI down
                reason = f"{type(exc).__name__}: {exc}"
            if self._stopped.is_set():
                return
            pause = RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)]
            failures += 1
            self._post(functools.partial(self._on_state, f"{reason} (retrying in {pause:g} s)"))
            self._stopped.wait(pause)

    def _follow(self) -> None:
        feed = self._client.feed()
        with self._lock:
            if self._stopped.is_set():
                feed.close()
                return
            self._feed = feed
            topics = list(self._handlers)
        try:
            if topics:
                feed.subscribe(topics)
            self._post(lambda: self._on_state(None))
            for message in feed:
                self._dispatch(message)
        finally:
            with self._lock:
                if self._feed is feed:
                    self._feed = None
            feed.close()

    def _dispatch(self, message: dict[str, Any]) -> None:
        topic = message.get("topic")
        topics = [topic] if topic else list(message.get("topics") or [])
        with self._lock:
            handlers = [h for t in topics for h in self._handlers.get(t, [])]
        for handler in handlers:
            self._post(functools.partial(handler, message))

    def _post(self, call: Callable[[], None]) -> None:
        if self._stopped.is_set():
            return
        try:
            self._deliver(call)
        except RuntimeError:  # the app has ended
            self._stopped.set()
