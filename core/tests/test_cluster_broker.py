"""Two nodes' brokers joined as the cluster bus joins them (frames relayed as they are)."""

from __future__ import annotations

import json
from typing import Any

from skyport.broker import Broker, Subscriber


def linked() -> tuple[Broker, Broker]:
    """Node a's broker relaying to node b's."""
    a, b = Broker(node="a"), Broker(node="b")
    a.relay = b.deliver_frame
    return a, b


def frames(subscriber: Subscriber) -> list[dict[str, Any]]:
    found = []
    while not subscriber.queue.empty():
        found.append(json.loads(subscriber.queue.get_nowait()))
    return found


async def test_a_cluster_topic_reaches_the_other_node_naming_its_publisher() -> None:
    a, b = linked()
    for broker in (a, b):
        broker.add_topic("jobs:", scope="x:read")
        broker.add_topic("mine", scope="x:read", cluster=False)
    there = Subscriber()
    await b.subscribe(there, "jobs:1")
    await b.subscribe(there, "mine")
    a.publish("jobs:1", {"line": "hello"})
    a.publish("mine", {"stays": True})
    assert frames(there) == [{"topic": "jobs:1", "data": {"line": "hello"}, "node": "a"}]


async def test_a_view_sees_what_another_node_published_as_json() -> None:
    a, b = linked()

    async def only_web(_principal: Any) -> Any:
        return lambda message: message if message["server"] == "web" else None

    for broker in (a, b):
        broker.add_topic("run:", scope="x:read", view=only_web)
    there = Subscriber()
    await b.subscribe(there, "run:1", await only_web(None))
    a.publish("run:1", {"server": "db", "data": "secret"})
    a.publish("run:1", {"server": "web", "data": "ok"})
    assert frames(there) == [
        {"topic": "run:1", "data": {"server": "web", "data": "ok"}, "node": "a"}
    ]


async def test_a_producer_runs_while_a_client_of_any_node_follows_its_topic() -> None:
    a = Broker(node="a")
    running: list[str] = []

    async def start(topic: str) -> Any:
        running.append(topic)

        async def stop() -> None:
            running.remove(topic)

        return stop

    a.add_topic("events", scope="x:read", starter=start)
    a.add_topic("logs:", scope="x:read", starter=start, cluster=False)
    await a.set_remote_interest("b", frozenset({"events", "logs:1"}))
    assert running == ["events"]  # a node-local stream is never started for another node
    here = Subscriber()
    await a.subscribe(here, "events")
    await a.set_remote_interest("b", frozenset())
    assert running == ["events"]  # a's own client still follows it
    await a.unsubscribe(here, "events")
    assert running == []
    assert a.followed() == []
