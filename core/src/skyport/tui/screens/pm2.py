"""PM2 processes (pm2 plugin): the list with live CPU and memory, actions, scale, logs."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from textual.binding import Binding
from textual.widgets import DataTable

from skyport.cli.output import human_bytes, human_duration
from skyport.client import Client
from skyport.tui.screens.base import ListScreen, Row
from skyport.tui.screens.detail import Line, LogScreen, LogSource
from skyport.tui.widgets import Prompt

LOG_LINES = 100


def process_path(ref: str, *action: str) -> str:
    return "/".join(["/api/pm2/processes", quote(ref, safe=""), *action])


class Pm2Screen(ListScreen):
    AREA = "pm2"
    TOPICS = ("pm2.events", "metrics")
    WRITES: ClassVar[dict[str, str]] = dict.fromkeys(("act", "scale", "scale_to"), "pm2:write")
    COLUMNS = ("ID", "NAME", "MODE", "STATUS", "CPU%", "MEM", "RESTARTS", "UPTIME")
    BINDINGS: ClassVar[list[Any]] = [
        Binding("l", "logs", "Logs"),
        Binding("d", "describe", "Describe"),
        Binding("u", "act('start')", "Start"),
        Binding("t", "act('stop')", "Stop"),
        Binding("r", "act('restart')", "Restart"),
        Binding("R", "act('reload')", "Reload", show=False),
        Binding("ctrl+d", "act('delete')", "Delete"),
        Binding("plus", "scale('+1')", "+1"),
        Binding("minus", "scale('-1')", "-1"),
        Binding("equals_sign", "scale_to", "Scale", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.processes: list[dict[str, Any]] = []

    def reload(self) -> None:
        self.api(lambda c: c.get("/api/pm2/list"), self._listed)

    def _listed(self, processes: list[dict[str, Any]]) -> None:
        self.processes = processes
        self.show(
            Row(
                str(p["pm_id"]),
                (
                    p["pm_id"],
                    p["name"],
                    p["mode"],
                    p["status"],
                    f"{p['cpu']:.1f}",
                    human_bytes(p["memory"]),
                    p["restarts"],
                    human_duration(p["uptime"]) if p["status"] == "online" else "-",
                ),
                f"{p['name']} {p['status']} {p['namespace']}",
            )
            for p in processes
        )

    def on_topic(self, message: dict[str, Any]) -> None:
        super().on_topic(message)
        data = message.get("data") or {}
        if message.get("topic") == "pm2.events":
            self.reload_soon()
        elif message.get("topic") == "metrics" and data.get("collector") == "pm2":
            self.reload_soon()  # pm2's own sampling moved on: the list has fresh figures

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_logs()

    def _chosen(self) -> dict[str, Any] | None:
        key = self.selected
        return next((p for p in self.processes if str(p["pm_id"]) == key), None)

    def action_act(self, verb: str) -> None:
        process = self._chosen()
        if process is None:
            return
        name = process["name"]
        method = "DELETE" if verb == "delete" else "POST"
        path = process_path(name) if verb == "delete" else process_path(name, verb)
        question = f"{verb.capitalize()} {name}?"
        self.act(question, lambda c: c.request(method, path), f"{verb}: {name}")

    def action_scale(self, instances: str) -> None:
        process = self._chosen()
        if process is None:
            return
        name = process["name"]
        self.act(
            f"Scale {name} {instances}?",
            lambda c: c.post(process_path(name, "scale"), json={"instances": instances}),
            f"scaled {name} {instances}",
        )

    def action_scale_to(self) -> None:
        process = self._chosen()
        if process is None:
            return

        def answered(count: str | None) -> None:
            if count:
                self.action_scale(count)

        self.app.push_screen(Prompt(f"instances of {process['name']}:"), answered)

    def action_describe(self) -> None:
        process = self._chosen()
        if process is not None:
            self.describe(f"process {process['name']}", process_path(process["name"]))

    def action_logs(self) -> None:
        process = self._chosen()
        if process is not None:
            self.app.push_screen(LogScreen(logs_of(process["name"])))


def logs_of(name: str) -> LogSource:
    """The last lines of the process's files, then its output live from ``pm2.logs:<name>``."""

    def past(client: Client) -> tuple[list[Line], int]:
        answer = client.get(process_path(name, "logs"), params={"lines": LOG_LINES})
        return [(x["stream"], x["line"]) for x in answer["lines"]], answer["at"]

    def live(data: dict[str, Any], since: int) -> list[Line]:
        if data.get("at", 0) < since:
            return []  # already in the files when they were read
        return [(data["stream"], line) for line in str(data.get("data", "")).splitlines()]

    return LogSource(f"logs of {name}", f"pm2.logs:{name}", past, live)
