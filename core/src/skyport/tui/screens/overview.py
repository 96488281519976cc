"""Overview: the host's CPU, memory, network and disk as sparklines, per-core bars, load and
top processes, live from the ``metrics`` topic (the ``host`` collector)."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from skyport.cli.output import human_bytes, human_duration
from skyport.metrics import DETAILS_TOPIC
from skyport.tui.screens.base import AreaScreen
from skyport.tui.widgets import Spark, bar

CORE_CELL = 16
"""Columns one core's bar takes: ``12 ██████░░ 100``."""


class CoreBars(Static):
    """One bar per core, as many across as the width allows."""

    def __init__(self) -> None:
        super().__init__(classes="cores")
        self.percents: list[float] = []

    def show(self, percents: list[float]) -> None:
        self.percents = percents
        self.update(self.draw())

    def draw(self) -> Text:
        across = max(1, self.size.width // CORE_CELL)
        text = Text(no_wrap=True, overflow="crop")
        for index, percent in enumerate(self.percents):
            if index and index % across == 0:
                text.append("\n")
            text.append(f"{index:>2} ", style="dim")
            text.append_text(bar(percent, CORE_CELL - 8))
            text.append(f"{percent:>4.0f} ")
        return text

    def on_resize(self) -> None:
        self.update(self.draw())


class Panel(Vertical):
    """A title line over a sparkline (``ceiling``: the top of its scale, else the peak)."""

    def __init__(self, name: str, ceiling: float | None = None) -> None:
        super().__init__(id=name, classes="panel")
        self.ceiling = ceiling

    def compose(self) -> ComposeResult:
        yield Static(classes="panel-title")
        yield Spark(ceiling=self.ceiling, classes="spark")

    def show(self, title: Text | str, value: float) -> None:
        self.query_one(".panel-title", Static).update(title)
        self.query_one(Spark).add(value)

    def prefill(self, values: list[float]) -> None:
        self.query_one(Spark).add(*values)


class OverviewScreen(AreaScreen):
    AREA = "overview"
    TOPICS = ("metrics", f"{DETAILS_TOPIC}host")  # the second: with the top processes
    COLUMNS: ClassVar[tuple[str, ...]] = ("PID", "NAME", "USER", "CPU%", "MEM%", "RSS")

    def body(self) -> ComposeResult:
        with Horizontal(classes="gauges"):
            with Vertical(classes="column"):
                yield Panel("cpu", ceiling=100)
                yield CoreBars()
            with Vertical(classes="column"):
                yield Panel("memory", ceiling=100)
                yield Static(id="memory-detail", classes="detail")
        with Horizontal(classes="rates"):
            yield Panel("network")
            yield Panel("disk")
        table: DataTable[Any] = DataTable(cursor_type="row", classes="processes")
        table.add_columns(*self.COLUMNS)
        yield table

    def reload(self) -> None:
        def fetch(client: Any) -> tuple[Any, list[Any]]:
            from skyport.client import ClientError

            snapshot = client.get("/api/metrics", params={"details": "host"})
            try:
                query = {"collector": "host", "minutes": 4}
                past = client.get("/api/metrics/history", params=query)
            except ClientError:  # history off: the sparklines start empty
                past = {"points": []}
            return snapshot, past["points"]

        self.api(fetch, self._loaded)

    def _loaded(self, answer: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        snapshot, points = answer
        samples = [p["data"] for p in points[:-1] if isinstance(p.get("data"), dict)]
        for name, value in (
            ("cpu", lambda h: h["cpu"]["percent"]),
            ("memory", lambda h: h["memory"]["percent"]),
            ("network", lambda h: _rates(h["network"], "rx_bytes_per_sec", "tx_bytes_per_sec")),
            ("disk", lambda h: _rates(h["disk_io"], "read_bytes_per_sec", "write_bytes_per_sec")),
        ):
            self.query_one(f"#{name}", Panel).prefill([value(h) for h in samples])
        host = (snapshot.get("collectors") or {}).get("host")
        if host:
            self.show_host(host, (snapshot.get("timestamps") or {}).get("host"))

    def on_topic(self, message: dict[str, Any]) -> None:
        super().on_topic(message)
        sample = message.get("data") or {}
        if message.get("topic") == "metrics" and sample.get("collector") == "host":
            self.show_host(sample["data"], sample.get("ts"))

    def show_host(self, host: dict[str, Any], ts: float | None) -> None:
        """Draw one ``host`` sample."""
        cpu, load, memory, swap = host["cpu"], host["load"], host["memory"], host["swap"]
        clock = time.strftime("%H:%M:%S", time.localtime(ts or time.time()))
        self.query_one("#cpu", Panel).show(
            Text.assemble(
                ("CPU ", "bold"),
                f"{cpu['percent']:5.1f}%  ",
                ("load ", "dim"),
                f"{load['min1']:.2f} {load['min5']:.2f} {load['min15']:.2f}",
            ),
            cpu["percent"],
        )
        self.query_one(CoreBars).show(cpu.get("per_core") or [])
        self.query_one("#memory", Panel).show(
            Text.assemble(
                ("Memory ", "bold"),
                f"{human_bytes(memory['used'])} of {human_bytes(memory['total'])} "
                f"({memory['percent']:.0f}%)",
            ),
            memory["percent"],
        )
        disks = "  ".join(f"{d['mountpoint']} {d['percent']:.0f}%" for d in host["disks"][:3])
        self.query_one("#memory-detail", Static).update(
            Text.assemble(
                ("swap ", "dim"),
                f"{human_bytes(swap['used'])}/{human_bytes(swap['total'])}  ",
                ("up ", "dim"),
                f"{human_duration(host['uptime_seconds']).split()[0]}  ",
                f"{host['process_count']} ",
                ("procs\n", "dim"),
                ("at ", "dim"),
                f"{clock}  ",
                ("disks ", "dim"),
                disks,
            )
        )
        rx, tx = _sums(host["network"], "rx_bytes_per_sec", "tx_bytes_per_sec")
        self.query_one("#network", Panel).show(
            Text.assemble(("Network ", "bold"), f"↓ {human_bytes(rx)}/s  ↑ {human_bytes(tx)}/s"),
            rx + tx,
        )
        read, write = _sums(host["disk_io"], "read_bytes_per_sec", "write_bytes_per_sec")
        self.query_one("#disk", Panel).show(
            Text.assemble(
                ("Disk I/O ", "bold"), f"r {human_bytes(read)}/s  w {human_bytes(write)}/s"
            ),
            read + write,
        )
        heaviest = {p["pid"]: p for p in [*host["top_memory"], *host["top_cpu"]]}
        self._processes(sorted(heaviest.values(), key=lambda p: -p["cpu_percent"]))

    def _processes(self, processes: list[dict[str, Any]]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for p in processes:
            table.add_row(
                p["pid"],
                p["name"],
                p["username"] or "-",
                f"{p['cpu_percent']:.1f}",
                f"{p['memory_percent']:.1f}",
                human_bytes(p["memory_rss"]),
                key=str(p["pid"]),
            )


def _sums(rows: list[dict[str, Any]], first: str, second: str) -> tuple[float, float]:
    return sum(r[first] for r in rows), sum(r[second] for r in rows)


def _rates(rows: list[dict[str, Any]], first: str, second: str) -> float:
    return sum(_sums(rows, first, second))
