"""``skyport metrics``: the host's figures once, or live with ``--watch``."""

from __future__ import annotations

import json as jsonlib
import sys
from typing import Annotated, Any

from cyclopts import Parameter

from skyport.cli.common import api
from skyport.cli.output import (
    CliError,
    JsonFlag,
    human_bytes,
    human_duration,
    human_time,
    print_fields,
    print_json,
    print_table,
)
from skyport.metrics import DETAILS_TOPIC

CLEAR = "\x1b[H\x1b[2J"
WITH_PROCESSES = {"details": "host"}
"""The host's top processes are read only for those who ask."""


def metrics(
    *,
    watch: Annotated[bool, Parameter(alias="-w")] = False,
    count: Annotated[int | None, Parameter(alias="-n")] = None,
    json: JsonFlag = False,
) -> None:
    """Show CPU, load, memory, swap, disks, network and top processes.

    Parameters
    ----------
    watch
        Follow the live feed (WebSocket) and redraw on every sample until Ctrl-C.
    count
        With --watch: stop after this many samples.
    json
        Print the API's JSON; with --watch one message per line.
    """
    if count is not None and count < 1:
        raise CliError("--count must be at least 1")
    with api() as client:
        if not watch:
            snapshot = client.get("/api/metrics", params=WITH_PROCESSES)
            if json:
                print_json(snapshot)
            else:
                render(snapshot)
            return
        _watch(client, count, json)


def _watch(client: Any, count: int | None, as_json: bool) -> None:
    """Print each sample as it comes; a page shows every collector's latest figures."""
    latest: dict[str, Any] = {"collectors": {}, "timestamps": {}, "errors": {}}
    if not as_json:
        latest = client.get("/api/metrics", params=WITH_PROCESSES)
        latest["errors"] = {}  # the live feed brings only successful samples
    redraw = sys.stdout.isatty()
    try:
        _follow(client, latest, count, as_json, redraw)
    except KeyboardInterrupt:
        return  # Ctrl-C is how a watch ends


def _follow(
    client: Any, latest: dict[str, Any], count: int | None, as_json: bool, redraw: bool
) -> None:
    seen = 0
    for message in client.subscribe(["metrics", f"{DETAILS_TOPIC}host"]):
        if message.get("topic") != "metrics":
            continue
        seen += 1
        if as_json:
            print(jsonlib.dumps(message, ensure_ascii=False), flush=True)
        else:
            sample = message.get("data") or {}
            name = sample.get("collector", "?")
            latest["collectors"][name] = sample.get("data")
            latest["timestamps"][name] = sample.get("ts")
            latest["ts"] = sample.get("ts")
            if redraw:
                print(CLEAR, end="")
            render(latest)
            print(flush=True)
        if count is not None and seen >= count:
            return


def render(snapshot: dict[str, Any]) -> None:
    """A readable page for a ``/api/metrics`` snapshot: ``host`` first, then the others."""
    collectors: dict[str, Any] = snapshot.get("collectors") or {}
    timestamps: dict[str, Any] = snapshot.get("timestamps") or {}
    errors: dict[str, Any] = snapshot.get("errors") or {}
    names = sorted(collectors, key=lambda n: (n != "host", n))
    for index, name in enumerate(names):
        if index:
            print()
        data = collectors[name]
        when = human_time(timestamps.get(name))
        print(
            f"== {name}  (sampled {when})" + (f"  ERROR: {errors[name]}" if name in errors else "")
        )
        if data is None:
            print("no sample yet")
        elif name == "host":
            render_host(data)
        else:
            render_generic(data)


def render_host(host: dict[str, Any]) -> None:
    cpu, load, mem, swap = host["cpu"], host["load"], host["memory"], host["swap"]
    per_core = " ".join(f"{p:.0f}" for p in cpu.get("per_core", []))
    print_fields(
        [
            (
                "uptime",
                f"{human_duration(host['uptime_seconds'])}, {host['process_count']} processes",
            ),
            ("cpu", f"{cpu['percent']:.1f}% of {cpu['count']} cores  [{per_core}]"),
            ("load", f"{load['min1']:.2f} {load['min5']:.2f} {load['min15']:.2f}"),
            (
                "memory",
                f"{human_bytes(mem['used'])} of {human_bytes(mem['total'])} used "
                f"({mem['percent']:.1f}%), {human_bytes(mem['available'])} available",
            ),
            (
                "swap",
                f"{human_bytes(swap['used'])} of {human_bytes(swap['total'])} "
                f"({swap['percent']:.1f}%)",
            ),
        ]
    )
    _section(
        host.get("disks", []),
        [
            ("DISK", lambda d: d["device"]),
            ("MOUNT", lambda d: d["mountpoint"]),
            ("FS", lambda d: d["fstype"]),
            ("USED", lambda d: human_bytes(d["used"])),
            ("SIZE", lambda d: human_bytes(d["total"])),
            ("USE%", lambda d: f"{d['percent']:.1f}"),
        ],
    )
    _section(
        host.get("disk_io", []),
        [
            ("DISK I/O", lambda d: d["name"]),
            ("READ/s", lambda d: human_bytes(d["read_bytes_per_sec"])),
            ("WRITE/s", lambda d: human_bytes(d["write_bytes_per_sec"])),
            ("READ OPS/s", lambda d: f"{d['read_ops_per_sec']:.0f}"),
            ("WRITE OPS/s", lambda d: f"{d['write_ops_per_sec']:.0f}"),
        ],
    )
    _section(
        host.get("network", []),
        [
            ("INTERFACE", lambda n: n["name"]),
            ("RX/s", lambda n: human_bytes(n["rx_bytes_per_sec"])),
            ("TX/s", lambda n: human_bytes(n["tx_bytes_per_sec"])),
            ("ERRORS", lambda n: n["rx_errors"] + n["tx_errors"]),
            ("DROPPED", lambda n: n["rx_dropped"] + n["tx_dropped"]),
        ],
    )
    for title, key in (("TOP CPU", "top_cpu"), ("TOP MEMORY", "top_memory")):
        _section(
            host.get(key, []),
            [
                (title, lambda p: p["name"]),
                ("PID", lambda p: p["pid"]),
                ("USER", lambda p: p["username"] or "-"),
                ("CPU%", lambda p: f"{p['cpu_percent']:.1f}"),
                ("RSS", lambda p: human_bytes(p["memory_rss"])),
                ("MEM%", lambda p: f"{p['memory_percent']:.1f}"),
            ],
        )


def render_generic(data: Any) -> None:
    """Another plugin's collector: its scalar fields, and how many items each list has."""
    if not isinstance(data, dict):
        print(jsonlib.dumps(data, ensure_ascii=False)[:500])
        return
    pairs = []
    for key, value in data.items():
        if isinstance(value, list):
            pairs.append((key, f"{len(value)} items"))
        elif isinstance(value, dict):
            pairs.append((key, jsonlib.dumps(value, ensure_ascii=False)[:200]))
        else:
            pairs.append((key, value))
    print_fields(pairs)


def _section(rows: list[Any], columns: Any) -> None:
    if rows:
        print()
        print_table(rows, columns)
