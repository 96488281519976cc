"""The ``host`` collector in Prometheus terms, named after node_exporter's metrics.

Base units (bytes, seconds, ratios from 0 to 1), ``_total`` only on counters, and
counters rather than rates: PromQL's ``rate()`` turns ``…_bytes_total`` into bytes per
second over whatever window a query wants. The top processes are left out (they change
every sample and cost a scan of every process).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

PREFIX = "skyport_host"


def host_families(host: dict[str, Any]) -> Iterator[Metric]:
    """Metric families for one ``host`` sample (as plain builtins)."""
    yield _gauge("uptime_seconds", "Seconds since the host booted", host["uptime_seconds"])
    yield _gauge("processes", "Processes running on the host", host["process_count"])
    cpu = host["cpu"]
    yield _gauge("cpus", "Logical CPUs", cpu["count"])
    yield _gauge(
        "cpu_busy_ratio", "Busy share of all CPUs since the previous sample", cpu["percent"] / 100
    )
    per_core = GaugeMetricFamily(
        f"{PREFIX}_cpu_core_busy_ratio",
        "Busy share of one CPU since the previous sample",
        labels=["cpu"],
    )
    for index, percent in enumerate(cpu["per_core"]):
        per_core.add_metric([str(index)], percent / 100)
    yield per_core
    for minutes in (1, 5, 15):
        yield _gauge(
            f"load{minutes}", f"{minutes}-minute load average", host["load"][f"min{minutes}"]
        )
    memory, swap = host["memory"], host["swap"]
    yield _gauge("memory_size_bytes", "Physical memory", memory["total"])
    yield _gauge("memory_used_bytes", "Memory in use", memory["used"])
    yield _gauge("memory_available_bytes", "Memory available without swapping", memory["available"])
    yield _gauge("swap_size_bytes", "Swap space", swap["total"])
    yield _gauge("swap_used_bytes", "Swap in use", swap["used"])
    yield from _per_item(
        GaugeMetricFamily,
        "filesystem",
        host["disks"],
        {"device": "device", "mountpoint": "mountpoint", "fstype": "fstype"},
        (
            ("size_bytes", "total", "Size of the filesystem"),
            ("used_bytes", "used", "Space in use on the filesystem"),
            ("free_bytes", "free", "Space free for unprivileged users on the filesystem"),
        ),
    )
    yield from _per_item(
        CounterMetricFamily,
        "disk",
        host["disk_io"],
        {"device": "name"},
        (
            ("read_bytes", "read_bytes", "Bytes read from the disk"),
            ("written_bytes", "write_bytes", "Bytes written to the disk"),
            ("reads_completed", "reads", "Reads completed"),
            ("writes_completed", "writes", "Writes completed"),
        ),
    )
    yield from _per_item(
        CounterMetricFamily,
        "network",
        host["network"],
        {"device": "name"},
        (
            ("receive_bytes", "rx_bytes", "Bytes received"),
            ("transmit_bytes", "tx_bytes", "Bytes sent"),
            ("receive_packets", "rx_packets", "Packets received"),
            ("transmit_packets", "tx_packets", "Packets sent"),
            ("receive_errs", "rx_errors", "Receive errors"),
            ("transmit_errs", "tx_errors", "Transmit errors"),
            ("receive_drop", "rx_dropped", "Received packets dropped"),
            ("transmit_drop", "tx_dropped", "Outgoing packets dropped"),
        ),
    )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


Fields = tuple[tuple[str, str, str], ...]
"""``(metric name after the prefix, field of the item, help text)`` of each family."""


def _per_item(
    kind: type[GaugeMetricFamily | CounterMetricFamily],
    prefix: str,
    items: list[dict[str, Any]],
    labels: dict[str, str],
    fields: Fields,
) -> Iterator[Metric]:
    """A family per field with a sample per item, labelled ``{label: item[key]}``."""
    for name, field, documentation in fields:
        family = kind(f"{PREFIX}_{prefix}_{name}", documentation, labels=list(labels))
        for item in items:
            family.add_metric([str(item[key]) for key in labels.values()], item[field])
        yield family
