"""Servers (vps plugin): the inventory, a command run on the marked servers or a tag with each
host's output live, and an SSH shell (the terminal is handed over to it)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from rich.text import Text
from textual.binding import Binding

from skyport.tui.calls import call_api
from skyport.tui.screens.base import ListScreen, Row
from skyport.tui.screens.detail import FollowScreen
from skyport.tui.widgets import Prompt

if TYPE_CHECKING:
    pass

COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")


class ServersScreen(ListScreen):
    AREA = "servers"
    WRITES: ClassVar[dict[str, str]] = {
        "run": "vps:run",
        "run_tag": "vps:run",
        "shell": "vps:shell",
    }
    COLUMNS = (" ", "NAME", "HOST", "USER", "TAGS", "TRUSTED")
    BINDINGS: ClassVar[list[Any]] = [
        Binding("space", "mark", "Mark"),
        Binding("x", "run", "Run"),
        Binding("g", "run_tag", "Run on tag"),
        Binding("s", "shell", "SSH"),
        Binding("d", "describe", "Describe"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.servers: list[dict[str, Any]] = []
        self.marked: set[str] = set()

    def reload(self) -> None:
        self.api(lambda c: c.get("/api/vps/servers"), self._listed)

    def _listed(self, servers: list[dict[str, Any]]) -> None:
        self.servers = servers
        self.marked &= {s["name"] for s in servers}
        self.redraw()

    def redraw(self) -> None:
        self.show(
            Row(
                s["name"],
                (
                    "✓" if s["name"] in self.marked else " ",
                    s["name"],
                    f"{s['host']}:{s['port']}",
                    s["user"],
                    ", ".join(s["tags"]),
                    "yes" if s["trusted"] else "no",
                ),
                f"{s['name']} {s['host']} {' '.join(s['tags'])}",
            )
            for s in self.servers
        )

    def action_mark(self) -> None:
        name = self.selected
        if name is not None:
            self.marked ^= {name}
            self.redraw()
            self.table.action_cursor_down()

    def action_run(self) -> None:
        names = sorted(self.marked) or ([self.selected] if self.selected else [])
        if names:
            self._ask_command(", ".join(names), {"servers": names})

    def action_run_tag(self) -> None:
        tags = sorted({t for s in self.servers for t in s["tags"]})

        def chosen(tag: str | None) -> None:
            if tag:
                self._ask_command(f"tag {tag}", {"tags": [tag]})

        self.app.push_screen(Prompt("tag:", choices=tags), chosen)

    def _ask_command(self, where: str, targets: dict[str, list[str]]) -> None:
        def answered(command: str | None) -> None:
            if command:
                self.app.push_screen(RunScreen(f"{command}  on {where}", command, targets))

        self.app.push_screen(Prompt(f"run on {where}:"), answered)

    def action_shell(self) -> None:
        name = self.selected
        if name is not None:
            self.hand_over("vps", name, f"SSH to {name}")

    def action_describe(self) -> None:
        name = self.selected
        if name is not None:
            self.describe(f"server {name}", f"/api/vps/servers/{quote(name, safe='')}")


class RunScreen(FollowScreen):
    """One command on many servers: each line prefixed by its server, in the server's
    colour, as it comes (topic ``vps.run:<job>``), then each server's exit code."""

    def __init__(self, title: str, command: str, targets: dict[str, list[str]]) -> None:
        job = uuid.uuid4().hex
        super().__init__(title, f"vps.run:{job}")  # subscribed first, so no output is missed
        self.request = {"command": command, "job": job, **targets}
        self.colours: dict[str, str] = {}
        self.started = False

    def on_topic(self, message: dict[str, Any]) -> None:
        data = message.get("data") or {}
        if message.get("type") == "subscribed" and not self.started:
            self.started = True
            call_api(self, lambda c: c.post("/api/vps/run", json=self.request))
        elif message.get("type") == "error":
            self.tui.report(str(message.get("message")), problem=True)
        elif "result" in data:
            result, server = data["result"], data["server"]
            code = result.get("exit_code")
            said = f"exit {code}" if code is not None else result.get("error") or result["reason"]
            self.write(server, f"── {said} ({result.get('duration', 0):.2f} s)", "bold")
        elif "data" in data:
            style = "red" if data.get("stream") == "stderr" else ""
            self.write(data["server"], data["data"], style)
        elif data.get("done"):
            ok = data.get("job", {}).get("ok")
            self.tui.report("done: every server exited 0" if ok else "done: some servers failed")

    def write(self, host: str, text: str, style: str = "") -> None:
        colour = self.colours.setdefault(host, COLOURS[len(self.colours) % len(COLOURS)])
        for line in text.splitlines() or [""]:
            self.log_view.write(Text.assemble((f"{host} | ", colour), (line, style)))
