"""The ``vps`` metrics collector: CPU, memory, disk, load and uptime of every server.

Each sample runs one command per server on its pooled (kept-alive)
connection, all servers at once, reading ``/proc`` and ``df``. CPU use is
the busy share of the time since the previous sample (the first sample
averages since boot). A server that cannot be reached is reported down with
the reason, and is not tried again before a back-off of two intervals that
doubles on every failure up to ``down_backoff_max``: no hot loop on a dead host.

**One poller per cluster.** The SSH sampling is leader work (``skyport.lead``, role
``vps.metrics``): one node at a time samples every server every ``vps.metrics_interval``
seconds and writes each round to the ``vps_samples`` table in one transaction (a row
per server, the rows of servers no longer sampled gone). The collector of every node,
the leader's included, only reads that table (one query), so ``/api/metrics``, the
``metrics`` topic, history and Prometheus show the same servers on every node while
each server sees the probes of one node. When the leader dies, the next node to take
the role starts sampling (its first CPU figure averages since boot again).

**When the leader samples.** With ``metrics.history`` on (the default) it samples
always, as the hub does for history. With history off it samples only on demand: a
node whose hub wants vps metrics (a ``metrics`` subscriber, or ``GET /api/metrics``)
marks ``vps_sampling.wanted_at`` (at most once an interval), and the leader samples
while that mark is younger than :data:`WANT_LINGER` intervals, then idles again
(checking the mark every second or so). A collector that finds no round younger than
:data:`STALE` intervals (the leader idle, just started or just moved) waits for the
next round, at most one and a half intervals, and otherwise returns what is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

import msgspec
import sqlalchemy as sa

from skyport.api import MetricsCollector, PluginContext
from skyport.store import Database
from skyport_vps.api.common import KIND
from skyport_vps.inventory import Server
from skyport_vps.runner import fan_out, run_command
from skyport_vps.state import VpsState, vps_state

WANT_LINGER = 3.0
"""Intervals the leader keeps sampling after a node last wanted vps metrics (history off)."""
STALE = 3.0
"""Intervals after which a stored round is too old to serve without waiting for a new one."""
IDLE_CHECK = 1.0
"""Longest seconds an idle leader (history off) waits before looking for demand again."""

metadata = sa.MetaData()
"""The tables of shared samples (``vps_0002``)."""
samples_table = sa.Table(
    "vps_samples",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("sampled_at", sa.Float, nullable=False),
)
sampling_table = sa.Table(
    "vps_sampling",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sampled_at", sa.Float, nullable=True),
    sa.Column("wanted_at", sa.Float, nullable=True),
)

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


class Stored(msgspec.Struct, frozen=True):
    """What the table holds: the last round's samples, when it was written, when wanted."""

    servers: list[ServerMetrics]
    sampled_at: float | None
    wanted_at: float | None

    def fresh(self, now: float, interval: float) -> bool:
        return self.sampled_at is not None and self.sampled_at >= now - STALE * interval


class SampleStore:
    """The ``vps_samples`` and ``vps_sampling`` tables, shared by the nodes of a cluster."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def read(self) -> Stored:
        """The stored round, in one query (the mark row joined with every sample)."""
        query = (
            sa.select(sampling_table.c.sampled_at, sampling_table.c.wanted_at, samples_table.c.data)
            .select_from(sampling_table.outerjoin(samples_table, sa.true()))
            .where(sampling_table.c.id == 1)
            .order_by(samples_table.c.name)
        )
        async with self.database.connect() as conn:
            rows = (await conn.execute(query)).all()
        servers = [msgspec.json.decode(r.data, type=ServerMetrics) for r in rows if r.data]
        first = rows[0] if rows else None
        return Stored(
            servers,
            first.sampled_at if first else None,
            first.wanted_at if first else None,
        )

    async def write(self, servers: list[ServerMetrics], now: float) -> None:
        """Replace the stored round with ``servers`` (one transaction)."""
        rows = [
            {"name": s.name, "data": msgspec.json.encode(s).decode(), "sampled_at": now}
            for s in servers
        ]
        async with self.database.begin() as conn:
            await conn.execute(samples_table.delete())
            if rows:
                await conn.execute(samples_table.insert(), rows)
            await conn.execute(
                sampling_table.update().where(sampling_table.c.id == 1).values(sampled_at=now)
            )

    async def wanted_at(self) -> float | None:
        """When a node last wanted vps metrics (the marks row alone: cheap to poll)."""
        query = sa.select(sampling_table.c.wanted_at).where(sampling_table.c.id == 1)
        async with self.database.connect() as conn:
            wanted: float | None = (await conn.execute(query)).scalar()
        return wanted

    async def want(self, now: float) -> None:
        """Say that a node wants vps metrics now."""
        async with self.database.begin() as conn:
            await conn.execute(
                sampling_table.update().where(sampling_table.c.id == 1).values(wanted_at=now)
            )


class SharedMetrics:
    """The leader's sampling rounds (:meth:`lead`) and every node's reads (:meth:`collect`)."""

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport
        self.sampler = Sampler(skyport)
        self.store = SampleStore(skyport.database)
        self.always = bool(skyport.config.metrics.history)
        """Sample whether wanted or not (history is on, as the hub does)."""
        self._wake = asyncio.Event()
        self._rounds = asyncio.Event()
        self._declared = False

    def start(self) -> None:
        """Called in ``startup``: fresh events on the app's loop, and the leader role
        (declared once, should the app start again)."""
        self._wake = asyncio.Event()
        self._rounds = asyncio.Event()
        if not self._declared:
            self.skyport.lead("metrics", self.lead)
            self._declared = True

    @property
    def interval(self) -> float:
        return float(self.skyport.settings.metrics_interval)

    async def lead(self) -> None:
        """The leader's work: a round every interval while wanted, until cancelled."""
        loop = asyncio.get_running_loop()
        said = False
        while True:
            started = loop.time()
            try:
                if self.always or await self._wanted():
                    await self.sample_round()
                    wait = started + self.interval - loop.time()
                else:
                    wait = min(IDLE_CHECK, self.interval / 4)
                said = False
            except Exception:
                if not said:  # (the database is away?) say it once, keep trying
                    self.skyport.logger.exception("vps metrics: a sampling round failed")
                    said = True
                wait = self.interval
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, wait))

    async def _wanted(self) -> bool:
        wanted_at = await self.store.wanted_at()
        return wanted_at is not None and wanted_at >= time.time() - WANT_LINGER * self.interval

    async def sample_round(self) -> None:
        """Sample every server and store the round."""
        metrics = await self.sampler.collect()
        await self.store.write(metrics.servers, time.time())
        self._rounds.set()
        self._rounds = asyncio.Event()

    async def collect(self) -> VpsMetrics:
        """The stored round (waiting for a new one when it is stale), as the hub wants it."""
        loop = asyncio.get_running_loop()
        now = time.time()
        stored = await self.store.read()
        if not self.always and (stored.wanted_at is None or stored.wanted_at < now - self.interval):
            await self.store.want(now)
            self._wake.set()  # this node may be the leader: no need to wait for its check
        deadline = loop.time() + 1.5 * self.interval
        while not stored.fresh(now, self.interval) and (left := deadline - loop.time()) > 0:
            rounds = self._rounds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rounds.wait(), min(0.25, left))
            stored = await self.store.read()
        up = sum(1 for s in stored.servers if s.up)
        return VpsMetrics(stored.servers, up, len(stored.servers) - up)


def servers_seen_by(data: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """A sample (as builtins) as a user who may reach only the ``allowed`` servers sees it."""
    servers = [s for s in data.get("servers") or [] if s.get("name") in allowed]
    up = sum(1 for s in servers if s.get("up"))
    return {**data, "servers": servers, "up": up, "down": len(servers) - up}


def shared_metrics(skyport: PluginContext) -> SharedMetrics:
    """The plugin's one :class:`SharedMetrics` (made with its collector)."""
    shared = skyport.state.get("metrics")
    if shared is None:
        shared = skyport.state["metrics"] = SharedMetrics(skyport)
    return shared


def vps_collector(skyport: PluginContext) -> MetricsCollector:
    return MetricsCollector(
        "vps",
        collect=shared_metrics(skyport).collect,
        interval=skyport.settings.metrics_interval,
        description="CPU, memory, disk, load and uptime of every server (over SSH)",
        grant_kind=KIND,
        restrict=servers_seen_by,
    )
