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


def latest(collectors: dict[str, Any], errors: dict[str, str] | None = None) -> dict[str, Any]:
    """A mapping shaped like ``MetricsHub.latest()``."""
    return {
        "ts": 1_700_000_100.0,
        "collectors": collectors,
        "timestamps": {name: 1_700_000_000.0 for name, data in collectors.items() if data},
        "errors": errors or {},
    }


def samples(output: bytes) -> dict[str, dict[frozenset[tuple[str, str]], float]]:
    """``{metric name: {label set: value}}``, failing on a repeated sample."""
    parsed: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    for family in text_string_to_metric_families(output.decode()):
        assert family.type == "gauge"
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
    assert value(parsed, "skyport_host_memory_total") == 1024
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

    assert value(parsed, "skyport_c_disks_total", device="/dev/a") == float(2**40 + 3)


def test_empty_snapshot_is_valid() -> None:
    assert samples(render_prometheus(latest({}))) == {}


async def test_real_host_snapshot_round_trips() -> None:
    hub = MetricsHub([host_collector()], interval=1.0)
    snapshot = await hub.snapshot()
    host = snapshot["collectors"]["host"]

    parsed = samples(render_prometheus(snapshot))

    assert value(parsed, "skyport_metrics_up", collector="host") == 1
    assert value(parsed, "skyport_host_memory_total") == host["memory"]["total"]
    assert value(parsed, "skyport_host_process_count") == host["process_count"]
    cores = parsed["skyport_host_cpu_per_core"]
    assert len(cores) == host["cpu"]["count"]
    for disk in host["disks"]:
        assert value(parsed, "skyport_host_disks_total", device=disk["device"]) == disk["total"]
    for nic in host["network"]:
        assert value(parsed, "skyport_host_network_rx_errors", name=nic["name"]) == nic["rx_errors"]
    assert len(parsed["skyport_host_top_memory_memory_rss"]) == len(host["top_memory"])
