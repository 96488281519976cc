"""Container statistics: the ``containers`` metrics collector, one-shot and live stats.

The numbers are those of ``docker stats``: CPU % is the container's CPU time
over the host's CPU time between two readings, times the online CPUs, times
100 (so one busy core is 100 %); memory is usage without inactive file cache,
against the limit (or the machine's memory); network and block I/O are byte
counters since the container started.

For the local engine the counters come straight from the cgroup files
(:mod:`skyport_docker.cgroups`): one engine call lists the running
containers, then a pass over 50 of them reads files for a few milliseconds.
Remote engines (and local containers whose cgroup is not readable here) go
through the stats API with ``one-shot`` (no 1 s wait in the engine), all
containers concurrently. CPU % needs two readings: each :class:`EngineSampler`
keeps the previous one per container, shared by the collector, the API and
the live topic ``docker.stats:<id>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import msgspec
from docker.utils import version_lt
from litestar.exceptions import ClientException, HTTPException, NotFoundException

from skyport.api import MetricsCollector, PluginContext
from skyport_docker.cgroups import CgroupPaths, Counters, HostCgroups
from skyport_docker.containers import list_containers
from skyport_docker.engines import Engine
from skyport_docker.state import docker_state

log = logging.getLogger(__name__)

TOPIC_PREFIX = "docker.stats:"
FOLLOW_INTERVAL = 1.0
"""Seconds between two messages on ``docker.stats:<id>`` (as ``docker stats``)."""
MIN_SPAN = 0.5
"""Readings kept for CPU % are at least this far apart, and CPU % is taken over at least
this long, even when another consumer sampled the same container a moment earlier."""
FRESH = 10.0
"""A kept reading older than this is not used for a one-shot CPU % (it would be an
average over minutes); the one-shot waits ``window`` seconds instead."""
API_WORKERS = 32
"""Concurrent stats API calls per engine pass."""


class ContainerStats(msgspec.Struct):
    """One running container's figures, as ``docker stats`` shows them."""

    name: str
    """Container name. In the ``containers`` collector: ``<engine>/<name>`` for every
    engine but the default one, so names stay unique across engines."""
    id: str
    engine: str
    cpu_percent: float
    """Share of one core since the previous reading: 100 = one core, above on several."""
    memory_usage_bytes: int
    """Memory in use, inactive file cache excluded."""
    memory_limit_bytes: int
    """The container's limit, or the machine's memory when it has none."""
    memory_percent: float
    network_rx_bytes: int
    """Bytes received since the container started (loopback excluded)."""
    network_tx_bytes: int
    block_read_bytes: int
    block_write_bytes: int
    pids: int
    source: str
    """``cgroup`` (read from the files) or ``api`` (the engine's stats endpoint)."""


class EngineSample(msgspec.Struct):
    """How sampling one engine went."""

    name: str
    up: bool
    running: int
    """Running containers sampled."""
    seconds: float
    """Time the engine's pass took."""
    error: str | None = None


class ContainersSnapshot(msgspec.Struct):
    """The ``containers`` collector: every running container of every engine.

    In Prometheus each container is labelled by ``name``:
    ``skyport_containers_container_cpu_percent{name="web"}``, and each engine
    too: ``skyport_containers_engines_up{name="local"}``.
    """

    running: int
    container: list[ContainerStats]
    engines: list[EngineSample]


@dataclass(frozen=True, slots=True)
class Target:
    """A running container to read: what the listing (or an inspect) told us."""

    id: str
    name: str
    own_network: bool = True
    """False for ``--network host``: its interfaces are the host's (the engine reports none)."""
    pid: int | None = None


class EngineSampler:
    """Reads one engine's running containers; keeps the previous reading of each."""

    def __init__(self, engine: Engine, cgroups: HostCgroups | None) -> None:
        self.engine = engine
        self.cgroups = cgroups if engine.is_local and cgroups and cgroups.available else None
        self.busy = threading.Lock()
        """Held while a collector pass runs (a slow engine never gets two at once)."""
        self._lock = threading.Lock()
        self._paths: dict[str, CgroupPaths | None] = {}
        self._kept: dict[str, tuple[Counters | None, Counters]] = {}
        """The last two readings per container, at least ``MIN_SPAN`` apart."""

    # -- what to read ----------------------------------------------------------

    def running(self) -> list[Target]:
        """The running containers: one engine call, no per-container inspect."""
        rows = self.engine.call(lambda client: list_containers(client, self.engine.name))
        return [Target(row.id, row.name or row.id[:12], "host" not in row.networks) for row in rows]

    def inspect(self, ref: str) -> Target:
        """The container ``ref`` (id, prefix or name); 404 if unknown, 409 if not running."""
        data = self.engine.call(lambda client: client.inspect_container(ref))
        name = str(data.get("Name") or data["Id"][:12]).lstrip("/")
        state = data.get("State") or {}
        if not state.get("Running"):
            raise ClientException(
                f"container {name} is not running ({state.get('Status', 'stopped')})",
                status_code=409,
            )
        network = (data.get("HostConfig") or {}).get("NetworkMode")
        return Target(data["Id"], name, network != "host", state.get("Pid") or None)

    # -- reading ---------------------------------------------------------------

    def read(
        self, targets: list[Target], *, strict: bool = False
    ) -> list[tuple[Target, Counters, str]]:
        """Counters of each target: cgroup files where possible, else the API concurrently.

        A container that stopped or went since it was listed is left out, unless
        ``strict`` (then the API's 404 is raised).
        """
        readings: list[tuple[Target, Counters, str]] = []
        by_api: list[Target] = []
        if self.cgroups is not None and targets:
            system_ns = self.cgroups.system_cpu_ns()
            for target in targets:
                paths = self._locate(target)
                if paths is None:
                    by_api.append(target)
                    continue
                try:
                    counters = self.cgroups.read(
                        paths, network=target.own_network, system_ns=system_ns
                    )
                except (OSError, ValueError):
                    with self._lock:  # stopped, or restarted elsewhere: look again next time
                        self._paths.pop(target.id, None)
                    by_api.append(target)
                    continue
                readings.append((target, counters, "cgroup"))
        else:
            by_api = list(targets)
        if strict:
            readings += [(target, self._read_api(target), "api") for target in by_api]
        elif len(by_api) == 1:
            found = self._read_api_if_running(by_api[0])
            if found is not None:
                readings.append((by_api[0], found, "api"))
        elif by_api:
            with ThreadPoolExecutor(min(API_WORKERS, len(by_api)), "docker-stats") as pool:
                for target, found in zip(by_api, pool.map(self._read_api_if_running, by_api),
                                         strict=True):  # fmt: skip
                    if found is not None:
                        readings.append((target, found, "api"))
        return readings

    def _locate(self, target: Target) -> CgroupPaths | None:
        with self._lock:
            if target.id in self._paths:
                return self._paths[target.id]
        assert self.cgroups is not None
        paths = self.cgroups.locate(target.id, target.pid)
        if paths is None and target.pid is None:
            with contextlib.suppress(HTTPException):
                pid = self.inspect(target.id).pid
                paths = self.cgroups.locate(target.id, pid) if pid else None
        with self._lock:
            self._paths[target.id] = paths
        return paths

    def _read_api_if_running(self, target: Target) -> Counters | None:
        """:meth:`_read_api`, or None for a container that stopped or went since listed."""
        try:
            counters = self._read_api(target)
        except (NotFoundException, ClientException) as exc:
            if exc.status_code in (404, 409):
                return None
            raise
        return None if counters.system_ns == 0 else counters

    def _read_api(self, target: Target) -> Counters:
        def call(client: Any) -> dict[str, Any]:
            if version_lt(client.api_version, "1.41"):
                return client.stats(target.id, stream=False)
            return client.stats(target.id, stream=False, one_shot=True)

        return counters_from_api(self.engine.call(call), own_network=target.own_network)

    # -- figures ---------------------------------------------------------------

    def figures(
        self, target: Target, counters: Counters, source: str
    ) -> tuple[ContainerStats, bool]:
        """The container's stats against the kept reading; whether that one was fresh."""
        with self._lock:
            older, newest = self._kept.get(target.id, (None, None))
            if newest is None or counters.at - newest.at >= MIN_SPAN:
                self._kept[target.id] = (newest, counters)
                base = newest
            else:
                base = older
        fresh = counters.previous is not None or (
            base is not None and counters.at - base.at <= FRESH
        )
        return _stats(self.engine.name, target, counters, base, source), fresh

    def forget_except(self, ids: Iterable[str]) -> None:
        """Drop what is kept for containers no longer running."""
        alive = set(ids)
        with self._lock:
            for table in (self._kept, self._paths):
                for gone in [key for key in table if key not in alive]:
                    del table[gone]

    def sample(self, window: float = 0.0) -> list[ContainerStats]:
        """Every running container; with ``window``, wait that long for CPU % if need be."""
        window = max(window, MIN_SPAN) if window > 0 else 0.0
        targets = self.running()
        self.forget_except(t.id for t in targets)
        results = [self.figures(*reading) for reading in self.read(targets)]
        if window > 0 and not all(fresh for _, fresh in results):
            time.sleep(window)
            results = [self.figures(*reading) for reading in self.read(targets)]
        return [stats for stats, _ in results]

    def sample_one(self, ref: str, window: float = 0.0) -> tuple[ContainerStats, bool]:
        """One container; with ``window``, wait that long for CPU % if need be."""
        window = max(window, MIN_SPAN) if window > 0 else 0.0
        target = self.inspect(ref)
        stats, fresh = self.figures(*self.read([target], strict=True)[0])
        if window > 0 and not fresh:
            time.sleep(window)
            stats, fresh = self.figures(*self.read([target], strict=True)[0])
        return stats, fresh


def counters_from_api(data: dict[str, Any], *, own_network: bool = True) -> Counters:
    """Counters from the engine's ``GET /containers/{id}/stats`` answer."""
    cpu = data.get("cpu_stats") or {}
    usage = cpu.get("cpu_usage") or {}
    pre = data.get("precpu_stats") or {}
    memory = data.get("memory_stats") or {}
    extra = memory.get("stats") or {}
    used = int(memory.get("usage") or 0)
    inactive = extra.get("total_inactive_file", extra.get("inactive_file"))
    if inactive is not None and inactive < used:
        used -= int(inactive)
    networks = (data.get("networks") or {}).values() if own_network else ()
    read = written = 0
    for entry in (data.get("blkio_stats") or {}).get("io_service_bytes_recursive") or ():
        op = str(entry.get("op", "")).lower()
        if op == "read":
            read += int(entry.get("value") or 0)
        elif op == "write":
            written += int(entry.get("value") or 0)
    previous = None
    if pre.get("system_cpu_usage"):
        previous = (
            int((pre.get("cpu_usage") or {}).get("total_usage") or 0),
            int(pre["system_cpu_usage"]),
        )
    return Counters(
        at=time.monotonic(),
        cpu_ns=int(usage.get("total_usage") or 0),
        system_ns=int(cpu.get("system_cpu_usage") or 0),
        online_cpus=int(cpu.get("online_cpus") or len(usage.get("percpu_usage") or ()) or 1),
        memory_usage=used,
        memory_limit=int(memory.get("limit") or 0),
        network_rx=sum(int(n.get("rx_bytes") or 0) for n in networks),
        network_tx=sum(int(n.get("tx_bytes") or 0) for n in networks),
        block_read=read,
        block_write=written,
        pids=int((data.get("pids_stats") or {}).get("current") or 0),
        previous=previous,
    )


def cpu_percent(counters: Counters, kept: Counters | None) -> float:
    """``docker stats``' CPU %: container CPU delta / host CPU delta * CPUs * 100."""
    if counters.previous is not None:
        cpu0, system0 = counters.previous
    elif kept is not None:
        cpu0, system0 = kept.cpu_ns, kept.system_ns
    else:
        return 0.0
    cpu_delta = counters.cpu_ns - cpu0
    system_delta = counters.system_ns - system0
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    return cpu_delta / system_delta * counters.online_cpus * 100.0


def _stats(
    engine: str, target: Target, counters: Counters, kept: Counters | None, source: str
) -> ContainerStats:
    limit = counters.memory_limit
    return ContainerStats(
        name=target.name,
        id=target.id,
        engine=engine,
        cpu_percent=round(cpu_percent(counters, kept), 2),
        memory_usage_bytes=counters.memory_usage,
        memory_limit_bytes=limit,
        memory_percent=round(counters.memory_usage / limit * 100.0, 2) if limit else 0.0,
        network_rx_bytes=counters.network_rx,
        network_tx_bytes=counters.network_tx,
        block_read_bytes=counters.block_read,
        block_write_bytes=counters.block_write,
        pids=counters.pids,
        source=source,
    )


class StatsService:
    """The samplers of every engine, shared by the collector, the API and live topics."""

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport
        self.cgroups = HostCgroups()
        self._samplers: dict[str, EngineSampler] = {}
        self._lock = threading.Lock()

    def sampler(self, engine: Engine) -> EngineSampler:
        with self._lock:
            sampler = self._samplers.get(engine.name)
            if sampler is None or sampler.engine is not engine:
                sampler = self._samplers[engine.name] = EngineSampler(engine, self.cgroups)
            return sampler

    def collect(self, deadline: float) -> ContainersSnapshot:
        """One collector pass over every engine; remote ones get ``deadline`` seconds."""
        registry = docker_state(self.skyport).engines
        engines = registry.all()
        default = registry.get(None).name if engines else None
        passes = [_Pass(self.sampler(engine)) for engine in engines]
        for one in passes:
            if one.sampler.cgroups is None:
                one.start()
        for one in passes:
            if one.sampler.cgroups is not None:
                one.run()
        until = time.monotonic() + deadline
        for one in passes:
            one.wait(until)
        containers: list[ContainerStats] = []
        for one in passes:
            for stats in sorted(one.stats, key=lambda s: s.name):
                if one.sampler.engine.name != default:
                    stats = msgspec.structs.replace(stats, name=f"{stats.engine}/{stats.name}")
                containers.append(stats)
        return ContainersSnapshot(len(containers), containers, [p.summary() for p in passes])


class _Pass:
    """One engine's part of a collector pass, in this thread or in its own."""

    def __init__(self, sampler: EngineSampler) -> None:
        self.sampler = sampler
        self.stats: list[ContainerStats] = []
        self.error: str | None = None
        self.seconds = 0.0
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        if not self.sampler.busy.acquire(blocking=False):
            self.error = "the previous sample of this engine is still running"
            return
        started = time.perf_counter()
        try:
            self.stats = self.sampler.sample()
        except HTTPException as exc:
            self.error = str(exc.detail)
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.seconds = time.perf_counter() - started
            self.sampler.busy.release()

    def start(self) -> None:
        name = f"docker-stats:{self.sampler.engine.name}"
        self._thread = threading.Thread(target=self.run, name=name, daemon=True)
        self._thread.start()

    def wait(self, until: float) -> None:
        if self._thread is None:
            return
        self._thread.join(max(0.0, until - time.monotonic()))
        if self._thread.is_alive():
            self.stats = []
            self.error = "no answer within the sampling interval; still trying"

    def summary(self) -> EngineSample:
        return EngineSample(
            self.sampler.engine.name,
            self.error is None,
            len(self.stats),
            round(self.seconds, 6),
            self.error,
        )


_services_lock = threading.Lock()


def stats_service(skyport: PluginContext) -> StatsService:
    """The plugin's one :class:`StatsService` (made on first use)."""
    with _services_lock:
        service = skyport.state.get("docker.stats")
        if service is None:
            service = skyport.state["docker.stats"] = StatsService(skyport)
        return service


def container_collector(skyport: PluginContext) -> MetricsCollector:
    """The ``containers`` collector: per running container CPU, memory, network, block I/O."""

    def collect() -> ContainersSnapshot:
        interval = skyport.config.metrics.interval
        return stats_service(skyport).collect(deadline=interval * 0.9)

    return MetricsCollector(
        "containers",
        collect,
        description="Per running container CPU %, memory, network and block I/O (docker stats)",
    )


TopicStop = Callable[[], Awaitable[None]]


def follow_stats(
    skyport: PluginContext, interval: float = FOLLOW_INTERVAL
) -> Callable[[str], Awaitable[TopicStop | None]]:
    """Starter for ``docker.stats:<container>`` (or ``docker.stats:<engine>/<container>``).

    While someone listens, publishes the container's :class:`ContainerStats`
    every ``interval`` seconds; when it cannot, ``{"error", "status"}``
    instead (the container stopped, the engine is down) and keeps trying.
    """

    async def start(topic: str) -> TopicStop | None:
        engine, _, ref = topic.removeprefix(TOPIC_PREFIX).rpartition("/")
        task = asyncio.create_task(
            _follow(skyport, topic, engine or None, ref, interval), name=f"follow:{topic}"
        )

        async def stop() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        return stop

    return start


async def _follow(
    skyport: PluginContext, topic: str, engine: str | None, ref: str, interval: float
) -> None:
    service = stats_service(skyport)
    while True:
        try:
            sampler = service.sampler(docker_state(skyport).engines.get(engine))
            stats, fresh = await asyncio.to_thread(sampler.sample_one, ref)
            if fresh:
                skyport.publish(topic, stats)
        except HTTPException as exc:
            skyport.publish(topic, {"error": str(exc.detail), "status": exc.status_code})
        except Exception as exc:
            log.warning("following %s failed", topic, exc_info=True)
            skyport.publish(topic, {"error": f"{type(exc).__name__}: {exc}", "status": 500})
        await asyncio.sleep(interval)
