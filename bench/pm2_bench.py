"""PM2 section: SkyPort's process list beside ``pm2 jlist`` and the daemon's own RPC.

With ``--pm2-processes`` apps (default 20, a tiny idle Node.js script) in a
private daemon (temporary ``PM2_HOME``, ``PM2_DISABLE_VERSION_CHECK=1``):

- ``getMonitorData`` over ``rpc.sock`` with the plugin's RPC client, one
  persistent connection, in this process: the floor (the daemon's own work,
  pidusage for every process included);
- ``GET /api/pm2/list`` on a ``skyport serve`` started by the harness with
  ``SKYPORT_PM2__HOME`` pointing at that daemon, over HTTP keep-alive with a
  Bearer token;
- ``pm2 jlist``, the pm2 CLI (a Node.js start-up per run).

Goal: ``/api/pm2/list`` at least 20x faster than ``pm2 jlist``. The daemon
(and its apps) are stopped at the end by the pid in ``pm2.pid``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.docker_bench import KeepAliveHTTP, timed

IDLE_APP = "setInterval(() => {}, 60000);\n"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pm2-processes", type=int, default=20, help="PM2 apps to list (20)")
    p.add_argument("--pm2-runs", type=int, default=50, help="timed runs per fast figure (50)")
    p.add_argument("--pm2-cli-runs", type=int, default=10, help="timed runs of pm2 jlist (10)")
    p.add_argument(
        "--pm2-bin",
        default=os.environ.get("SKYPORT_TEST_PM2_BIN") or "pm2",
        help="the pm2 command ($SKYPORT_TEST_PM2_BIN, else pm2 on the PATH)",
    )


def bound(a: argparse.Namespace) -> None:
    a.pm2_processes = max(1, min(a.pm2_processes, 200))
    a.pm2_runs = max(3, min(a.pm2_runs, 1000))
    a.pm2_cli_runs = max(1, min(a.pm2_cli_runs, 100))


def _pm2(binary: str, home: Path, *args: str, timeout: float = 120) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKYPORT_")}
    env.update(PM2_HOME=str(home), PM2_DISABLE_VERSION_CHECK="1")
    return subprocess.run(
        [binary, *args], env=env, cwd=home, capture_output=True, text=True,
        timeout=timeout, check=True,
    ).stdout  # fmt: skip


def _stop_daemon(home: Path, timeout: float = 30.0) -> None:
    """SIGTERM the daemon in ``pm2.pid`` (it stops its apps), SIGKILL if it lingers."""
    try:
        pid = int((home / "pm2.pid").read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def daemon_with_apps(binary: str, count: int, log: Callable[[str], None]) -> Iterator[Path]:
    """A private daemon running ``count`` idle apps, stopped at the end."""
    home = Path(tempfile.mkdtemp(prefix="bench-pm2-"))
    (home / "touch").touch()
    (home / "idle.js").write_text(IDLE_APP)
    apps = [{"name": f"bench-{i:03d}", "script": str(home / "idle.js")} for i in range(count)]
    (home / "bench.config.json").write_text(json.dumps({"apps": apps}))
    try:
        log(f"starting a pm2 daemon with {count} apps in {home}")
        t0 = time.monotonic()
        _pm2(binary, home, "start", str(home / "bench.config.json"))
        _settle(home, count)
        log(f"started in {time.monotonic() - t0:.1f} s")
        yield home
    finally:
        _stop_daemon(home)
        shutil.rmtree(home, ignore_errors=True)


def _settle(home: Path, count: int, timeout: float = 60.0) -> None:
    """Wait until every app is online and a second more: booting apps skew the first figures."""
    from skyport_pm2.rpc import RpcClient

    async def online() -> int:
        client = RpcClient(str(home / "rpc.sock"))
        try:
            procs = await client.call("getMonitorData", {})
        finally:
            await client.close()
        return sum(p["pm2_env"]["status"] == "online" for p in procs)

    deadline = time.monotonic() + timeout
    while asyncio.run(online()) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the {count} pm2 apps were not online within {timeout:.0f} s")
        time.sleep(0.2)
    time.sleep(1.0)


def _rpc_floor(home: Path, runs: int) -> dict[str, Any]:
    """``getMonitorData`` round trips on one connection, timed inside one event loop."""
    from skyport_pm2.rpc import RpcClient

    async def measure() -> dict[str, Any]:
        client = RpcClient(str(home / "rpc.sock"))
        try:
            await client.call("getMonitorData", {})
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                await client.call("getMonitorData", {})
                times.append((time.perf_counter() - t0) * 1000)
        finally:
            await client.close()
        times.sort()
        return {
            "name": "raw RPC getMonitorData (rpc.sock, plugin client, in-process)",
            "runs": runs,
            "status": "ok",
            "median_ms": round(times[len(times) // 2], 3),
            "min_ms": round(times[0], 3),
            "p90_ms": round(times[min(len(times) - 1, int(len(times) * 0.9))], 3),
        }

    try:
        return asyncio.run(measure())
    except Exception as e:
        return {"name": "raw RPC getMonitorData", "status": "error", "error": f"{e}"}


def _skyport(start_skyport: Callable[[], Any], home: Path, binary: str) -> Any:
    """``skyport serve`` with the pm2 plugin on the bench daemon (settings from its env)."""
    saved = {k: os.environ.get(k) for k in ("SKYPORT_PM2__HOME", "SKYPORT_PM2__BIN")}
    os.environ.update(SKYPORT_PM2__HOME=str(home), SKYPORT_PM2__BIN=binary)
    try:
        return start_skyport()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(
    args: argparse.Namespace, start_skyport: Callable[[], Any], log: Callable[[str], None]
) -> list[dict[str, Any]]:
    binary = shutil.which(args.pm2_bin)
    if binary is None:
        return [{"name": "-", "status": "skipped", "error": f"{args.pm2_bin}: not installed"}]
    rows: list[dict[str, Any]] = []
    with daemon_with_apps(binary, args.pm2_processes, log) as home:
        n = args.pm2_processes
        log(f"listing {n} pm2 processes ({args.pm2_runs} runs each)")
        rows.append({"processes": n, **_rpc_floor(home, args.pm2_runs)})
        target, why = None, ""
        try:
            target = _skyport(start_skyport, home, binary)
        except Exception as e:
            why = f"skyport serve: {type(e).__name__}: {e}"
        address = httpx.URL(target.server.base_url) if target else httpx.URL("http://127.0.0.1:9")
        http = KeepAliveHTTP(address.host, address.port, target.headers if target else {})

        def listing() -> None:
            if target is None:
                raise RuntimeError(why)
            if len(json.loads(http.get("/api/pm2/list"))) != n:
                raise RuntimeError(f"/api/pm2/list did not list the {n} processes")

        try:
            rows.append({"processes": n, **timed(
                "SkyPort GET /api/pm2/list (HTTP, Bearer)", listing, args.pm2_runs, 3
            )})  # fmt: skip
        finally:
            http.close()
            if target is not None:
                target.close()
        rows.append({"processes": n, **timed(
            "pm2 jlist (CLI)", lambda: _pm2(binary, home, "jlist"), args.pm2_cli_runs, 1
        )})  # fmt: skip
    floor = rows[0].get("median_ms")
    jlist = rows[-1].get("median_ms")
    for r in rows:
        if floor and r.get("median_ms"):
            r["vs_floor"] = round(r["median_ms"] / floor, 2)
        if jlist and r.get("median_ms"):
            r["faster_than_jlist"] = round(jlist / r["median_ms"], 1)
    return rows


TITLE = (
    "PM2: list processes  (median of sequential calls; x floor = over the raw RPC; "
    "goal: /api/pm2/list >= 20x faster than pm2 jlist)"
)


def render(
    rows: list[dict[str, Any]],
    section: Callable[[str, list[str], list[list[str]], list[str]], str],
    fmt: Callable[..., str],
    problem: Callable[[dict[str, Any], list[str], int], list[str]],
) -> str:
    headers = ["what", "n", "runs", "median ms", "min ms", "p90 ms", "x floor", "x jlist"]
    table: list[list[str]] = []
    notes: list[str] = []
    for r in rows:
        if r.get("status") == "ok":
            table.append([
                r["name"], fmt(r.get("processes")), fmt(r["runs"]), fmt(r["median_ms"]),
                fmt(r["min_ms"]), fmt(r["p90_ms"]), fmt(r.get("vs_floor")),
                fmt(r.get("faster_than_jlist"), 1),
            ])  # fmt: skip
        else:
            table.append([r.get("name", "-"), *problem(r, notes, len(headers) - 1)])
    sky = next((r for r in rows if "/api/pm2/list" in r.get("name", "")), None)
    if sky and sky.get("faster_than_jlist"):
        ratio = sky["faster_than_jlist"]
        notes.append(f"SkyPort /api/pm2/list is {ratio:.1f}x faster than pm2 jlist")
    return section(TITLE, headers, table, notes)
