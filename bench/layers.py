"""Per-request cost in-process, layer by layer: the app called as ASGI, no socket, no server.

Each variant is one ``GET`` sent straight to the application's ASGI callable
(``--layers-requests`` times per round, ``--layers-rounds`` rounds taken in turn so a
busy moment of the machine weighs on all alike); the figure is the median of the rounds
in microseconds per request. The floor is ``bench/floor_app.py``'s constant
``/api/status``; SkyPort's app is built as ``skyport serve`` builds it (temporary data
dir, every installed plugin but pm2, metrics history off so no sampling runs meanwhile).
Two more rows give the host collector's cost per sample (``--layers-samples`` calls,
median), without and with the scan of the process table (which runs only while someone
wants the top processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

PASSWORD = "bench-admin-password-123"

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def _scope(path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


async def _call(app: Asgi, path: str, headers: dict[str, str]) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(path, headers), receive, send)
    return status


async def _per_request_us(app: Asgi, path: str, headers: dict[str, str], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await _call(app, path, headers)
    return (time.perf_counter() - started) / count * 1e6


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def _measure(requests: int, rounds: int) -> list[dict[str, Any]]:
    from bench.floor_app import app as floor
    from skyport.app import create_app
    from skyport.config import load_settings

    skyport = create_app(load_settings(overrides={"metrics": {"history": False}}))
    async with skyport.lifespan(), floor.lifespan():
        auth = skyport.state.auth
        session = (await auth.login("admin", PASSWORD, "127.0.0.1")).token
        principal = await auth.authenticate(session)
        _, api_token = await auth.create_token(principal, "bench", ["status:read"], None)
        bearer = {"Authorization": f"Bearer {session}"}
        variants: list[tuple[str, Asgi, str, dict[str, str]]] = [
            ("floor GET /api/status (constant, no auth)", floor, "/api/status", {}),
            ("SkyPort GET /api/health (no auth)", skyport, "/api/health", {}),
            ("SkyPort GET /api/status, Bearer session JWT", skyport, "/api/status", bearer),
            (
                "SkyPort GET /api/status, Bearer API token",
                skyport,
                "/api/status",
                {"Authorization": f"Bearer {api_token}"},
            ),
            ("floor GET /api/metrics (a psutil snapshot)", floor, "/api/metrics", {}),
            ("SkyPort GET /api/metrics, Bearer session JWT", skyport, "/api/metrics", bearer),
        ]
        for _, app, path, headers in variants:  # warm: imports, caches, the answer is right
            assert await _call(app, path, headers) == 200, path
        samples: dict[str, list[float]] = {name: [] for name, *_ in variants}
        for index in range(rounds):
            turn = variants[index % len(variants) :] + variants[: index % len(variants)]
            for name, app, path, headers in turn:
                samples[name].append(await _per_request_us(app, path, headers, requests))
        lookup = await _per_request_us_call(lambda: auth.authenticate(session), requests)
    medians = {name: statistics.median(s) for name, s in samples.items()}
    floor_us = medians[variants[0][0]]
    rows = [{"what": n, "us": round(us, 1), "x_floor": us / floor_us} for n, us in medians.items()]
    rows.append({"what": "of which: AuthService.authenticate (cached)", "us": round(lookup, 2)})
    return rows


async def _per_request_us_call(call: Callable[[], Awaitable[Any]], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await call()
    return (time.perf_counter() - started) / count * 1e6


def sampler_rows(samples: int = 30) -> list[dict[str, Any]]:
    """Microseconds per ``host`` sample without and with the process scan."""
    import psutil

    from skyport.metrics.demand import Demand
    from skyport.metrics.host import HostCollector

    rows = []
    for label, linger in (("without", 0.0), ("with", 3600.0)):
        collector = HostCollector(5, Demand(linger=linger))
        collector.processes.ask()
        collector.collect()  # the first sample reads the mount table too
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            collector.collect()
            times.append((time.perf_counter() - started) * 1e6)
        what = f"host collector, one sample {label} the process scan"
        rows.append({"what": what, "us": round(statistics.median(times), 1)})
    rows[-1]["what"] += f" ({len(psutil.pids())} processes)"
    return rows


def run(requests: int = 5000, rounds: int = 7) -> list[dict[str, Any]]:
    """Microseconds per request of each variant (see the module docstring), then the
    host collector's cost per sample."""
    with tempfile.TemporaryDirectory(prefix="bench-layers-") as folder:
        config = os.path.join(folder, "config.yaml")
        with open(config, "w") as file:
            file.write("{}\n")
        with _environment(
            SKYPORT_DATA_DIR=os.path.join(folder, "data"),
            SKYPORT_CONFIG=config,
            SKYPORT_ADMIN_PASSWORD=PASSWORD,
            SKYPORT_DISABLE_PLUGINS="pm2",
        ):
            return [*asyncio.run(_measure(requests, rounds)), *sampler_rows()]


if __name__ == "__main__":
    for row in run():
        print(row)
