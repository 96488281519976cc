"""Cluster section: events across nodes, throughput behind HAProxy, the cost of a node.

Two real ``skyport serve`` nodes (``skyport.cluster.testing``) on a fresh database of the
PostgreSQL named by ``SKYPORT_TEST_POSTGRES_URL``, on 127.0.0.1, in one run:

- Event latency: 1,000 WebSocket clients follow the admins' ``audit`` topic; node A
  publishes an entry (an API token created on it) every 0.3 s; latency = arrival time -
  the entry's time (one clock: one machine). Cluster: 500 clients on each node (p50/p99
  for node B's, reached over NOTIFY, and for all); single node, the peer: the same
  1,000 clients all on node A.
- ``/api/metrics`` through HAProxy (the shipped configuration) with wrk: two nodes vs the
  same HAProxy sending everything to one node; node A direct as the floor.
- One idle node: its CPU and RSS over 20 s with nothing to do, and the PostgreSQL
  connections it holds (its TCP connections to the server's port); node A's after
  the load, beside it.

Run: ``uv run python -m bench.cluster_bench`` (needs HAProxy, wrk, PostgreSQL).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.load import run_wrk
from bench.procs import cpu_seconds, raise_nofile, rss_mb
from skyport.cluster.testing import Balancer, Node, make_nodes, start_all
from skyport.testing import ADMIN_PASSWORD, fresh_postgres_database

CLIENTS = 1000
EVENTS = 30
EVERY = 0.3
IDLE_SECONDS = 20.0


def login(node: Node) -> str:
    answer = httpx.post(
        f"{node.url}/api/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


async def follow(url: str, token: str, ready: asyncio.Event, samples: list[float]) -> None:
    """One client: subscribe to ``audit``, record each token-creation entry's latency."""
    async with connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}, compression=None
    ) as socket:
        await socket.send(json.dumps({"type": "subscribe", "topics": ["audit"]}))
        while json.loads(await socket.recv()).get("type") != "subscribed":
            pass
        ready.set()
        async for raw in socket:
            arrived = time.time()
            frame = json.loads(raw)
            data = frame.get("data") or {}
            if frame.get("topic") == "audit" and data.get("target") == "/api/auth/tokens":
                samples.append((arrived - data["at"]) * 1000)


async def latency(publisher: Node, placement: list[tuple[Node, int]], token: str) -> dict[str, Any]:
    """p50/p99 (ms) per node of the subscribers, for ``placement`` = [(node, clients)]."""
    per_node: dict[str, list[float]] = {node.name: [] for node, _ in placement}
    tasks, ready = [], []
    for node, count in placement:
        url = "ws" + node.url.removeprefix("http") + "/ws"
        for _ in range(count):
            event = asyncio.Event()
            ready.append(event)
            tasks.append(asyncio.create_task(follow(url, token, event, per_node[node.name])))
            await asyncio.sleep(0)  # connect gradually rather than all in one burst
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), 120)
    async with httpx.AsyncClient(base_url=publisher.url, timeout=30) as http:
        for i in range(EVENTS):
            created = await http.post(
                "/api/auth/tokens",
                json={"name": f"bench-{i}-{time.monotonic_ns()}", "scopes": ["status:read"]},
                headers={"Authorization": f"Bearer {token}"},
            )
            created.raise_for_status()
            await asyncio.sleep(EVERY)
    await asyncio.sleep(3)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    result: dict[str, Any] = {}
    everyone = [s for samples in per_node.values() for s in samples]
    for name, samples in [*per_node.items(), ("all", everyone)]:
        result[name] = _percentiles(
            samples, EVENTS * sum(c for n, c in placement if name in (n.name, "all"))
        )
    return result


def _percentiles(samples: list[float], expected: int) -> dict[str, Any]:
    if not samples:
        return {"samples": 0}
    ordered = sorted(samples)
    return {
        "samples": len(ordered),
        "delivered_pct": round(100 * len(ordered) / expected, 1),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
    }


def throughput(balancer_url: str, token: str) -> dict[str, Any]:
    """Requests/s of ``GET /api/metrics`` (wrk: 10 s, 32 connections, one thread)."""
    result = run_wrk(
        f"{balancer_url}/api/metrics",
        duration_s=10,
        connections=32,
        headers={"Authorization": f"Bearer {token}"},
    )
    return {
        "requests_per_s": result.requests_per_s,
        "p99_ms": result.p99_ms,
        "non_2xx": result.non_2xx,
    }


def database_connections(node: Node, url: str) -> int:
    """The node's open TCP connections to the PostgreSQL server."""
    import psutil
    import sqlalchemy as sa

    assert node.process is not None
    port = sa.make_url(url).port
    sockets = psutil.Process(node.process.pid).net_connections(kind="tcp")
    return sum(1 for c in sockets if c.raddr and c.raddr.port == port)


def idle_cost(node: Node) -> dict[str, Any]:
    assert node.process is not None
    pid = node.process.pid
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(IDLE_SECONDS)
    elapsed = time.monotonic() - started
    return {
        "cpu_percent": round((cpu_seconds(pid) - before) / elapsed * 100, 2),
        "rss_mb": round(rss_mb(pid), 1),
        "db_connections": database_connections(node, node.database_url),
    }


def main() -> None:
    if not os.environ.get("SKYPORT_TEST_POSTGRES_URL"):
        raise SystemExit(
            "needs a PostgreSQL server: set SKYPORT_TEST_POSTGRES_URL (.ci/start-postgres)"
        )
    raise_nofile(4 * CLIENTS)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder, fresh_postgres_database() as url:
        root = Path(folder)
        node_a, node_b = nodes = make_nodes(root, url, ["bench-a", "bench-b"])
        both = Balancer((node_a, node_b), root / "lb-both")
        single = Balancer((node_a, node_a), root / "lb-single")
        try:
            start_all(nodes)
            token = login(node_a)
            time.sleep(3)  # both nodes heartbeat and listen
            figures["idle"] = {"node_b": idle_cost(node_b)}
            half = CLIENTS // 2
            for round_ in (1, 2, 3):  # alternated: the machine's load drifts between runs
                figures[f"latency_single_node_{round_}"] = asyncio.run(
                    latency(node_a, [(node_a, CLIENTS)], token)
                )
                figures[f"latency_two_nodes_{round_}"] = asyncio.run(
                    latency(node_a, [(node_a, half), (node_b, CLIENTS - half)], token)
                )
            both.start()
            single.start()
            for round_ in (1, 2):
                figures[f"metrics_direct_node_a_{round_}"] = throughput(node_a.url, token)
                figures[f"metrics_haproxy_one_node_{round_}"] = throughput(single.url, token)
                figures[f"metrics_haproxy_two_nodes_{round_}"] = throughput(both.url, token)
            figures["busy_node_a_db_connections"] = database_connections(node_a, url)
        finally:
            both.stop()
            single.stop()
            for node in nodes:
                node.stop()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
