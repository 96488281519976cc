"""Containers (docker plugin): the list with live CPU and memory, actions, logs, inspect, and a
shell in a container (the terminal is handed over to it until the shell exits)."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from textual.binding import Binding
from textual.widgets import DataTable

from skyport.cli.output import human_bytes
from skyport.client import Client
from skyport.tui.screens.base import ListScreen, Row
from skyport.tui.screens.detail import Line, LogScreen, LogSource

LOG_TAIL = 200
IMAGE_WIDTH = 24


def container_path(ref: str, *action: str) -> str:
    return "/".join(["/api/docker/containers", quote(ref, safe=""), *action])


def shown_image(image: str, width: int = IMAGE_WIDTH) -> str:
    """An image as ``docker ps`` shows it (an image id by its first 12 digits), and a long
    name cut, so that the state and figures stay on an 80-column screen."""
    if image.startswith("sha256:"):
        return image.removeprefix("sha256:")[:12]
    return image if len(image) <= width else image[: width - 1] + "…"


class ContainersScreen(ListScreen):
    AREA = "containers"
    TOPICS = ("docker.events", "metrics")
    WRITES: ClassVar[dict[str, str]] = {
        **dict.fromkeys(("start", "stop", "restart", "remove"), "docker:write"),
        "shell": "docker:exec",
    }
    COLUMNS = ("NAME", "IMAGE", "STATE", "CPU%", "MEM", "STATUS")
    BINDINGS: ClassVar[list[Any]] = [
        Binding("l", "logs", "Logs"),
        Binding("d", "inspect", "Describe"),
        Binding("s", "shell", "Shell"),
        Binding("u", "start", "Start"),
        Binding("t", "stop", "Stop"),
        Binding("r", "restart", "Restart"),
        Binding("ctrl+d", "remove", "Remove"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.containers: list[dict[str, Any]] = []
        self.stats: dict[str, dict[str, Any]] = {}

    def reload(self) -> None:
        self.api(lambda c: c.get("/api/docker/ps", params={"all": True}), self._listed)

    def _listed(self, containers: list[dict[str, Any]]) -> None:
        self.containers = containers
        self.redraw()

    def redraw(self) -> None:
        rows = []
        for c in self.containers:
            stats = self.stats.get(c["id"]) if c["state"] == "running" else None
            rows.append(
                Row(
                    c["id"],
                    (
                        c["name"],
                        shown_image(c["image"]),
                        c["state"],
                        f"{stats['cpu_percent']:.1f}" if stats else "-",
                        human_bytes(stats["memory_usage_bytes"]) if stats else "-",
                        c["status"],
                    ),
                    f"{c['name']} {c['image']} {c['state']} {c['id'][:12]}",
                )
            )
        self.show(rows)

    def on_topic(self, message: dict[str, Any]) -> None:
        super().on_topic(message)
        data = message.get("data") or {}
        if message.get("topic") == "docker.events" and data.get("Type") in ("container", "engine"):
            self.reload_soon()
        elif message.get("topic") == "metrics" and data.get("collector") == "containers":
            sample = data.get("data") or {}
            self.stats = {s["id"]: s for s in sample.get("container") or []}
            self.redraw()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_logs()

    # -- actions -----------------------------------------------------------------------

    def _chosen(self) -> dict[str, Any] | None:
        key = self.selected
        return next((c for c in self.containers if c["id"] == key), None)

    def _act(self, verb: str, action: str, method: str = "POST", **params: Any) -> None:
        container = self._chosen()
        if container is None:
            return
        name, ref = container["name"], container["id"]
        path = container_path(ref) if method == "DELETE" else container_path(ref, action)
        self.act(
            f"{action.capitalize()} container {name}?",
            lambda c: c.request(method, path, params=params or None),
            f"{verb} {name}",
        )

    def action_start(self) -> None:
        self._act("started", "start")

    def action_stop(self) -> None:
        self._act("stopped", "stop")

    def action_restart(self) -> None:
        self._act("restarted", "restart")

    def action_remove(self) -> None:
        self._act("removed", "remove", "DELETE", force=True)

    def action_logs(self) -> None:
        container = self._chosen()
        if container is not None:
            self.app.push_screen(LogScreen(logs_of(container["name"], container["id"])))

    def action_inspect(self) -> None:
        container = self._chosen()
        if container is None:
            return
        self.describe(f"container {container['name']}", container_path(container["id"]))

    def action_shell(self) -> None:
        container = self._chosen()
        if container is not None:
            self.hand_over("docker", container["id"], f"a shell in {container['name']}")


def logs_of(name: str, container_id: str) -> LogSource:
    """The container's last lines, then its output live from ``docker.logs:<id>``."""

    def past(client: Client) -> tuple[list[Line], set[tuple[str, str]]]:
        params = {"tail": LOG_TAIL, "timestamps": True}
        answer = client.get(container_path(container_id, "logs"), params=params)
        lines = answer["lines"]
        seen = {(x.get("time"), x["line"]) for x in lines}
        return [(x["stream"], x["line"]) for x in lines], seen

    def live(data: dict[str, Any], seen: set[tuple[str, str]]) -> list[Line] | None:
        if data.get("end"):
            return None
        lines = data.get("lines") or []
        return [(x["stream"], x["line"]) for x in lines if (x.get("time"), x["line"]) not in seen]

    return LogSource(f"logs of {name}", f"docker.logs:{container_id}", past, live)
