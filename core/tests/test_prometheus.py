"""Prometheus exposition of the hub's snapshots, parsed back with prometheus_client."""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from skyport.metrics.host import host_collector
from skyport.metrics.hub import MetricsHub
from skyport.metrics.prometheus import render_prometheus, snake_case
from skyport.testing import promtool_problems


def latest(collectors: dict[str, Any], errors: dict[str, str] | None = None) -> dict[str, Any]:
    """A mapping shaped like ``MetricsHub.latest()``."""
    return {
        "ts": 1_700_000_100.0,
        "collectors": collectors,
        "timestamps": {name: 1_700_000_000.0 for name, data in collectors.items() if data},
        "errors": errors or {},
    }


def samples(
    output: bytes, kinds: tuple[str, ...] = ("gauge",)
) -> dict[str, dict[frozenset[tuple[str, str]], float]]:
    """``{sample name: {label set: value}}``, failing on a repeated sample or another kind."""
    parsed: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    for family in text_string_to_metric_families(output.decode()):
        assert family.type in kinds
        for sample in family.samples:
            by_labels = parsed.setdefault(sample.name, {})
            key = frozenset(sample.labels.items())
            assert key not in by_labels, f"duplicate sample {sample.name}{sample.labels}"
            by_labels[key] = sample.value
    return parsed


def value(parsed: dict[str, Any], metric: str, /, **labels: str) -> float:
    return parsed[metric][frozenset(labels.items())]


def test_numeric_leaves_become_gauges_named_by_path() -> None:
    parsed = samples(
        render_prometheus(latest({"host": {"uptime": 12.5, "memory": {"total": 1024, "used": 3}}}))
    )

    assert value(parsed, "skyport_host_uptime") == 12.5
    assert value(parsed, "skyport_host_memory_total_value") == 1024
    assert value(parsed, "skyport_host_memory_used") == 3


def test_booleans_are_zero_or_one_and_strings_and_nulls_are_skipped() -> None:
    parsed = samples(
        render_prometheus(
            latest({"svc": {"healthy": True, "degraded": False, "status": "ok", "pid": None}})
        )
    )

    assert value(parsed, "skyport_svc_healthy") == 1
    assert value(parsed, "skyport_svc_degraded") == 0
    assert not {"skyport_svc_status", "skyport_svc_pid"} & set(parsed)


def test_list_of_numbers_is_labelled_by_index() -> None:
    parsed = samples(render_prometheus(latest({"host": {"cpu": {"per_core": [10.0, 20.5, 0]}}})))

    assert parsed["skyport_host_cpu_per_core"] == {
        frozenset({("index", "0")}): 10.0,
        frozenset({("index", "1")}): 20.5,
        frozenset({("index", "2")}): 0.0,
    }


@pytest.mark.parametrize("key", ["name", "id", "device", "mountpoint", "interface", "pid"])
def test_list_of_objects_is_labelled_by_its_identifying_key(key: str) -> None:
    items = [{key: "a", "size": 1}, {key: "b", "size": 2}]

    parsed = samples(render_prometheus(latest({"c": {"items": items}})))

    assert parsed["skyport_c_items_size"] == {
        frozenset({(key, "a")}): 1.0,
        frozenset({(key, "b")}): 2.0,
    }
    assert f"skyport_c_items_{key}" not in parsed


def test_first_identifying_key_wins() -> None:
    disks = [{"mountpoint": "/", "device": "/dev/sda1", "used": 5}]

    parsed = samples(render_prometheus(latest({"host": {"disks": disks}})))

    assert value(parsed, "skyport_host_disks_used", device="/dev/sda1") == 5


def test_repeated_names_fall_back_to_a_unique_key() -> None:
    processes = [
        {"pid": 10, "name": "python", "cpu_percent": 50.0},
        {"pid": 11, "name": "python", "cpu_percent": 25.0},
    ]

    parsed = samples(render_prometheus(latest({"host": {"top_cpu": processes}})))

    assert value(parsed, "skyport_host_top_cpu_cpu_percent", pid="10") == 50
    assert value(parsed, "skyport_host_top_cpu_cpu_percent", pid="11") == 25


def test_objects_without_identity_are_labelled_by_index() -> None:
    parsed = samples(render_prometheus(latest({"c": {"rows": [{"v": 1}, {"v": 2}]}})))

    assert value(parsed, "skyport_c_rows_v", index="0") == 1
    assert value(parsed, "skyport_c_rows_v", index="1") == 2


def test_nested_lists_keep_every_label() -> None:
    containers = [
        {"name": "web", "ports": [80, 443], "mounts": [{"name": "data", "bytes": 7}]},
        {"name": "db", "ports": [5432], "mounts": []},
    ]

    parsed = samples(render_prometheus(latest({"docker": {"containers": containers}})))

    assert value(parsed, "skyport_docker_containers_ports", name="web", index="1") == 443
    assert value(parsed, "skyport_docker_containers_ports", name="db", index="0") == 5432
    assert (
        value(parsed, "skyport_docker_containers_mounts_bytes", name="web", mounts_name="data") == 7
    )


def test_names_are_snake_case_with_invalid_characters_replaced() -> None:
    parsed = samples(
        render_prometheus(latest({"my-plugin": {"rxBytes/s": 3, "héllo wörld": 4, "2x": 5}}))
    )

    assert value(parsed, "skyport_my_plugin_rx_bytes_s") == 3
    assert value(parsed, "skyport_my_plugin_h_llo_w_rld") == 4
    assert value(parsed, "skyport_my_plugin_2x") == 5


@pytest.mark.parametrize(
    ("key", "expected"),
    [("memRss", "mem_rss"), ("a.b-c", "a_b_c"), ("__x__", "x"), ("!!!", "value"), ("Up", "up")],
)
def test_snake_case(key: str, expected: str) -> None:
    assert snake_case(key) == expected


def test_collector_health_gauges() -> None:
    parsed = samples(
        render_prometheus(
            latest({"ok": {"v": 1}, "broken": {"v": 2}, "never": None}, errors={"broken": "boom"})
        )
    )

    up = parsed["skyport_metrics_up"]
    assert up == {
        frozenset({("collector", "ok")}): 1.0,
        frozenset({("collector", "broken")}): 0.0,
        frozenset({("collector", "never")}): 0.0,
    }
    assert value(parsed, "skyport_metrics_last_sample_timestamp_seconds", collector="ok") == (
        1_700_000_000.0
    )
    assert value(parsed, "skyport_broken_v") == 2  # the last good sample is still exported
    assert not any(name.startswith("skyport_never_") for name in parsed)


def test_colliding_names_are_exported_once() -> None:
    output = render_prometheus(latest({"a": {"b_c": 1}, "a_b": {"c": 2}}))

    parsed = samples(output)

    assert list(parsed["skyport_a_b_c"].values()) == [1.0]
    assert (
        Counter(line.split()[2] for line in output.decode().splitlines() if "TYPE" in line)[
            "skyport_a_b_c"
        ]
        == 1
    )


def test_structs_and_large_integers() -> None:
    class Disk(msgspec.Struct):
        device: str
        total: int

    parsed = samples(render_prometheus(latest({"c": {"disks": [Disk("/dev/a", 2**40 + 3)]}})))

    assert value(parsed, "skyport_c_disks_total_value", device="/dev/a") == float(2**40 + 3)


def test_empty_snapshot_is_valid() -> None:
    assert samples(render_prometheus(latest({}))) == {}


async def test_real_host_snapshot_follows_node_exporter_names() -> None:
    hub = MetricsHub([host_collector()], interval=1.0)
    snapshot = await hub.snapshot()
    host = snapshot["collectors"]["host"]

    output = render_prometheus(snapshot, hub.expositions)

    parsed = samples(output, kinds=("gauge", "counter"))
    families = {f.name: f.type for f in text_string_to_metric_families(output.decode())}
    assert value(parsed, "skyport_metrics_up", collector="host") == 1
    assert value(parsed, "skyport_host_memory_size_bytes") == host["memory"]["total"]
    assert value(parsed, "skyport_host_processes") == host["process_count"]
    assert len(parsed["skyport_host_cpu_core_busy_ratio"]) == host["cpu"]["count"]
    for disk in host["disks"]:
        labels = {k: disk[k] for k in ("device", "mountpoint", "fstype")}
        assert value(parsed, "skyport_host_filesystem_size_bytes", **labels) == disk["total"]
    for nic in host["network"]:
        received = value(parsed, "skyport_host_network_receive_bytes_total", device=nic["name"])
        assert received == nic["rx_bytes"]
    assert families["skyport_host_network_receive_bytes"] == "counter"
    assert families["skyport_host_disk_read_bytes"] == "counter"
    assert not any("top" in name or "per_sec" in name for name in parsed)
    assert promtool_problems(output.decode()) == []


def test_generic_names_pass_promtool() -> None:
    rates = {"rx_bytes_per_sec": 5.0, "reads_per_s": 1.0}
    reserved = {"memory_total": 8, "process_count": 3, "latency_sum": 1, "size_bucket": 2}

    output = render_prometheus(latest({"plug": {**rates, **reserved, "nested": {"total": 4}}}))

    parsed = samples(output)
    assert value(parsed, "skyport_plug_rx_bytes_per_second") == 5
    assert value(parsed, "skyport_plug_reads_per_second") == 1
    assert value(parsed, "skyport_plug_memory_total_value") == 8
    assert value(parsed, "skyport_plug_process_count_value") == 3
    assert value(parsed, "skyport_plug_nested_total_value") == 4
    assert promtool_problems(output.decode()) == []


def test_promtool_does_find_problems() -> None:
    assert promtool_problems("# TYPE x_total gauge\nx_total 1\n")
