"""The WebSocket broker: plugin topics, starters, one encoding per broadcast,
and slow clients dropped without holding up the others."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport import hookimpl
from skyport.app import create_app
from skyport.broker import Broker, BrokerStats, Subscriber
from skyport.config import Settings
from skyport.context import PluginContext
from skyport.plugins import PluginManager
from skyport.types import Permission

from .conftest import ADMIN_PASSWORD, bearer, login


async def test_a_full_mailbox_drops_its_oldest_frames_and_evicts_a_stuck_subscriber() -> None:
    broker = Broker()
    broker.add_topic("ticks", scope="x:read")
    slow, fast = Subscriber(max_queue=2, max_dropped=4), Subscriber(max_queue=100)
    await broker.subscribe(slow, "ticks")
    await broker.subscribe(fast, "ticks")
    for i in range(5):
        broker.publish("ticks", {"n": i})
    assert [slow.queue.get_nowait() for _ in range(2)] == [
        '{"topic":"ticks","data":{"n":3}}',
        '{"topic":"ticks","data":{"n":4}}',
    ]
    assert not slow.evicted.is_set() and broker.stats().frames_dropped == 3
    for i in range(5, 12):  # it takes nothing: more than max_dropped are dropped
        broker.publish("ticks", {"n": i})
    assert slow.evicted.is_set() and not fast.evicted.is_set()
    assert broker.stats() == BrokerStats(clients=2, frames_dropped=8, clients_evicted=1)
    assert fast.queue.qsize() == 12
    assert fast.queue.get_nowait() == '{"topic":"ticks","data":{"n":0}}'


async def test_a_slow_subscriber_that_takes_frames_is_not_evicted() -> None:
    broker = Broker()
    broker.add_topic("ticks", scope="x:read")
    slow = Subscriber(max_queue=1, max_dropped=2)
    await broker.subscribe(slow, "ticks")
    for i in range(20):
        broker.publish("ticks", i)
        broker.publish("ticks", i)  # one of the two is dropped each round
        assert await slow.take() == f'{{"topic":"ticks","data":{i}}}'
    assert not slow.evicted.is_set() and broker.stats().frames_dropped == 20


async def test_a_broadcast_is_encoded_once_and_shared_by_all() -> None:
    broker = Broker()
    broker.add_topic("ticks", scope="x:read")
    subscribers = [Subscriber() for _ in range(3)]
    for subscriber in subscribers:
        await broker.subscribe(subscriber, "ticks")
    broker.publish("ticks", [1, 2, 3])
    frames = [s.queue.get_nowait() for s in subscribers]
    assert all(frame is frames[0] for frame in frames)


async def test_a_view_shows_each_subscriber_its_part_and_the_others_the_shared_frame() -> None:
    broker = Broker()
    broker.add_topic("rows", scope="x:read")
    everything, limited, failing = Subscriber(), Subscriber(), Subscriber()
    await broker.subscribe(everything, "rows")
    await broker.subscribe(limited, "rows", lambda m: m if m["server"] == "web-1" else None)
    await broker.subscribe(failing, "rows", lambda m: m["missing"])
    for server in ("web-1", "db-1"):
        broker.publish("rows", {"server": server})
    assert everything.queue.qsize() == 2 and failing.queue.qsize() == 0
    assert limited.queue.get_nowait() == '{"topic":"rows","data":{"server":"web-1"}}'
    assert limited.queue.empty()


async def test_starter_runs_for_the_first_subscriber_and_stops_after_the_last() -> None:
    events: list[str] = []

    async def starter(topic: str) -> Any:
        events.append(f"start {topic}")

        async def stop() -> None:
            events.append(f"stop {topic}")

        return stop

    broker = Broker()
    broker.add_topic("logs:", scope="x:read", starter=starter)
    one, two = Subscriber(), Subscriber()
    await broker.subscribe(one, "logs:web")
    await broker.subscribe(two, "logs:web")
    await broker.unsubscribe(one, "logs:web")
    assert events == ["start logs:web"]
    await broker.drop(two)
    assert events == ["start logs:web", "stop logs:web"]
    assert broker.spec_for("logs:") is None and broker.spec_for("logs:db") is not None


async def test_publishing_from_another_thread_reaches_the_loop() -> None:
    broker = Broker()
    broker.bind(asyncio.get_running_loop())
    broker.add_topic("ticks", scope="x:read")
    subscriber = Subscriber()
    await broker.subscribe(subscriber, "ticks")
    await asyncio.to_thread(broker.publish, "ticks", "from a thread")
    frame = await asyncio.wait_for(subscriber.queue.get(), 2)
    assert "from a thread" in frame


class Ticker:
    """A plugin that declares a topic and publishes on it when asked."""

    @hookimpl
    def register_permissions(self) -> list[Permission]:
        return [Permission("ticker:read", "Watch ticks")]

    @hookimpl
    def startup(self, skyport: PluginContext) -> None:
        async def start(topic: str) -> Any:
            skyport.publish(topic, {"started": topic})
            return None

        skyport.add_topic("ticker.ticks:", scope="ticker:read", starter=start)


def test_plugin_topic_reaches_a_websocket_client(settings: Settings) -> None:
    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(Ticker(), name="ticker")
    app: Litestar = create_app(settings, plugins=manager)
    with TestClient(app) as client:
        token = login(client, "admin", ADMIN_PASSWORD)
        with client.websocket_connect("/ws", headers=bearer(token)) as ws:
            ws.send_json({"type": "subscribe", "topics": ["ticker.ticks:a"]})
            received = [ws.receive_json(timeout=5) for _ in range(2)]
    assert {"topic": "ticker.ticks:a", "data": {"started": "ticker.ticks:a"}} in received
    assert {"type": "subscribed", "topics": ["ticker.ticks:a"]} in received


def test_dashboard_session_cookie_opens_the_websocket(client: TestClient[Litestar]) -> None:
    response = client.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200  # the client now holds the HttpOnly session cookie
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "ping"})
        assert ws.receive_json(timeout=5) == {"type": "pong"}


def test_cookie_websocket_from_another_origin_is_refused(client: TestClient[Litestar]) -> None:
    from litestar.exceptions import WebSocketDisconnect

    client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws", headers={"Origin": "https://evil.example"}) as ws,
    ):
        ws.receive_json(timeout=5)
