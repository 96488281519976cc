"""``WS /ws``: live topics (metrics, events, logs) for the dashboard and CLI.

The client sends ``{"type": "subscribe", "topics": [...]}`` or
``{"type": "unsubscribe", "topics": [...]}``; the server answers
``{"type": "subscribed", "topics": [...]}`` (and ``{"type": "error", ...}``
for topics that do not exist or need a scope the user lacks, checked against
the user's current scopes at every subscribe), then sends
``{"topic": ..., "data": ...}`` for every message published on them. A
client that cannot keep up misses the oldest of the frames waiting for it
(:class:`~skyport.broker.Subscriber`); one that takes none for long is
disconnected with close code 1013; when the
session or token behind the socket is revoked, 4401; when the user loses
scopes, 4403 (see :mod:`skyport.auth.live`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Literal

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from skyport.auth.live import LiveConnection, LiveSessions
from skyport.auth.middleware import client_address
from skyport.auth.principal import Principal
from skyport.broker import Broker, Subscriber

log = logging.getLogger("skyport.realtime")

CLOSE_TOO_SLOW = 1013
MAX_TOPICS = 256


class ClientMessage(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["subscribe", "unsubscribe", "ping"]
    topics: list[str] = msgspec.field(default_factory=list)


_decoder = msgspec.json.Decoder(ClientMessage)
_encoder = msgspec.json.Encoder()


def _reply(kind: str, **fields: Any) -> str:
    return _encoder.encode({"type": kind, **fields}).decode()


@websocket("/ws", opt={"scope": "auth:self"})
async def live(socket: WebSocket[Principal, Any, Any]) -> None:
    """Subscribe to live topics; see the module documentation for the protocol."""
    broker: Broker = socket.app.state.broker
    live_sessions: LiveSessions = socket.app.state.live_sessions
    await socket.accept()
    subscriber = Subscriber()
    with live_sessions.track(socket.user) as connection:
        sender = asyncio.create_task(_send_frames(socket, subscriber))
        receiver = asyncio.create_task(
            _handle_requests(socket, broker, subscriber, live_sessions, connection)
        )
        evicted = asyncio.create_task(subscriber.evicted.wait())
        revoked = asyncio.create_task(connection.ended.wait())
        tasks = {sender, receiver, evicted, revoked}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await broker.drop(subscriber)
            with contextlib.suppress(Exception):
                if connection.ended.is_set():
                    await socket.close(connection.code, connection.reason)
                elif subscriber.evicted.is_set():
                    await socket.close(CLOSE_TOO_SLOW, "client too slow; reconnect")


async def _send_frames(socket: WebSocket[Any, Any, Any], subscriber: Subscriber) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await socket.send_text(await subscriber.take())


async def _handle_requests(
    socket: WebSocket[Principal, Any, Any],
    broker: Broker,
    subscriber: Subscriber,
    live_sessions: LiveSessions,
    connection: LiveConnection,
) -> None:
    while True:
        try:
            raw = await socket.receive_data(mode="text")
        except (WebSocketDisconnect, RuntimeError):
            return
        try:
            message = _decoder.decode(raw)
        except msgspec.DecodeError as exc:
            subscriber.offer(_reply("error", message=f"invalid message: {exc}"))
            continue
        if message.type == "ping":
            subscriber.offer(_reply("pong"))
        elif message.type == "subscribe":
            try:
                principal = await live_sessions.refresh(connection)
            except Exception:
                log.exception("cannot check %s's session", connection.principal.username)
                subscriber.offer(_reply("error", message="cannot check your session; retry"))
                continue
            if principal is None:
                return
            denied = await _subscribe(broker, subscriber, principal, message.topics)
            for topic, scope in denied:
                await socket.app.state.audit.record_repeated(
                    principal.username,
                    "ws.subscribe",
                    topic,
                    f"denied (missing scope {scope})",
                    client_address(socket),
                )
        else:
            for topic in message.topics:
                await broker.unsubscribe(subscriber, topic)
            subscriber.offer(_reply("unsubscribed", topics=message.topics))


async def _subscribe(
    broker: Broker, subscriber: Subscriber, principal: Principal, topics: list[str]
) -> list[tuple[str, str]]:
    """Subscribe to what the principal may see; the ``(topic, scope)`` pairs refused."""
    accepted, denied = [], []
    for topic in topics:
        spec = broker.spec_for(topic)
        if spec is None:
            subscriber.offer(_reply("error", topic=topic, message=f"unknown topic {topic!r}"))
        elif not principal.has_scope(spec.scope):
            denied.append((topic, spec.scope))
            subscriber.offer(
                _reply("error", topic=topic, message=f"topic {topic!r} needs scope {spec.scope}")
            )
        elif len(subscriber.topics) >= MAX_TOPICS:
            subscriber.offer(_reply("error", topic=topic, message="too many subscriptions"))
        else:
            try:
                view = await spec.view(principal) if spec.view else None
                await broker.subscribe(subscriber, topic, view)
            except Exception as exc:  # a plugin's topic starter or view failed
                subscriber.offer(_reply("error", topic=topic, message=f"cannot follow: {exc}"))
                continue
            accepted.append(topic)
    if accepted:
        subscriber.offer(_reply("subscribed", topics=accepted))
    return denied
