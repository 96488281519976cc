"""The floor: the least a Litestar app can do for the endpoints SkyPort serves.

Served by the bench harness with uvicorn on a free 127.0.0.1 port, in the same
process model as ``skyport serve`` (one uvicorn worker, the same uvicorn and
Litestar), so SkyPort's figures can be read as "floor + SkyPort's own work":

- ``GET /api/status``  — a constant small JSON document (framework floor).
- ``GET /api/metrics`` — a host snapshot (psutil) sampled in the background
  every ``FLOOR_SAMPLE_INTERVAL`` seconds and served from memory; what a
  cached metrics endpoint costs at best.
- ``WS /ws``           — accepts any client, ignores what it sends (subscribe
  messages), and every ``FLOOR_WS_INTERVAL`` seconds sends each client the same
  JSON message ``{"topic": "metrics", "seq": n, "ts": <unix time>, "data": ...}``,
  encoded once, written to all sockets concurrently. The fan-out floor.

No auth: a Bearer header or ``?token=`` is accepted and ignored.
Run by hand: ``uv run uvicorn bench.floor_app:app --host 127.0.0.1 --port 8765``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import psutil
from litestar import Litestar, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect

SAMPLE_INTERVAL = float(os.environ.get("FLOOR_SAMPLE_INTERVAL", "2"))
WS_INTERVAL = float(os.environ.get("FLOOR_WS_INTERVAL", "2"))

_encoder = msgspec.json.Encoder()
_snapshot: dict[str, Any] = {}
_clients: set[WebSocket] = set()


def _sample() -> dict[str, Any]:
    vm = psutil.virtual_memory()
    du = psutil.disk_usage("/")
    net = psutil.net_io_counters()
    load = os.getloadavg()
    return {
        "ts": time.time(),
        "cpu": {
            "percent": psutil.cpu_percent(interval=None),
            "per_cpu": psutil.cpu_percent(interval=None, percpu=True),
            "count": psutil.cpu_count(),
            "load": list(load),
        },
        "memory": {
            "total": vm.total,
            "used": vm.used,
            "available": vm.available,
            "percent": vm.percent,
        },
        "disk": {"total": du.total, "used": du.used, "free": du.free, "percent": du.percent},
        "network": {"bytes_sent": net.bytes_sent, "bytes_recv": net.bytes_recv},
        "uptime": time.time() - psutil.boot_time(),
    }


async def _send_one(ws: WebSocket, payload: str) -> None:
    try:
        await ws.send_text(payload)
    except Exception:
        _clients.discard(ws)


async def _sampler() -> None:
    global _snapshot
    seq = 0
    next_ws = time.monotonic() + WS_INTERVAL
    while True:
        _snapshot = _sample()
        now = time.monotonic()
        if now >= next_ws:
            next_ws = now + WS_INTERVAL
            if _clients:
                seq += 1
                message = {"topic": "metrics", "seq": seq, "ts": time.time(), "data": _snapshot}
                payload = _encoder.encode(message).decode()
                await asyncio.gather(*(_send_one(ws, payload) for ws in list(_clients)))
        await asyncio.sleep(min(SAMPLE_INTERVAL, max(0.01, next_ws - time.monotonic())))


@contextlib.asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    psutil.cpu_percent(interval=None)
    task = asyncio.create_task(_sampler())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@get("/api/status", sync_to_thread=False)
def status() -> dict[str, Any]:
    return {"status": "ok", "version": "floor"}


@get("/api/metrics", sync_to_thread=False)
def metrics() -> dict[str, Any]:
    return _snapshot


@websocket("/ws")
async def ws_handler(socket: WebSocket) -> None:
    await socket.accept()
    _clients.add(socket)
    try:
        while True:
            await socket.receive_data(mode="text")
    except WebSocketDisconnect:
        pass
    finally:
        _clients.discard(socket)


app = Litestar(
    route_handlers=[status, metrics, ws_handler],
    lifespan=[_lifespan],
    openapi_config=None,
    logging_config=None,
)
