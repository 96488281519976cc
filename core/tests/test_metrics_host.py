"""The host collector against the real machine, through psutil."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec
import psutil
import pytest

from skyport.metrics.demand import Demand
from skyport.metrics.host import (
    HostCollector,
    HostMetrics,
    _read_processes,
    _read_processes_psutil,
    host_collector,
)
from skyport.testing import wait_for
from skyport.types import MetricsCollector


@pytest.fixture
def busy_process() -> Iterator[psutil.Process]:
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield psutil.Process(child.pid)
    finally:
        child.kill()
        child.wait()


@pytest.fixture
def memory_hog() -> Iterator[psutil.Process]:
    code = "import sys; b = b'x' * (256 << 20); print('ready', flush=True); sys.stdin.read()"
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == b"ready"
            yield psutil.Process(child.pid)
        finally:
            child.kill()


def scanning(top_processes: int = 5) -> HostCollector:
    """A collector asked for its top processes (as ``GET /api/metrics?details=host`` does)."""
    collector = HostCollector(top_processes, Demand(linger=600))
    collector.processes.ask()
    return collector


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def test_first_call_reports_zero_rates() -> None:
    metrics = scanning().collect()

    assert metrics.cpu.percent == 0.0
    assert metrics.cpu.per_core == [0.0] * metrics.cpu.count
    for disk in metrics.disk_io:
        assert (disk.read_bytes_per_sec, disk.write_bytes_per_sec) == (0.0, 0.0)
        assert (disk.read_ops_per_sec, disk.write_ops_per_sec) == (0.0, 0.0)
    for nic in metrics.network:
        assert (nic.rx_bytes_per_sec, nic.tx_bytes_per_sec) == (0.0, 0.0)
        assert (nic.rx_packets_per_sec, nic.tx_packets_per_sec) == (0.0, 0.0)
    assert all(p.cpu_percent == 0.0 for p in metrics.top_cpu)


def test_static_figures_match_psutil() -> None:
    metrics = HostCollector().collect()

    assert metrics.cpu.count == len(psutil.cpu_times(percpu=True))
    assert metrics.memory.total == psutil.virtual_memory().total
    assert 0 < metrics.memory.used <= metrics.memory.total
    assert 0 < metrics.memory.available <= metrics.memory.total
    assert metrics.swap.total == psutil.swap_memory().total
    expected_uptime = time.time() - psutil.boot_time()
    assert abs(metrics.uptime_seconds - expected_uptime) < 5
    assert metrics.process_count > 1
    load = psutil.getloadavg()
    assert metrics.load.min15 == pytest.approx(load[2], abs=0.5)


def test_busy_process_raises_cpu_and_shows_in_top_cpu(busy_process: psutil.Process) -> None:
    collector = scanning(top_processes=50)
    start = cpu_seconds(busy_process)
    collector.collect()
    wait_for(lambda: cpu_seconds(busy_process) - start >= 0.3, "0.3 s of CPU", timeout=30)

    metrics = collector.collect()

    assert metrics.cpu.percent > 0
    assert max(metrics.cpu.per_core) > 0
    assert all(0 <= share <= 100 for share in metrics.cpu.per_core)
    busy = next(p for p in metrics.top_cpu if p.pid == busy_process.pid)
    assert busy.cpu_percent > 0
    assert busy.name == busy_process.name()
    assert busy.username == busy_process.username()
    shares = [p.cpu_percent for p in metrics.top_cpu]
    assert shares == sorted(shares, reverse=True)


def test_large_process_appears_in_top_memory(memory_hog: psutil.Process) -> None:
    metrics = scanning(top_processes=50).collect()

    hog = next(p for p in metrics.top_memory if p.pid == memory_hog.pid)
    assert hog.memory_rss >= 256 << 20
    assert hog.memory_rss == pytest.approx(memory_hog.memory_info().rss, rel=0.05)
    assert hog.memory_percent == pytest.approx(hog.memory_rss / metrics.memory.total * 100, 0.01)
    sizes = [p.memory_rss for p in metrics.top_memory]
    assert sizes == sorted(sizes, reverse=True)


def test_top_processes_is_the_list_length() -> None:
    metrics = scanning(top_processes=2).collect()
    assert len(metrics.top_cpu) == 2
    assert len(metrics.top_memory) == 2


def test_zero_top_processes_skips_the_scan_but_counts() -> None:
    metrics = scanning(top_processes=0).collect()
    assert metrics.top_cpu == [] and metrics.top_memory == []
    assert metrics.process_count > 1


def test_the_process_table_is_scanned_only_while_wanted() -> None:
    collector = HostCollector(top_processes=5, processes=Demand(linger=600))

    quiet = collector.collect()

    assert collector.scans == 0
    assert quiet.top_cpu == [] and quiet.top_memory == [] and quiet.process_count > 1
    collector.processes.ask()
    asked = collector.collect()
    assert collector.scans == 1 and len(asked.top_memory) == 5


async def test_a_listener_wants_the_processes_until_it_leaves() -> None:
    collector = HostCollector(top_processes=3, processes=Demand(linger=0))
    release = await collector.processes.listen("metrics.details:host")
    assert len(collector.collect().top_cpu) == 3

    await release()
    await release()  # a second call changes nothing

    assert collector.collect().top_cpu == [] and collector.scans == 1


def test_counters_since_boot_sit_beside_the_rates() -> None:
    metrics = HostCollector().collect()

    counters = psutil.net_io_counters(pernic=True)
    for nic in metrics.network:
        assert 0 <= nic.rx_bytes <= counters[nic.name].bytes_recv
        assert 0 <= nic.tx_packets <= counters[nic.name].packets_sent
    for disk in metrics.disk_io:
        assert disk.read_bytes >= 0 and disk.writes >= 0


def test_exited_process_is_dropped_quietly() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    collector = scanning(top_processes=50)
    collector.collect()
    child.kill()
    child.wait()

    metrics = collector.collect()

    assert child.pid not in {p.pid for p in metrics.top_cpu + metrics.top_memory}


def test_root_filesystem_is_listed_once_per_device() -> None:
    metrics = HostCollector().collect()

    root = os.path.abspath(os.sep)
    assert root in {d.mountpoint for d in metrics.disks}
    devices = [d.device for d in metrics.disks]
    assert len(devices) == len(set(devices))
    for disk in metrics.disks:
        assert disk.fstype not in {"proc", "sysfs", "tmpfs", "devtmpfs", "cgroup", "squashfs"}
        assert disk.total == psutil.disk_usage(disk.mountpoint).total
        assert 0 <= disk.used <= disk.total
        assert 0 <= disk.percent <= 100


def test_disk_io_lists_whole_disks_only() -> None:
    metrics = HostCollector().collect()
    names = {d.name for d in metrics.disk_io}
    assert not any(n.startswith(("loop", "ram", "zram")) for n in names)
    if os.path.isdir("/sys/block"):
        assert names <= set(os.listdir("/sys/block"))


def test_disk_writes_show_as_write_rate(tmp_path: Path) -> None:
    collector = HostCollector()
    names = {d.name for d in collector.collect().disk_io}
    if not names:
        pytest.skip("no physical disk visible to psutil")
    before = psutil.disk_io_counters(perdisk=True)
    with open(tmp_path / "blob", "wb") as file:
        file.write(os.urandom(16 << 20))
        file.flush()
        os.fsync(file.fileno())
    after = psutil.disk_io_counters(perdisk=True)
    written = sum(after[n].write_bytes - before[n].write_bytes for n in names if n in before)
    if written == 0:
        pytest.skip("the kernel counted no writes for the listed disks (virtual storage)")

    metrics = collector.collect()

    assert sum(d.write_bytes_per_sec for d in metrics.disk_io) > 0
    assert sum(d.write_ops_per_sec for d in metrics.disk_io) > 0


def test_loopback_traffic_shows_as_network_rate() -> None:
    loopback = next(
        name
        for name, addresses in psutil.net_if_addrs().items()
        if any(a.address == "127.0.0.1" for a in addresses)
    )
    collector = HostCollector()
    collector.collect()
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        with client, peer:
            received = 0

            def drain() -> None:
                nonlocal received
                while chunk := peer.recv(65536):
                    received += len(chunk)

            reader = threading.Thread(target=drain)
            reader.start()
            client.sendall(b"x" * (4 << 20))
            client.shutdown(socket.SHUT_WR)
            reader.join()
    assert received == 4 << 20

    metrics = collector.collect()

    nic = next(n for n in metrics.network if n.name == loopback)
    assert nic.rx_bytes_per_sec > 0 and nic.tx_bytes_per_sec > 0
    assert nic.rx_packets_per_sec > 0 and nic.tx_packets_per_sec > 0
    assert nic.rx_errors >= 0 and nic.tx_dropped >= 0


def test_proc_reader_agrees_with_psutil() -> None:
    me = os.getpid()
    (fast,) = [row for row in _read_processes([me])]
    (slow,) = [row for row in _read_processes_psutil([me])]
    assert fast[0] == slow[0] == me
    assert fast[2] == pytest.approx(slow[2], abs=0.05)
    assert fast[3] == pytest.approx(slow[3], rel=0.05)


def test_readers_skip_pids_that_do_not_exist() -> None:
    missing = max(psutil.pids()) + 100_000
    assert list(_read_processes([missing])) == []
    assert list(_read_processes_psutil([missing])) == []


def test_concurrent_calls_are_serialised() -> None:
    collector = HostCollector()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: collector.collect(), range(20)))
    assert all(isinstance(r, HostMetrics) for r in results)


def test_host_collector_is_a_named_metrics_collector() -> None:
    collector = host_collector(top_processes=1)

    assert isinstance(collector, MetricsCollector)
    assert collector.name == "host" and collector.interval is None and collector.description
    assert collector.details is not None and collector.prometheus is not None
    collector.details.ask()
    snapshot = msgspec.to_builtins(collector.collect())
    assert set(snapshot) >= {"cpu", "load", "memory", "swap", "disks", "network", "top_cpu"}
    assert len(snapshot["top_memory"]) == 1
    msgspec.json.decode(msgspec.json.encode(snapshot))
