"""A container's resource counters, read straight from the cgroup file system.

The engine's stats endpoint waits for its own ~1 s sampling tick on every
call; the files it reads are right here for a local engine. :class:`HostCgroups`
reads the same files the engine (runc's libcontainer) reads, so the numbers
are those of ``docker stats``:

- CPU: ``cpuacct.usage`` (v1) or ``usage_usec`` of ``cpu.stat`` (v2), in ns,
  and the host's CPU time from ``/proc/stat`` (user … softirq, as the engine
  counts it);
- memory: usage minus inactive file cache (``total_inactive_file`` on v1,
  ``inactive_file`` on v2), limit capped at the machine's memory;
- block I/O: the first non-empty of the BFQ, CFQ and throttle byte counters
  (v1, in libcontainer's order) or ``io.stat`` (v2);
- network: ``/proc/<pid>/net/dev`` of a process in the container, loopback
  left out (the engine counts only the sandbox's interfaces);
- processes: ``pids.current``.

cgroup v1 (``/sys/fs/cgroup/<controller>/docker/<id>``) and v2
(``/sys/fs/cgroup/docker/<id>`` or ``system.slice/docker-<id>.scope``) are
both understood; a container found in neither place (a custom cgroup
parent) is located through ``/proc/<pid>/cgroup`` of its init process.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass

CGROUP_ROOT = "/sys/fs/cgroup"
PROC = "/proc"
V1_CONTROLLERS = ("cpuacct", "memory", "blkio", "pids")
V1_BLKIO_FILES = (
    "blkio.bfq.io_service_bytes_recursive",
    "blkio.io_service_bytes_recursive",
    "blkio.throttle.io_service_bytes_recursive",
    "blkio.throttle.io_service_bytes",
)
"""Tried in this order; the first with entries counts (as libcontainer does)."""


@dataclass(frozen=True, slots=True)
class Counters:
    """One reading of a container's counters (cumulative, except memory)."""

    at: float
    """``time.monotonic()`` of the reading."""
    cpu_ns: int
    """CPU time the container used since it started."""
    system_ns: int
    """CPU time of the whole host (all cores), the engine's ``system_cpu_usage``."""
    online_cpus: int
    memory_usage: int
    """Bytes in use, inactive file cache excluded (``docker stats``' figure)."""
    memory_limit: int
    network_rx: int
    network_tx: int
    block_read: int
    block_write: int
    pids: int
    previous: tuple[int, int] | None = None
    """``(cpu_ns, system_ns)`` an engine sent along (``precpu_stats``), if any."""


@dataclass(frozen=True, slots=True)
class CgroupPaths:
    """Where one container's cgroup files live."""

    unified: bool
    cpu: str
    memory: str
    blkio: str
    pids: str | None


class HostCgroups:
    """Reads containers' counters from this host's cgroup file system."""

    def __init__(self, root: str = CGROUP_ROOT, proc: str = PROC) -> None:
        self.root = root
        self.proc = proc
        self.unified = os.path.exists(f"{root}/cgroup.controllers")
        self._mounts = {} if self.unified else _v1_mounts(root)
        self.online_cpus = os.sysconf("SC_NPROCESSORS_ONLN") if hasattr(os, "sysconf") else 1
        self.clock_ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.machine_memory = _machine_memory(proc)

    @property
    def available(self) -> bool:
        """Whether this host has a cgroup file system we understand."""
        if self.unified:
            return True
        return all(c in self._mounts for c in ("cpuacct", "memory", "blkio"))

    # -- locating ------------------------------------------------------------

    def locate(self, container_id: str, pid: int | None = None) -> CgroupPaths | None:
        """The cgroup of container ``container_id``; None when it is not readable here."""
        for relative in (f"docker/{container_id}", f"system.slice/docker-{container_id}.scope"):
            paths = self._paths(relative)
            if paths is not None:
                return paths
        return self._from_proc(pid) if pid else None

    def _paths(self, relative: str | dict[str, str]) -> CgroupPaths | None:
        if self.unified:
            assert isinstance(relative, str)
            path = f"{self.root}/{relative.lstrip('/')}"
            if not os.path.exists(f"{path}/cgroup.procs"):
                return None
            return CgroupPaths(True, path, path, path, path)
        where = {
            controller: f"{mount}/{_pick(relative, controller).lstrip('/')}"
            for controller, mount in self._mounts.items()
        }
        if not all(os.path.isdir(where.get(c, "")) for c in ("cpuacct", "memory", "blkio")):
            return None
        pids = where.get("pids")
        return CgroupPaths(
            False,
            where["cpuacct"],
            where["memory"],
            where["blkio"],
            pids if pids and os.path.isdir(pids) else None,
        )

    def _from_proc(self, pid: int) -> CgroupPaths | None:
        try:
            text = _read(f"{self.proc}/{pid}/cgroup").decode()
        except OSError:
            return None
        by_controller: dict[str, str] = {}
        for line in text.splitlines():
            _, controllers, path = line.split(":", 2)
            if self.unified and controllers == "":
                return self._paths(path)
            for controller in controllers.split(","):
                by_controller[controller] = path
        return None if self.unified else self._paths(by_controller)

    # -- reading -------------------------------------------------------------

    def system_cpu_ns(self) -> int:
        """The host's CPU time in ns, as the engine counts it (``/proc/stat``)."""
        line = _read(f"{self.proc}/stat").split(b"\n", 1)[0].split()
        ticks = sum(int(v) for v in line[1:8])
        return ticks * 1_000_000_000 // self.clock_ticks

    def read(
        self, paths: CgroupPaths, *, network: bool = True, system_ns: int | None = None
    ) -> Counters:
        """One reading; ``OSError`` when the container is gone (or never ran here)."""
        if paths.unified:
            cpu_ns, usage, limit, read, written, pids = self._read_v2(paths.cpu)
        else:
            cpu_ns, usage, limit, read, written, pids = self._read_v1(paths)
        rx = tx = 0
        if network:
            rx, tx = self._network(paths.memory)
        return Counters(
            at=time.monotonic(),
            cpu_ns=cpu_ns,
            system_ns=self.system_cpu_ns() if system_ns is None else system_ns,
            online_cpus=self.online_cpus,
            memory_usage=usage,
            memory_limit=limit,
            network_rx=rx,
            network_tx=tx,
            block_read=read,
            block_write=written,
            pids=pids,
        )

    def _read_v1(self, paths: CgroupPaths) -> tuple[int, int, int, int, int, int]:
        cpu_ns = int(_read(f"{paths.cpu}/cpuacct.usage"))
        usage = int(_read(f"{paths.memory}/memory.usage_in_bytes"))
        inactive = _stat_value(_read(f"{paths.memory}/memory.stat"), b"total_inactive_file")
        if inactive is not None and inactive < usage:
            usage -= inactive
        limit = self._cap(int(_read(f"{paths.memory}/memory.limit_in_bytes")))
        read = written = 0
        for name in V1_BLKIO_FILES:
            try:
                found, read, written = _blkio_v1(_read(f"{paths.blkio}/{name}"))
            except FileNotFoundError:
                continue
            if found:
                break
        pids = _pids(paths.pids, paths.memory)
        return cpu_ns, usage, limit, read, written, pids

    def _read_v2(self, path: str) -> tuple[int, int, int, int, int, int]:
        cpu_us = _stat_value(_read(f"{path}/cpu.stat"), b"usage_usec") or 0
        usage = int(_read(f"{path}/memory.current"))
        inactive = _stat_value(_read(f"{path}/memory.stat"), b"inactive_file")
        if inactive is not None and inactive < usage:
            usage -= inactive
        maximum = _read(f"{path}/memory.max").strip()
        limit = self._cap(int(maximum)) if maximum != b"max" else self.machine_memory
        read = written = 0
        with contextlib.suppress(FileNotFoundError):
            read, written = _io_v2(_read(f"{path}/io.stat"))
        return cpu_us * 1000, usage, limit, read, written, _pids(path, path)

    def _cap(self, limit: int) -> int:
        """No limit (a huge number) means the machine's memory, as the engine reports it."""
        if self.machine_memory and limit > self.machine_memory:
            return self.machine_memory
        return limit

    def _network(self, cgroup_dir: str) -> tuple[int, int]:
        """Bytes received and sent by the container's interfaces, loopback excluded."""
        procs = _read(f"{cgroup_dir}/cgroup.procs").split(b"\n", 1)[0].strip()
        if not procs:
            raise FileNotFoundError(f"{cgroup_dir}: no process left")
        return _net_dev(_read(f"{self.proc}/{int(procs)}/net/dev"))


def _read(path: str) -> bytes:
    with open(path, "rb", buffering=0) as f:
        return f.read()


def _pick(relative: str | dict[str, str], controller: str) -> str:
    if isinstance(relative, str):
        return relative
    return relative.get(controller) or relative.get("cpu,cpuacct", "/nonexistent")


def _v1_mounts(root: str) -> dict[str, str]:
    """Controller → directory (``cpuacct`` may be mounted as ``cpu,cpuacct``)."""
    mounts: dict[str, str] = {}
    try:
        entries = os.listdir(root)
    except OSError:
        return mounts
    for entry in sorted(entries, key=len):
        for controller in entry.split(","):
            if controller in V1_CONTROLLERS and controller not in mounts:
                mounts[controller] = f"{root}/{entry}"
    return mounts


def _machine_memory(proc: str) -> int:
    try:
        for line in _read(f"{proc}/meminfo").splitlines():
            if line.startswith(b"MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _stat_value(text: bytes, key: bytes) -> int | None:
    """The value of ``key`` in a ``key value`` per line file (``memory.stat``, ``cpu.stat``)."""
    start = 0
    while True:
        at = text.find(key + b" ", start)
        if at < 0:
            return None
        if at == 0 or text[at - 1 : at] == b"\n":
            end = text.find(b"\n", at)
            return int(text[at + len(key) + 1 : end if end >= 0 else None])
        start = at + 1


def _blkio_v1(text: bytes) -> tuple[bool, int, int]:
    """``8:0 Read 123`` lines summed over devices; whether there were any entries."""
    found, read, written = False, 0, 0
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        found = True
        op = fields[1].lower()
        if op == b"read":
            read += int(fields[2])
        elif op == b"write":
            written += int(fields[2])
    return found, read, written


def _io_v2(text: bytes) -> tuple[int, int]:
    """``8:0 rbytes=1 wbytes=2 …`` lines summed over devices."""
    read = written = 0
    for line in text.splitlines():
        for field in line.split()[1:]:
            key, _, value = field.partition(b"=")
            if key == b"rbytes":
                read += int(value)
            elif key == b"wbytes":
                written += int(value)
    return read, written


def _pids(pids_dir: str | None, fallback_dir: str) -> int:
    if pids_dir is not None:
        try:
            return int(_read(f"{pids_dir}/pids.current"))
        except FileNotFoundError:
            pass
    return len(_read(f"{fallback_dir}/cgroup.procs").split())


def _net_dev(text: bytes) -> tuple[int, int]:
    rx = tx = 0
    for line in text.splitlines()[2:]:
        name, _, values = line.partition(b":")
        if name.strip() == b"lo":
            continue
        fields = values.split()
        if len(fields) >= 9:
            rx += int(fields[0])
            tx += int(fields[8])
    return rx, tx
