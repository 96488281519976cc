"""WebSocket fan-out: N clients in one asyncio process, bounded in count and time.

Each client connects (Bearer header and ``?token=``), sends the subscribe message,
and records the arrival time of every message. After all clients are connected
(or the connect phase timed out) the measurement window opens for
``duration_s``; clients keep reading ``grace_s`` longer so broadcasts sent inside
the window can arrive, then all close.

A broadcast is a message that carries a server timestamp (``ts``, top level or
under ``data``/``payload``; unix seconds, milliseconds or ISO 8601). For each
broadcast sent inside the window:

- delivery latency = client arrival time - server ``ts`` (same clock: one machine),
  one sample per (client, broadcast);
- spread = last arrival - first arrival across clients;
- delivered = how many connected clients got it.

The client's own CPU use is reported too: when it nears 100 % the latency
figures include the client's queueing (the floor, measured the same way, shows
how much).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from websockets.asyncio.client import connect


@dataclass
class FanoutResult:
    url: str
    clients: int
    connected: int
    connect_errors: int
    first_connect_error: str
    dropped: int
    connect_s: float
    duration_s: float
    broadcasts: int
    samples: int
    messages: int
    messages_without_ts: int
    delivered_pct: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    latency_max_ms: float | None
    spread_p50_ms: float | None
    spread_max_ms: float | None
    client_cpu_pct: float
    compression: bool

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _to_unix(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        v = float(v)
        return v / 1000.0 if v > 1e11 else v
    if isinstance(v, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
    return None


def find_ts(obj: Any) -> float | None:
    if not isinstance(obj, dict):
        return None
    for key in ("ts", "timestamp", "time", "sent_at"):
        if key in obj and (t := _to_unix(obj[key])) is not None:
            return t
    for key in ("data", "payload", "message"):
        inner = obj.get(key)
        if isinstance(inner, dict):
            for k in ("ts", "timestamp", "time", "sent_at"):
                if k in inner and (t := _to_unix(inner[k])) is not None:
                    return t
    return None


def _topic_ok(obj: dict[str, Any], topic: str | None) -> bool:
    if not topic:
        return True
    for key in ("topic", "channel"):
        if key in obj and isinstance(obj[key], str):
            return obj[key] == topic or obj[key].startswith(topic + ":")
    return True


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return round(values[k], 3)


async def _run(
    url: str,
    clients: int,
    headers: dict[str, str],
    subscribe: str | None,
    duration_s: float,
    grace_s: float,
    connect_timeout_s: float,
    connect_concurrency: int,
    compression: bool,
) -> tuple[Any, ...]:
    records: list[tuple[float, str | bytes]] = []
    errors: list[str] = []
    connected = 0
    all_connected = asyncio.Event()
    errors_after: list[str] = []
    sem = asyncio.Semaphore(connect_concurrency)
    t_connect0 = time.monotonic()

    async def one_client() -> None:
        nonlocal connected
        try:
            async with sem:
                ws = await connect(
                    url,
                    additional_headers=headers,
                    open_timeout=connect_timeout_s,
                    close_timeout=2,
                    ping_interval=None,
                    max_size=2**24,
                    compression="deflate" if compression else None,
                )
                if subscribe is not None:
                    await ws.send(subscribe)
        except Exception as e:  # counted and reported, never raised
            errors.append(f"{type(e).__name__}: {e}")
            if connected + len(errors) == clients:
                all_connected.set()
            return
        connected += 1
        if connected + len(errors) == clients:
            all_connected.set()
        try:
            async for msg in ws:
                records.append((time.time(), msg))
            errors_after.append(f"closed by the server: {ws.close_code} {ws.close_reason}")
        except asyncio.CancelledError:
            pass  # the measurement is over
        except Exception as e:
            errors_after.append(f"{type(e).__name__}: {e}")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 3)

    tasks = [asyncio.create_task(one_client()) for _ in range(clients)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_connected.wait(), connect_timeout_s + 5)
    connect_s = time.monotonic() - t_connect0
    cpu0, wall0 = time.process_time(), time.monotonic()
    window_start = time.time()
    await asyncio.sleep(duration_s)
    window_end = time.time()
    await asyncio.sleep(grace_s)
    cpu_pct = 100 * (time.process_time() - cpu0) / (time.monotonic() - wall0)
    for t in tasks:
        t.cancel()
    await asyncio.wait(tasks, timeout=15)
    return records, errors, errors_after, connected, connect_s, window_start, window_end, cpu_pct


def run_fanout(
    url: str,
    *,
    clients: int = 1000,
    headers: dict[str, str] | None = None,
    subscribe: str | None = None,
    topic: str | None = "metrics",
    duration_s: float = 20.0,
    grace_s: float = 3.0,
    connect_timeout_s: float = 30.0,
    connect_concurrency: int = 100,
    compression: bool = True,
) -> FanoutResult:
    if not (url.startswith(("ws://127.0.0.1:", "ws://localhost:"))):
        raise ValueError(f"refusing a non-loopback WebSocket URL: {url}")
    records, errors, errors_after, connected, connect_s, w0, w1, cpu_pct = asyncio.run(
        _run(
            url,
            clients,
            headers or {},
            subscribe,
            duration_s,
            grace_s,
            connect_timeout_s,
            connect_concurrency,
            compression,
        )
    )

    groups: dict[tuple[float, Any], list[float]] = {}
    no_ts = 0
    for arrival, raw in records:
        try:
            obj = json.loads(raw)
        except (ValueError, TypeError):
            continue
        if not isinstance(obj, dict) or not _topic_ok(obj, topic):
            continue
        ts = find_ts(obj)
        if ts is None:
            no_ts += 1
            continue
        if not (w0 <= ts <= w1):
            continue
        groups.setdefault((ts, obj.get("seq")), []).append(arrival)

    latencies: list[float] = []
    spreads: list[float] = []
    received = 0
    for (ts, _seq), arrivals in groups.items():
        latencies.extend((a - ts) * 1000 for a in arrivals)
        spreads.append((max(arrivals) - min(arrivals)) * 1000)
        received += len(arrivals)
    n_b = len(groups)
    delivered = 100.0 * received / (n_b * connected) if n_b and connected else 0.0
    first_err = errors[0] if errors else ""
    if errors:
        common = statistics.mode(errors)
        first_err = f"{common} (x{errors.count(common)})"
    return FanoutResult(
        url=url.split("?")[0],
        clients=clients,
        connected=connected,
        connect_errors=len(errors),
        first_connect_error=first_err[:300],
        dropped=len(errors_after),
        connect_s=round(connect_s, 2),
        duration_s=duration_s,
        broadcasts=n_b,
        samples=len(latencies),
        messages=len(records),
        messages_without_ts=no_ts,
        delivered_pct=round(delivered, 2),
        latency_p50_ms=_pct(latencies, 50),
        latency_p99_ms=_pct(latencies, 99),
        latency_max_ms=round(max(latencies), 3) if latencies else None,
        spread_p50_ms=_pct(spreads, 50),
        spread_max_ms=round(max(spreads), 3) if spreads else None,
        client_cpu_pct=round(cpu_pct, 1),
        compression=compression,
    )
