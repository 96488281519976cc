"""SkyPort benchmarks, each figure beside its peer or floor measured in the same run.

    uv run python -m bench                 # everything, defaults (about 4-5 minutes)
    uv run python -m bench --only http --targets floor,glances
    uv run python -m bench --help

Sections: ``http`` (wrk against SkyPort, Glances 4 and the bare Litestar floor), ``layers``
(one request's cost in-process, floor vs SkyPort with and without auth; ``bench/layers.py``),
``ws`` (WebSocket fan-out to many clients: SkyPort vs the floor), ``cli``
(start-up of ``skyport --help`` vs ``import cyclopts`` vs ``python -c pass``),
``docker`` (``/api/docker/ps`` vs the raw Engine API vs ``docker ps -a``; container
stats: the collector vs ``docker stats`` vs the SDK; see ``bench/docker_bench.py``), ``vps``
(``uptime`` on 50 private sshd instances through ``POST /api/vps/run``, cold and pooled,
vs ``parallel-ssh -p 50``; see ``bench/vps_bench.py``), ``pm2`` (``/api/pm2/list`` with 20
processes vs ``pm2 jlist`` vs the daemon's raw ``getMonitorData`` RPC; see ``bench/pm2_bench.py``),
``tui`` (``skyport tui``'s first frame vs ``skyport --help``; its CPU at rest vs Glances' curses
UI; see ``bench/tui_bench.py``), ``marketplace`` (load + normalize every saved catalog vs
json/yaml; search p50/p99 through the API; see ``bench/marketplace_bench.py``), ``dashboard``
(the web UI in Chromium: initial JS vs React alone, navigation to the first metric vs
``/api/health``, 20 vs 500 containers, server CPU with 0/1/10 tabs; see
``bench/dashboard_bench.py``).
Everything runs on 127.0.0.1, every load run is bounded in time and connections.
Prints a table and writes ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench import (
    cli_startup,
    dashboard_bench,
    docker_bench,
    idle,
    layers,
    load,
    marketplace_bench,
    pm2_bench,
    targets,
    tui_bench,
    vps_bench,
    ws_fanout,
)
from bench.procs import ResourceSampler, Server, free_port, raise_nofile, rss_mb

HERE = Path(__file__).resolve().parent
SECTIONS = (
    "http",
    "layers",
    "ws",
    "cli",
    "docker",
    "vps",
    "pm2",
    "idle",
    "tui",
    "marketplace",
    "dashboard",
)
TARGETS = ("floor", "glances", "skyport")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "missing"


@contextlib.contextmanager
def started(
    name: str, start: Callable[[], targets.Target], errors: dict[str, str]
) -> Iterator[targets.Target | None]:
    """Start a target; on failure record why and yield None (the section goes on)."""
    log(f"starting {name}")
    try:
        t = start()
    except Exception as e:
        errors[name] = f"{type(e).__name__}: {e}"
        log(f"{name} unavailable: {errors[name]}")
        yield None
        return
    try:
        yield t
    finally:
        t.close()
        log(f"stopped {name}")


# --- sections ----------------------------------------------------------------------------
def bench_http(
    args: argparse.Namespace,
    starters: dict[str, Callable[[], targets.Target]],
    errors: dict[str, str],
) -> list[dict[str, Any]]:
    try:
        load.wrk_path()
    except load.LoadToolMissing as e:
        log(str(e))
        return [{"target": "-", "status": "skipped", "error": str(e)}]
    rows: list[dict[str, Any]] = []
    for name in args.targets:
        with started(name, starters[name], errors) as t:
            if t is None:
                rows.append({"target": name, "status": "unavailable", "error": errors[name]})
                continue
            idle_rss = rss_mb(t.server.proc.pid)  # type: ignore[union-attr]
            for ep in t.endpoints:
                row: dict[str, Any] = {
                    "target": name,
                    "endpoint": ep.path,
                    "compare_as": ep.name,
                    "rss_idle_mb": round(idle_rss, 1),
                }
                url = t.server.base_url + ep.path
                check = httpx.get(url, headers=t.headers, timeout=30)
                row["response_bytes"] = len(check.content)
                if check.status_code != 200:
                    row.update(
                        status="error", error=f"HTTP {check.status_code}: {check.text[:200]}"
                    )
                    rows.append(row)
                    log(f"{name} {ep.path}: {row['error']}")
                    continue
                log(f"wrk {name} {ep.path} ({args.duration}s, {args.connections} conns)")
                try:
                    if args.warmup:  # first requests are slower (imports, caches): discard
                        load.run_wrk(
                            url,
                            duration_s=args.warmup,
                            connections=args.connections,
                            threads=args.wrk_threads,
                            headers=t.headers,
                        )
                    with ResourceSampler(t.server.proc.pid) as rs:  # type: ignore[union-attr]
                        res = load.run_wrk(
                            url,
                            duration_s=args.duration,
                            connections=args.connections,
                            threads=args.wrk_threads,
                            headers=t.headers,
                        )
                except Exception as e:
                    row.update(status="error", error=f"{type(e).__name__}: {e}")
                    rows.append(row)
                    continue
                row.update(res.as_dict())
                row.update(
                    status="ok" if res.non_2xx == 0 else "non-2xx",
                    server_cpu_pct=round(rs.cpu_percent, 1),
                    server_rss_mb=round(rs.peak_rss_mb, 1),
                )
                rows.append(row)
                time.sleep(args.pause)
    floors = {
        r["compare_as"]: r["requests_per_s"]
        for r in rows
        if r.get("target") == "floor" and r.get("status") == "ok"
    }
    for r in rows:
        f = floors.get(r.get("compare_as", ""))
        if f and r.get("requests_per_s"):
            r["vs_floor"] = round(r["requests_per_s"] / f, 3)
    return rows


def bench_ws(
    args: argparse.Namespace,
    starters: dict[str, Callable[[], targets.Target]],
    errors: dict[str, str],
) -> list[dict[str, Any]]:
    soft = raise_nofile(args.ws_clients * 2 + 1024)
    clients = args.ws_clients
    if soft < clients + 256:
        clients = max(1, soft - 256)
        log(
            f"open-file limit is {soft}: using {clients} WebSocket clients "
            f"(raise it with `ulimit -n {args.ws_clients * 2 + 1024}`)"
        )
    rows: list[dict[str, Any]] = []
    for name in args.targets:
        if name == "glances":
            continue  # Glances has no WebSocket push
        with started(name, starters[name], errors) as t:
            if t is None or not t.ws_path:
                rows.append(
                    {
                        "target": name,
                        "status": "unavailable",
                        "error": errors.get(name, "no WebSocket"),
                    }
                )
                continue
            pid = t.server.proc.pid  # type: ignore[union-attr]
            idle = rss_mb(pid)
            log(f"ws fan-out {name}: {clients} clients, {args.ws_duration}s")
            try:
                with ResourceSampler(pid) as rs:
                    res = ws_fanout.run_fanout(
                        t.ws_url(),
                        clients=clients,
                        headers=t.headers,
                        subscribe=args.ws_subscribe or None,
                        topic=args.ws_topic or None,
                        duration_s=args.ws_duration,
                        grace_s=args.ws_grace,
                        connect_timeout_s=30,
                        compression=not args.ws_no_compression,
                    )
            except Exception as e:
                rows.append(
                    {"target": name, "status": "error", "error": f"{type(e).__name__}: {e}"}
                )
                continue
            row = {
                "target": name,
                **res.as_dict(),
                "status": "ok" if res.broadcasts and res.connected == clients else "partial",
                "server_cpu_pct": round(rs.cpu_percent, 1),
                "server_rss_idle_mb": round(idle, 1),
                "server_rss_mb": round(rs.peak_rss_mb, 1),
            }
            if res.connected:
                row["rss_per_client_kb"] = round((rs.peak_rss_mb - idle) * 1024 / res.connected, 1)
            rows.append(row)
    return rows


def bench_idle(
    starters: dict[str, Callable[[], targets.Target]], errors: dict[str, str]
) -> list[dict[str, Any]]:
    """Server CPU and RSS at rest with one dashboard-like subscription (floor and Glances
    beside; Glances polled as its web UI polls it)."""
    rows = []
    for name in ("floor", "glances", "skyport"):
        with started(name, starters[name], errors) as target:
            if target is None:
                rows.append({"target": name, "status": "unavailable", "error": errors[name]})
            elif name == "glances":
                rows.append(idle.measure_polled(target))
            else:
                rows.append(idle.measure_idle(target))
    return rows


def bench_cli(args: argparse.Namespace) -> list[dict[str, Any]]:
    py = sys.executable
    skyport = targets.skyport_argv(0, [])[:-3]  # the executable part only
    with tempfile.TemporaryDirectory(prefix="skyport-bench-cli-") as scratch:
        local = local_mode_environment(Path(scratch) / "in-process")
        served = local_mode_environment(Path(scratch) / "served")
        for env in (local, served):  # each schema exists before timing
            for warm in (["users", "list"], ["docker", "ps"]):
                subprocess.run([*skyport, *warm], env={**os.environ, **env}, capture_output=True)
        no_pyc = {
            "PYTHONPYCACHEPREFIX": str(Path(scratch) / "no-pyc"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        cmds: list[tuple[str, list[str], dict[str, str]]] = [
            ("python -c pass", [py, "-c", "pass"], {}),
            ("python -c 'import cyclopts'", [py, "-c", "import cyclopts"], {}),
            ("python -c 'import skyport'", [py, "-c", "import skyport"], {}),
            ("skyport --help", [*skyport, "--help"], {}),
            ("skyport --help, no .pyc", [*skyport, "--help"], no_pyc),
            ("skyport users list (in-process)", [*skyport, "users", "list"], local),
            ("skyport docker ps (in-process)", [*skyport, "docker", "ps"], local),
            ("skyport users list (server's socket)", [*skyport, "users", "list"], served),
            ("skyport docker ps (server's socket)", [*skyport, "docker", "ps"], served),
        ]
        timed = []
        with local_server(served):
            for name, argv, env in cmds:
                log(f"timing {name}")
                timed.append(
                    cli_startup.time_command(
                        name, argv, runs=args.cli_runs, use_hyperfine=not args.no_hyperfine, env=env
                    )
                )
    base = timed[0].median_ms
    helped = next(t.median_ms for t in timed if t.name == "skyport --help")
    helped_cpu = next(t.cpu_ms for t in timed if t.name == "skyport --help")
    rows: list[dict[str, Any]] = []
    for t in timed:
        r: dict[str, Any] = {**t.as_dict(), "status": "error" if t.error else "ok"}
        if base and t.median_ms:
            r["minus_python_ms"] = round(t.median_ms - base, 2)
            r["vs_python"] = round(t.median_ms / base, 2)
        if helped and t.median_ms and t.name.startswith("skyport ") and t.name != "skyport --help":
            r["vs_help"] = round(t.median_ms / helped, 2)
            if t.cpu_ms and helped_cpu:
                r["cpu_vs_help"] = round(t.cpu_ms / helped_cpu, 2)
        rows.append(r)
    return rows


@contextlib.contextmanager
def local_server(env: dict[str, str]) -> Iterator[None]:
    """``skyport serve`` on the data dir of ``env``: commands run with ``env`` reach it
    through the socket in that data dir."""
    port = free_port()
    argv = targets.skyport_argv(port, [])
    with Server("skyport", argv, port, env={**os.environ, **env}) as server:
        server.wait_http("/api/health", timeout=90)
        yield


def local_mode_environment(scratch: Path) -> dict[str, str]:
    """A CLI with no server configured (in-process, or reaching a server on this machine
    through its socket), on a data dir and home of its own."""
    home = scratch / "home"
    home.mkdir(parents=True)
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "SKYPORT_DATA_DIR": str(scratch / "data"),
        "SKYPORT_ADMIN_PASSWORD": "bench-admin-password",
        "SKYPORT_URL": "",
        "SKYPORT_TOKEN": "",
        "SKYPORT_CONFIG": "",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


# --- output --------------------------------------------------------------------------------
def _fmt(v: Any, nd: int = 2) -> str:
    if v is None or v == "":
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += [
        "  ".join(
            c.rjust(w) if i >= 2 else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    return "\n".join(out)


def _section(title: str, headers: list[str], rows: list[list[str]], notes: list[str]) -> str:
    text = f"\n{title}\n" + _table(headers, rows)
    return text + "".join(f"\n  [{i}] {n}" for i, n in enumerate(notes, 1))


def _problem(r: dict[str, Any], notes: list[str], width: int) -> list[str]:
    """Cells for a row that has no figures: its status, and the reason as a note."""
    lines = str(r.get("error", "")).strip().splitlines() or [""]
    why = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1].strip()}"
    notes.append(f"{r.get('target', r.get('name', '-'))}: {why[:300]}")
    return [f"{r.get('status', 'error')} [{len(notes)}]", *["-"] * (width - 1)]


def render(results: dict[str, Any]) -> str:
    m = results["meta"]
    p = m["params"]
    v = m["versions"]
    parts = [
        f"SkyPort bench  {m['date']}  {m['cpus']} CPUs  python {m['python']}  "
        f"litestar {v['litestar']}  uvicorn {v['uvicorn']}  {v['wrk']}  glances {v['glances']}"
    ]
    rows: list[list[str]]
    notes: list[str]
    busy = m["cpu_busy_pct_at_start"]
    if busy > 20:
        parts.append(
            f"WARNING: the CPUs were {busy:.0f}% busy before the run: other work on this "
            "machine skews the figures"
        )
    if "http" in results:
        rows, notes = [], []
        for r in results["http"]:
            head = [r.get("target", "-"), r.get("endpoint", "-")]
            if r.get("status") in ("ok", "non-2xx"):
                rows.append(
                    [
                        *head,
                        _fmt(r["requests_per_s"], 0),
                        _fmt(r["p50_ms"]),
                        _fmt(r["p99_ms"]),
                        _fmt(r.get("vs_floor")),
                        _fmt(r["non_2xx"] + r["socket_errors"]),
                        _fmt(r["server_cpu_pct"], 0),
                        _fmt(r["server_rss_mb"], 1),
                        _fmt(r.get("response_bytes")),
                    ]
                )
            else:
                rows.append([*head, *_problem(r, notes, 8)])
        title = (
            f"HTTP  (wrk -t{p['wrk_threads']} -c{p['connections']} -d{p['duration']}s, "
            "closed loop; x floor = req/s over the floor's for the same kind of endpoint)"
        )
        headers = ["target", "endpoint", "req/s", "p50 ms", "p99 ms", "x floor", "errors"]
        headers += ["srv CPU%", "srv RSS MiB", "bytes"]
        parts.append(_section(title, headers, rows, notes))
        ok = [r for r in results["http"] if r.get("status") == "ok"]
        sky = next(
            (r for r in ok if r["target"] == "skyport" and r["compare_as"] == "metrics"), None
        )
        gl = next((r for r in ok if r["target"] == "glances"), None)
        if sky and gl:
            parts.append(
                f"SkyPort /api/metrics vs Glances /api/4/all: "
                f"{sky['requests_per_s'] / gl['requests_per_s']:.2f}x req/s, "
                f"p99 {sky['p99_ms']:.2f} vs {gl['p99_ms']:.2f} ms"
            )
    if "ws" in results:
        rows, notes = [], []
        for r in results["ws"]:
            if "latency_p50_ms" in r:
                if not r["broadcasts"]:
                    notes.append(
                        f"{r['target']}: no timestamped broadcast in the window "
                        f"({r['messages']} messages, {r['messages_without_ts']} without ts): "
                        "check --ws-subscribe / --ws-topic against the server's protocol"
                    )
                if r.get("connect_errors") or r.get("dropped"):
                    notes.append(
                        f"{r['target']}: {r['connect_errors']} connect errors, {r['dropped']} "
                        f"dropped: {r['first_connect_error']}"
                    )
                rows.append(
                    [
                        r["target"],
                        f"{r['connected']}/{r['clients']}",
                        _fmt(r["broadcasts"]),
                        _fmt(r["delivered_pct"], 1),
                        _fmt(r["latency_p50_ms"]),
                        _fmt(r["latency_p99_ms"]),
                        _fmt(r["spread_p50_ms"]),
                        _fmt(r["server_cpu_pct"], 0),
                        f"{_fmt(r['server_rss_idle_mb'], 1)} -> {_fmt(r['server_rss_mb'], 1)}",
                        _fmt(r.get("rss_per_client_kb"), 1),
                        _fmt(r["client_cpu_pct"], 0),
                    ]
                )
            else:
                rows.append([r.get("target", "-"), *_problem(r, notes, 10)])
        title = (
            f"WebSocket fan-out  (topic {p['ws_topic']!r}, {p['ws_duration']}s window, "
            f"compression {'off' if p['ws_no_compression'] else 'offered'})"
        )
        headers = ["target", "clients", "bcasts", "deliv %", "lat p50 ms", "lat p99 ms"]
        headers += ["spread p50", "srv CPU%", "srv RSS MiB", "KiB/client", "client CPU%"]
        parts.append(_section(title, headers, rows, notes))
    if "cli" in results:
        rows, notes = [], []
        for r in results["cli"]:
            if r.get("median_ms") is not None:
                rows.append(
                    [
                        r["name"],
                        r["tool"],
                        _fmt(r["median_ms"]),
                        _fmt(r["stdev_ms"]),
                        _fmt(r.get("minus_python_ms")),
                        _fmt(r.get("vs_python")),
                        _fmt(r.get("vs_help")),
                        _fmt(r.get("cpu_ms")),
                        _fmt(r.get("cpu_vs_help")),
                    ]
                )
            else:
                rows.append([r.get("name", "-"), *_problem(r, notes, 8)])
        headers = ["command", "tool", "median ms", "stdev ms", "- python ms", "x python"]
        headers += ["x --help", "cpu ms", "cpu x --help"]
        parts.append(_section("CLI start-up  (wall time, median)", headers, rows, notes))
    if "docker" in results:
        parts.append(docker_bench.render(results["docker"], _section, _fmt, _problem))
    if "vps" in results:
        parts.append(vps_bench.render(results["vps"], _section, _fmt, _problem))
    if "pm2" in results:
        parts.append(pm2_bench.render(results["pm2"], _section, _fmt, _problem))
    if "marketplace" in results:
        parts.append(marketplace_bench.render(results["marketplace"], _section, _fmt, _problem))
    if "tui" in results:
        parts.append(tui_bench.render(results["tui"], _section, _fmt, _problem))
    if "dashboard" in results:
        parts.append(dashboard_bench.render(results["dashboard"], _section, _fmt, _problem))
    if "idle" in results:
        rows = [
            [
                r["target"],
                _fmt(r.get("seconds"), 0),
                str(r.get("messages", r.get("error", "-"))),
                _fmt(r.get("cpu_percent")),
                _fmt(r.get("rss_mb"), 1),
            ]
            for r in results["idle"]
        ]
        headers = ["target", "seconds", "messages", "srv CPU%", "srv RSS MiB"]
        title = "At rest, one metrics subscription open (Glances: GET /api/4/all every 2 s)"
        parts.append(_section(title, headers, rows, []))
    if "layers" in results:
        rows = [[r["what"], _fmt(r.get("us")), _fmt(r.get("x_floor"))] for r in results["layers"]]
        title = "Per request in-process (ASGI call, no socket), median of rounds"
        parts.append(_section(title, ["what", "us/request", "x floor"], rows, []))
    return "\n".join(parts)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma list of sections: {','.join(SECTIONS)} (default: all)",
    )
    p.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="comma list of servers: floor,glances,skyport (default: all)",
    )
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    p.add_argument(
        "--wrk-threads",
        type=int,
        default=1,
        help="wrk threads (1: leaves the other core to the server)",
    )
    p.add_argument(
        "--warmup", type=int, default=2, help="seconds of discarded wrk load before each run (2)"
    )
    p.add_argument("--pause", type=float, default=1.0, help="seconds between runs")
    p.add_argument("--ws-clients", type=int, default=1000, help="WebSocket clients (1000)")
    p.add_argument(
        "--ws-duration", type=float, default=20.0, help="WebSocket measurement window, seconds (20)"
    )
    p.add_argument(
        "--ws-grace",
        type=float,
        default=3.0,
        help="extra seconds to receive broadcasts sent in the window",
    )
    p.add_argument("--ws-topic", default="metrics")
    p.add_argument(
        "--ws-subscribe",
        default='{"type": "subscribe", "topics": ["metrics"]}',
        help="text each client sends after connecting ('' for none)",
    )
    p.add_argument(
        "--ws-no-compression",
        action="store_true",
        help="do not offer permessage-deflate (browsers do offer it)",
    )
    p.add_argument(
        "--floor-ws-interval",
        type=float,
        default=2.0,
        help="seconds between the floor's broadcasts (SkyPort's hub: 2-5 s)",
    )
    p.add_argument("--cli-runs", type=int, default=20)
    p.add_argument("--no-hyperfine", action="store_true", help="time with a subprocess loop")
    p.add_argument("--glances-venv", type=Path, default=targets.DEFAULT_GLANCES_VENV)
    p.add_argument(
        "--no-install-glances",
        action="store_true",
        help="do not install glances into --glances-venv when it is missing",
    )
    p.add_argument(
        "--skyport-args", default="", help="extra arguments for `skyport serve` (shell-quoted)"
    )
    docker_bench.add_arguments(p)
    vps_bench.add_arguments(p)
    pm2_bench.add_arguments(p)
    marketplace_bench.add_arguments(p)
    tui_bench.add_arguments(p)
    dashboard_bench.add_arguments(p)
    p.add_argument(
        "--json",
        type=Path,
        default=HERE / "results.json",
        help="where to write the results (bench/results.json)",
    )
    a = p.parse_args(argv)
    a.only = [s for s in a.only.split(",") if s]
    a.targets = [t for t in a.targets.split(",") if t]
    for s in a.only:
        if s not in SECTIONS:
            p.error(f"unknown section {s!r}")
    for t in a.targets:
        if t not in TARGETS:
            p.error(f"unknown target {t!r}")
    # Bounds: every load run ends by itself.
    a.duration = max(1, min(a.duration, 120))
    a.warmup = max(0, min(a.warmup, 60))
    a.connections = max(1, min(a.connections, 1000))
    a.ws_clients = max(1, min(a.ws_clients, 10000))
    a.ws_duration = max(1.0, min(a.ws_duration, 300.0))
    docker_bench.bound(a)
    vps_bench.bound(a)
    pm2_bench.bound(a)
    marketplace_bench.bound(a)
    tui_bench.bound(a)
    dashboard_bench.bound(a)
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(targets.REPO_ROOT)
    errors: dict[str, str] = {}
    glances_ver = "not used"
    glances_exe: Path | None = None
    if "glances" in args.targets and ({"http", "idle"} & set(args.only)):
        try:
            glances_exe = targets.glances_exe(
                args.glances_venv, install=not args.no_install_glances
            )
            glances_ver = targets.glances_version(glances_exe)
        except Exception as e:
            errors["glances"] = f"{type(e).__name__}: {e}"
            glances_ver = "missing"

    def _glances() -> targets.Target:
        if glances_exe is None:
            raise RuntimeError(errors.get("glances", "glances missing"))
        return targets.start_glances(glances_exe)

    skyport_args = shlex.split(args.skyport_args)
    starters: dict[str, Callable[[], targets.Target]] = {
        "floor": lambda: targets.start_floor(args.floor_ws_interval),
        "glances": _glances,
        "skyport": lambda: targets.start_skyport(skyport_args),
    }
    results: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "cpu_busy_pct_at_start": psutil.cpu_percent(interval=1.0),
            "versions": {
                "litestar": _version("litestar"),
                "uvicorn": _version("uvicorn"),
                "websockets": _version("websockets"),
                "skyport": _version("skyport"),
                "wrk": load.wrk_version(),
                "glances": glances_ver,
            },
            "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        }
    }
    sections: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "http": lambda: bench_http(args, starters, errors),
        "ws": lambda: bench_ws(args, starters, errors),
        "cli": lambda: bench_cli(args),
        "docker": lambda: docker_bench.run(args, starters["skyport"], log),
        "vps": lambda: vps_bench.run(args, starters["skyport"], log),
        "pm2": lambda: pm2_bench.run(args, starters["skyport"], log),
        "marketplace": lambda: marketplace_bench.run(args, starters["skyport"], log),
        "idle": lambda: bench_idle(starters, errors),
        "layers": lambda: layers.run(),
        "tui": lambda: tui_bench.run(
            args,
            # pm2 left out: it would start a daemon in this user's ~/.pm2
            lambda: targets.start_skyport(
                skyport_args, extra_env={"SKYPORT_DISABLE_PLUGINS": "pm2"}
            ),
            lambda: targets.glances_exe(args.glances_venv, install=not args.no_install_glances),
            log,
        ),
        "dashboard": lambda: dashboard_bench.run(args, log),
    }
    for s in args.only:
        try:
            results[s] = sections[s]()
        except KeyboardInterrupt:
            log("interrupted")
            break
        except Exception:
            log(f"section {s} failed:\n{traceback.format_exc()}")
            results[s] = [{"status": "error", "error": traceback.format_exc(limit=3)}]
    results["unavailable"] = errors
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    print(f"\nresults: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
