"""Server cost at rest: CPU and memory with one dashboard-like subscription open.

The dashboard keeps one WebSocket subscribed to ``metrics``; this measures
what that costs the server over a quiet window (no other load), beside the
floor app doing the same, and beside Glances' web server with what its own web UI
does: ``GET /api/4/all`` every 2 s (its default refresh).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import websockets

from bench.procs import cpu_seconds, rss_mb
from bench.targets import Target


async def _watch(target: Target, seconds: float) -> dict[str, Any]:
    pid = target.server.proc.pid  # type: ignore[union-attr]
    async with websockets.connect(
        target.ws_url(), additional_headers=target.headers, compression=None
    ) as ws:
        await ws.send(json.dumps({"type": "subscribe", "topics": ["metrics"]}))
        await asyncio.sleep(3)  # let start-up work settle
        cpu0, start, messages = cpu_seconds(pid), time.monotonic(), 0
        deadline = start + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                await asyncio.wait_for(ws.recv(), timeout=left)
                messages += 1
            except TimeoutError:
                break
        elapsed = time.monotonic() - start
        return {
            "target": target.name,
            "seconds": round(elapsed, 1),
            "messages": messages,
            "cpu_percent": round((cpu_seconds(pid) - cpu0) / elapsed * 100, 2),
            "rss_mb": round(rss_mb(pid), 1),
        }


async def _poll(target: Target, seconds: float, every: float) -> dict[str, Any]:
    pid = target.server.proc.pid  # type: ignore[union-attr]
    url = target.server.base_url + target.endpoints[0].path
    async with httpx.AsyncClient(headers=target.headers, timeout=30) as client:
        await client.get(url)
        await asyncio.sleep(3)  # let start-up work settle
        cpu0, start, messages = cpu_seconds(pid), time.monotonic(), 0
        while time.monotonic() - start + every <= seconds:
            (await client.get(url)).raise_for_status()
            messages += 1
            await asyncio.sleep(start + messages * every - time.monotonic())
        await asyncio.sleep(max(0.0, start + seconds - time.monotonic()))
        elapsed = time.monotonic() - start
        return {
            "target": target.name,
            "seconds": round(elapsed, 1),
            "messages": messages,
            "cpu_percent": round((cpu_seconds(pid) - cpu0) / elapsed * 100, 2),
            "rss_mb": round(rss_mb(pid), 1),
        }


def measure_polled(target: Target, seconds: float = 30.0, every: float = 2.0) -> dict[str, Any]:
    """Server CPU % and RSS while one client polls its first endpoint every ``every`` s."""
    return asyncio.run(_poll(target, seconds, every))


def measure_idle(target: Target, seconds: float = 30.0) -> dict[str, Any]:
    """Server CPU % (of one core) and RSS with one ``metrics`` subscription open."""
    return asyncio.run(_watch(target, seconds))
