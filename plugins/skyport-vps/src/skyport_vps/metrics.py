"""The ``vps`` metrics collector: CPU, memory, disk, load and uptime of every server.

Each sample runs one command per server on its pooled (kept-alive)
connection, all servers at once, reading ``/proc`` and ``df``. CPU use is
the busy share of the time since the previous sample (the first sample
averages since boot). A server that cannot be reached is reported down with
the reason, and is not tried again before a back-off of two intervals that
doubles on every failure up to ``down_backoff_max``: no hot loop on a dead host.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import msgspec

from skyport.api import MetricsCollector, PluginContext
from skyport_vps.api.common import KIND
from skyport_vps.inventory import Server
from skyport_vps.runner import fan_out, run_command
from skyport_vps.state import VpsState, vps_state

SEPARATOR = "@@skyport@@"
PROBE = (
    f"cat /proc/stat; echo {SEPARATOR}; cat /proc/meminfo; echo {SEPARATOR}; "
    f"cat /proc/loadavg /proc/uptime; echo {SEPARATOR}; LC_ALL=C df -P -k /"
)


class ServerMetrics(msgspec.Struct, kw_only=True):
    name: str
    up: bool
    error: str | None = None
    cpu_percent: float | None = None
    load1: float | None = None
    load5: float | None = None
    load15: float | None = None
    memory_total: int | None = None
    memory_available: int | None = None
    memory_percent: float | None = None
    disk_total: int | None = None
    disk_used: int | None = None
    disk_percent: float | None = None
    uptime: float | None = None
    sampled_at: float | None = None
    next_try: float | None = None
    """Unix time of the next attempt, when the server is down."""


class VpsMetrics(msgspec.Struct):
    servers: list[ServerMetrics]
    up: int
    down: int


class _Backoff(msgspec.Struct):
    failures: int
    next_try: float
    last: ServerMetrics


def parse_probe(
    name: str, text: str, previous_cpu: tuple[int, int] | None
) -> tuple[ServerMetrics, tuple[int, int]]:
    """The metrics in the probe's output, and the CPU counters (busy, total) for next time."""
    parts = text.split(SEPARATOR)
    if len(parts) < 4:
        raise ValueError("unexpected output from /proc and df")
    cpu = next(line for line in parts[0].splitlines() if line.startswith("cpu "))
    ticks = [int(v) for v in cpu.split()[1:]]
    total = sum(ticks[:8])
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    busy = total - idle
    if previous_cpu and total > previous_cpu[1]:
        cpu_percent = 100.0 * (busy - previous_cpu[0]) / (total - previous_cpu[1])
    else:
        cpu_percent = 100.0 * busy / total if total else 0.0
    memory = {}
    for line in parts[1].splitlines():
        key, _, value = line.partition(":")
        if value.strip():
            memory[key.strip()] = int(value.split()[0]) * 1024
    mem_total = memory.get("MemTotal", 0)
    mem_available = memory.get("MemAvailable", memory.get("MemFree", 0))
    load_line, uptime_line = parts[2].strip().splitlines()[:2]
    loads = [float(v) for v in load_line.split()[:3]]
    disk = parts[3].strip().splitlines()[-1].split()
    disk_total, disk_used = int(disk[1]) * 1024, int(disk[2]) * 1024
    metrics = ServerMetrics(
        name=name,
        up=True,
        cpu_percent=round(max(0.0, min(100.0, cpu_percent)), 2),
        load1=loads[0],
        load5=loads[1],
        load15=loads[2],
        memory_total=mem_total,
        memory_available=mem_available,
        memory_percent=round(100.0 * (mem_total - mem_available) / mem_total, 2)
        if mem_total
        else None,
        disk_total=disk_total,
        disk_used=disk_used,
        disk_percent=round(100.0 * disk_used / disk_total, 2) if disk_total else None,
        uptime=float(uptime_line.split()[0]),
        sampled_at=time.time(),
    )
    return metrics, (busy, total)


class Sampler:
    """Samples every server with a trusted host key; remembers CPU counters and back-offs."""

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport
        self._cpu: dict[str, tuple[int, int]] = {}
        self._down: dict[str, _Backoff] = {}
        self._lock = threading.Lock()

    @property
    def state(self) -> VpsState:
        """The running state (made at start-up, after the collector was registered)."""
        return vps_state(self.skyport)

    def sample_one(self, server: Server) -> ServerMetrics:
        settings = self.state.settings
        now = time.time()
        with self._lock:
            backoff = self._down.get(server.name)
        if backoff is not None and now < backoff.next_try:
            return backoff.last
        result = run_command(self.state.pool, server, PROBE, settings.metrics_interval, 65536)
        if result.exit_code is not None:
            try:
                metrics, counters = parse_probe(
                    server.name, result.stdout, self._cpu.get(server.name)
                )
            except (ValueError, IndexError, StopIteration):
                return self._failed(server.name, "cannot read /proc and df on this server")
            with self._lock:
                self._cpu[server.name] = counters
                self._down.pop(server.name, None)
            return metrics
        return self._failed(server.name, result.error or "no answer")

    def _failed(self, name: str, error: str) -> ServerMetrics:
        settings = self.state.settings
        with self._lock:
            failures = self._down[name].failures + 1 if name in self._down else 1
            wait = min(settings.metrics_interval * 2**failures, settings.down_backoff_max)
            next_try = time.time() + wait
            down = ServerMetrics(name=name, up=False, error=error, next_try=next_try)
            self._down[name] = _Backoff(failures, next_try, down)
        return down

    async def collect(self) -> VpsMetrics:
        state = self.state
        await state.inventory.load()
        servers = [s for s in state.inventory.all() if s.host_key is not None]
        results = await fan_out(
            servers, self.sample_one, state.executor, state.settings.max_parallel
        )
        up = sum(1 for r in results if r.up)
        return VpsMetrics(results, up, len(results) - up)


def servers_seen_by(data: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """A sample (as builtins) as a user who may reach only the ``allowed`` servers sees it."""
    servers = [s for s in data.get("servers") or [] if s.get("name") in allowed]
    up = sum(1 for s in servers if s.get("up"))
    return {**data, "servers": servers, "up": up, "down": len(servers) - up}


def vps_collector(skyport: PluginContext) -> MetricsCollector:
    return MetricsCollector(
        "vps",
        collect=Sampler(skyport).collect,
        interval=skyport.settings.metrics_interval,
        description="CPU, memory, disk, load and uptime of every server (over SSH)",
        grant_kind=KIND,
        restrict=servers_seen_by,
    )
