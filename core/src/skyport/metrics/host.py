"""Host metrics through psutil: CPU, memory, disks, network, processes.

:class:`HostCollector` keeps the previous counters so every rate (CPU busy
share, disk and network throughput, per-process CPU) covers the time since
the last call; the first call has nothing to compare with and reports 0.
``collect()`` is synchronous and meant for a worker thread. It is kept cheap:
one read of each ``/proc`` table, the partition list re-read only every
:attr:`HostCollector.partitions_ttl` seconds, and the process table (one
``/proc/<pid>/stat`` per process) scanned only while someone wants the top
processes (:attr:`HostCollector.processes`); otherwise ``top_cpu`` and
``top_memory`` are empty and only the processes are counted.
"""

from __future__ import annotations

import heapq
import os
import threading
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import msgspec
import psutil

from skyport.metrics.demand import Demand
from skyport.metrics.host_prometheus import host_families
from skyport.types import MetricsCollector

SKIPPED_FSTYPES = frozenset({"squashfs"})
"""Read-only images (snaps) that would only clutter the disk list."""
VIRTUAL_DISK_PREFIXES = ("loop", "ram", "zram")
"""Block devices that are not disks: their I/O is counted elsewhere or is memory."""

_PROC = "/proc"
_HAS_PROC_STAT = os.path.exists(f"{_PROC}/self/stat")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if _HAS_PROC_STAT else 100
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if _HAS_PROC_STAT else 4096


class CpuStats(msgspec.Struct):
    percent: float
    """Busy share of all cores since the previous sample, 0 to 100."""
    per_core: list[float]
    count: int


class LoadAverage(msgspec.Struct):
    min1: float
    min5: float
    min15: float


class MemoryStats(msgspec.Struct):
    total: int
    used: int
    available: int
    percent: float


class SwapStats(msgspec.Struct):
    total: int
    used: int
    percent: float


class DiskUsage(msgspec.Struct):
    device: str
    mountpoint: str
    fstype: str
    total: int
    used: int
    free: int
    percent: float


class DiskIO(msgspec.Struct):
    name: str
    read_bytes_per_sec: float
    write_bytes_per_sec: float
    read_ops_per_sec: float
    write_ops_per_sec: float
    read_bytes: int
    """Bytes read since boot (the counter the rates come from)."""
    write_bytes: int
    reads: int
    """Reads completed since boot."""
    writes: int


class NetworkInterface(msgspec.Struct):
    name: str
    rx_bytes_per_sec: float
    tx_bytes_per_sec: float
    rx_packets_per_sec: float
    tx_packets_per_sec: float
    rx_bytes: int
    """Bytes received since boot (the counter the rates come from)."""
    tx_bytes: int
    rx_packets: int
    tx_packets: int
    rx_errors: int
    """Receive errors since boot."""
    tx_errors: int
    rx_dropped: int
    tx_dropped: int


class ProcessInfo(msgspec.Struct):
    pid: int
    name: str
    username: str
    cpu_percent: float
    """Share of one core since the previous sample; above 100 on several cores."""
    memory_rss: int
    memory_percent: float


class HostMetrics(msgspec.Struct):
    """One sample of the host, as served under ``host`` at ``/api/metrics``."""

    uptime_seconds: float
    process_count: int
    cpu: CpuStats
    load: LoadAverage
    memory: MemoryStats
    swap: SwapStats
    disks: list[DiskUsage]
    disk_io: list[DiskIO]
    network: list[NetworkInterface]
    top_cpu: list[ProcessInfo]
    top_memory: list[ProcessInfo]


class _Partition(NamedTuple):
    device: str
    mountpoint: str
    fstype: str


class _ProcSample(NamedTuple):
    pid: int
    cpu_percent: float
    rss: int


class HostCollector:
    """Samples the host; each call's rates cover the time since the previous call.

    Per-process CPU shares cover the time since the previous scan of the process
    table, which runs only while :attr:`processes` is wanted.
    """

    partitions_ttl: float = 30.0
    """Seconds between re-reads of the mount table (mounts change rarely)."""

    def __init__(self, top_processes: int = 5, processes: Demand | None = None) -> None:
        self.top_processes = max(0, top_processes)
        self.processes = processes or Demand()
        """Who wants ``top_cpu`` and ``top_memory`` (the scan of every process)."""
        self.scans = 0
        """How many times the process table was scanned."""
        self._lock = threading.Lock()
        self._boot_time = psutil.boot_time()
        self._last: float | None = None
        self._cpu: list[Any] | None = None
        self._disk_io: dict[str, Any] = {}
        self._net: dict[str, Any] = {}
        self._proc_cpu: dict[int, tuple[float, float]] = {}
        self._proc_scanned: float | None = None
        self._users: dict[int, str] = {}
        self._partitions: list[_Partition] = []
        self._disk_names: frozenset[str] | None = None
        self._partitions_read = -float("inf")

    def collect(self) -> HostMetrics:
        """Read every figure once; thread-safe, calls are serialised."""
        with self._lock:
            now = time.monotonic()
            elapsed = now - self._last if self._last is not None else 0.0
            self._last = now
            if now - self._partitions_read >= self.partitions_ttl:
                self._partitions = _partitions()
                self._disk_names = _block_devices()
                self._partitions_read = now
            vm = psutil.virtual_memory()
            process_count, top_cpu, top_memory = self._processes(now, vm.total)
            return HostMetrics(
                uptime_seconds=round(time.time() - self._boot_time, 1),
                process_count=process_count,
                cpu=self._cpu_stats(),
                load=LoadAverage(*(round(x, 2) for x in psutil.getloadavg())),
                memory=MemoryStats(
                    total=vm.total, used=vm.used, available=vm.available, percent=vm.percent
                ),
                swap=_swap(),
                disks=_disk_usage(self._partitions),
                disk_io=self._disk_rates(elapsed),
                network=self._net_rates(elapsed),
                top_cpu=top_cpu,
                top_memory=top_memory,
            )

    def _cpu_stats(self) -> CpuStats:
        current = psutil.cpu_times(percpu=True)
        previous, self._cpu = self._cpu, current
        if previous is None or len(previous) != len(current):
            return CpuStats(percent=0.0, per_core=[0.0] * len(current), count=len(current))
        per_core: list[float] = []
        total_busy = total_all = 0.0
        for before, after in zip(previous, current, strict=True):
            busy, spent = _busy_time(before, after)
            per_core.append(_percent(busy, spent))
            total_busy += busy
            total_all += spent
        return CpuStats(
            percent=_percent(total_busy, total_all), per_core=per_core, count=len(current)
        )

    def _disk_rates(self, elapsed: float) -> list[DiskIO]:
        counters = psutil.disk_io_counters(perdisk=True) or {}
        previous, self._disk_io = self._disk_io, counters
        result = []
        for name, now in counters.items():
            if not _is_physical_disk(name, self._disk_names):
                continue
            before = previous.get(name)
            result.append(
                DiskIO(
                    name=name,
                    read_bytes_per_sec=_rate(before, now, "read_bytes", elapsed),
                    write_bytes_per_sec=_rate(before, now, "write_bytes", elapsed),
                    read_ops_per_sec=_rate(before, now, "read_count", elapsed),
                    write_ops_per_sec=_rate(before, now, "write_count", elapsed),
                    read_bytes=now.read_bytes,
                    write_bytes=now.write_bytes,
                    reads=now.read_count,
                    writes=now.write_count,
                )
            )
        return result

    def _net_rates(self, elapsed: float) -> list[NetworkInterface]:
        counters = psutil.net_io_counters(pernic=True)
        previous, self._net = self._net, counters
        result = []
        for name, now in counters.items():
            before = previous.get(name)
            result.append(
                NetworkInterface(
                    name=name,
                    rx_bytes_per_sec=_rate(before, now, "bytes_recv", elapsed),
                    tx_bytes_per_sec=_rate(before, now, "bytes_sent", elapsed),
                    rx_packets_per_sec=_rate(before, now, "packets_recv", elapsed),
                    tx_packets_per_sec=_rate(before, now, "packets_sent", elapsed),
                    rx_bytes=now.bytes_recv,
                    tx_bytes=now.bytes_sent,
                    rx_packets=now.packets_recv,
                    tx_packets=now.packets_sent,
                    rx_errors=now.errin,
                    tx_errors=now.errout,
                    rx_dropped=now.dropin,
                    tx_dropped=now.dropout,
                )
            )
        return result

    def _processes(
        self, now: float, total_memory: int
    ) -> tuple[int, list[ProcessInfo], list[ProcessInfo]]:
        pids = psutil.pids()
        if self.top_processes == 0 or not self.processes.wanted:
            return len(pids), [], []
        self.scans += 1
        elapsed = now - self._proc_scanned if self._proc_scanned is not None else 0.0
        self._proc_scanned = now
        samples = list(self._process_shares(pids, elapsed))
        n = self.top_processes
        by_cpu = heapq.nlargest(n, samples, key=lambda s: (s.cpu_percent, s.rss))
        by_memory = heapq.nlargest(n, samples, key=lambda s: s.rss)
        described: dict[int, ProcessInfo | None] = {}
        for sample in (*by_cpu, *by_memory):
            if sample.pid not in described:
                described[sample.pid] = self._describe(sample, total_memory)
        top_cpu = [described[s.pid] for s in by_cpu]
        top_memory = [described[s.pid] for s in by_memory]
        return (
            len(pids),
            [p for p in top_cpu if p is not None],
            [p for p in top_memory if p is not None],
        )

    def _process_shares(self, pids: list[int], elapsed: float) -> Iterator[_ProcSample]:
        """CPU share and RSS of every process; forgets the ones that are gone."""
        before, self._proc_cpu = self._proc_cpu, {}
        for pid, started, spent, rss in _read_processes(pids):
            self._proc_cpu[pid] = (started, spent)
            previous = before.get(pid)
            # A different start time means the pid now belongs to another process.
            if previous is None or previous[0] != started or elapsed <= 0:
                share = 0.0
            else:
                share = round(max(0.0, spent - previous[1]) / elapsed * 100, 1)
            yield _ProcSample(pid, share, rss)

    def _describe(self, sample: _ProcSample, total_memory: int) -> ProcessInfo | None:
        try:
            proc = psutil.Process(sample.pid)
            name = proc.name()
        except psutil.Error:
            return None
        try:
            uids = getattr(proc, "uids", None)
            username = self._username(uids().real) if uids else proc.username()
        except psutil.Error:
            username = ""
        return ProcessInfo(
            pid=sample.pid,
            name=name,
            username=username,
            cpu_percent=sample.cpu_percent,
            memory_rss=sample.rss,
            memory_percent=round(sample.rss / max(total_memory, 1) * 100, 2),
        )

    def _username(self, uid: int) -> str:
        if uid not in self._users:
            try:
                import pwd

                self._users[uid] = pwd.getpwuid(uid).pw_name
            except (ImportError, KeyError):
                self._users[uid] = str(uid)
        return self._users[uid]


def host_collector(top_processes: int = 5) -> MetricsCollector:
    """The built-in ``host`` collector (the core registers it as a default plugin).

    Its details are the top processes: scanned only while someone wants them.
    """
    collector = HostCollector(top_processes)
    return MetricsCollector(
        name="host",
        collect=collector.collect,
        description="CPU, load, memory, swap, disks, network and top processes of this host",
        details=collector.processes,
        prometheus=host_families,
    )


def _busy_time(before: Any, after: Any) -> tuple[float, float]:
    """Busy and total CPU seconds between two ``scputimes`` samples of one core."""

    def split(t: Any) -> tuple[float, float]:
        # Guest time is already counted in user and nice.
        total = sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
        idle = t.idle + getattr(t, "iowait", 0.0)
        return total - idle, total

    busy_before, total_before = split(before)
    busy_after, total_after = split(after)
    return max(0.0, busy_after - busy_before), max(0.0, total_after - total_before)


def _percent(part: float, whole: float) -> float:
    return round(min(100.0, part / whole * 100), 1) if whole > 0 else 0.0


def _rate(before: Any, now: Any, field: str, elapsed: float) -> float:
    if before is None or elapsed <= 0:
        return 0.0
    return round(max(0, getattr(now, field) - getattr(before, field)) / elapsed, 1)


def _swap() -> SwapStats:
    try:
        sw = psutil.swap_memory()
    except (OSError, RuntimeError):  # no swap accounting (some containers)
        return SwapStats(total=0, used=0, percent=0.0)
    return SwapStats(total=sw.total, used=sw.used, percent=sw.percent)


def _partitions() -> list[_Partition]:
    """Mounted disk filesystems, one per device (its shortest mountpoint).

    ``all=False`` leaves out pseudo and network filesystems (``proc``,
    ``tmpfs``, ``nfs`` …). In a container the root is an ``overlay``, which
    that filter drops; it is added back so ``/`` is always reported.
    """
    chosen: dict[str, _Partition] = {}
    for part in psutil.disk_partitions(all=False):
        if part.fstype in SKIPPED_FSTYPES:
            continue
        current = chosen.get(part.device)
        if current is None or len(part.mountpoint) < len(current.mountpoint):
            chosen[part.device] = _Partition(part.device, part.mountpoint, part.fstype)
    root = os.path.abspath(os.sep)
    if not any(p.mountpoint == root for p in chosen.values()):
        for part in psutil.disk_partitions(all=True):
            if part.mountpoint == root:
                chosen[part.device] = _Partition(part.device, part.mountpoint, part.fstype)
                break
    return sorted(chosen.values(), key=lambda p: p.mountpoint)


def _disk_usage(partitions: list[_Partition]) -> list[DiskUsage]:
    result = []
    for part in partitions:
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:  # unmounted since the table was read, or not readable
            continue
        result.append(
            DiskUsage(
                device=part.device,
                mountpoint=part.mountpoint,
                fstype=part.fstype,
                total=usage.total,
                used=usage.used,
                free=usage.free,
                percent=usage.percent,
            )
        )
    return result


def _block_devices() -> frozenset[str] | None:
    """Whole disks known to the kernel (Linux ``/sys/block``); ``None`` elsewhere."""
    try:
        return frozenset(os.listdir("/sys/block"))
    except OSError:
        return None


def _is_physical_disk(name: str, block_devices: frozenset[str] | None) -> bool:
    if name.startswith(VIRTUAL_DISK_PREFIXES):
        return False
    # psutil also lists partitions (sda1); /sys/block has whole disks only.
    return block_devices is None or name in block_devices


def _read_processes(pids: list[int]) -> Iterator[tuple[int, float, float, int]]:
    """``(pid, start time, CPU seconds, RSS bytes)`` of each process still running.

    On Linux one read of ``/proc/<pid>/stat`` per process gives all four,
    about twice as fast as psutil's two reads; elsewhere psutil is used.
    """
    if not _HAS_PROC_STAT:
        yield from _read_processes_psutil(pids)
        return
    for pid in pids:
        try:
            with open(f"{_PROC}/{pid}/stat", "rb") as file:
                raw = file.read()
        except OSError:  # exited since it was listed
            continue
        # Fields after the parenthesised command name, which may hold spaces.
        fields = raw[raw.rindex(b")") + 2 :].split()
        spent = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime + stime
        yield pid, float(fields[19]), spent, int(fields[21]) * _PAGE_SIZE


def _read_processes_psutil(pids: list[int]) -> Iterator[tuple[int, float, float, int]]:
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                times = proc.cpu_times()
                rss = proc.memory_info().rss
        except psutil.Error:
            continue
        yield pid, proc.create_time(), times.user + times.system, rss
