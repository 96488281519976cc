"""Screens pushed over an area: a log that follows live, and a JSON document to read."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static, TextArea

from skyport.client import Client
from skyport.tui.calls import call_api
from skyport.tui.widgets import StatusLine

if TYPE_CHECKING:
    from skyport.tui.app import SkyportTui

MAX_LINES = 5000
"""Lines a log view keeps."""

Line = tuple[str, str]
"""``(stream, text)``: stream ``stderr``/``err`` is drawn in red."""


class LogSource(NamedTuple):
    """Where one log comes from: past lines over HTTP, then live ones on a topic.

    ``past(client)`` returns the lines and a marker of how far they go;
    ``live(data, marker)`` the lines of one topic message that are newer,
    or ``None`` when the message says the log ended.
    """

    title: str
    topic: str
    past: Callable[[Client], tuple[list[Line], Any]]
    live: Callable[[Any, Any], list[Line] | None]


class FollowScreen(Screen[None]):
    """A titled log of what a topic says, followed while the screen is open; Escape goes back."""

    BINDINGS: ClassVar[list[Any]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, title: str, topic: str) -> None:
        super().__init__(classes="detail-screen")
        self.title_text = title
        self.topic = topic
        self._unwatch: Callable[[], None] | None = None

    @property
    def tui(self) -> SkyportTui:
        return self.app  # type: ignore[return-value]

    @property
    def log_view(self) -> RichLog:
        return self.query_one(RichLog)

    def compose(self) -> ComposeResult:
        yield Static(Text(self.title_text, style="bold"), classes="detail-title")
        yield RichLog(max_lines=MAX_LINES, wrap=False, classes="log")
        yield StatusLine(classes="status-line")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.tui.live is not None:
            self._unwatch = self.tui.live.watch(self.topic, self.on_topic)

    def on_unmount(self) -> None:
        if self._unwatch is not None:
            self._unwatch()

    def on_topic(self, message: dict[str, Any]) -> None:
        """Show one message of the topic: each kind of screen says how (here: nothing)."""


class LogScreen(FollowScreen):
    """A log following live: subscribed first, then the past read, so no line is lost or
    shown twice. ``f`` stops or resumes scrolling to the end."""

    BINDINGS: ClassVar[list[Any]] = [Binding("f", "follow", "Follow on/off")]

    def __init__(self, source: LogSource) -> None:
        super().__init__(source.title, source.topic)
        self.source = source
        self.waiting: list[Any] | None = []
        """Live messages that came before the past was read (``None`` once it was)."""
        self.marker: Any = None

    def on_topic(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "error":
            self.tui.report(str(message.get("message")), problem=True)
            self._read_past()  # the request says why (a 404 naming the container)
        elif kind == "subscribed":
            self._read_past()
        elif "data" in message:
            if self.waiting is not None:
                self.waiting.append(message["data"])
            else:
                self._show_live(message["data"])

    def _read_past(self) -> None:
        if self.waiting is not None:
            call_api(self, self.source.past, lambda answer: self._past_read(*answer))

    def _past_read(self, lines: list[Line], marker: Any) -> None:
        self.marker = marker
        self.write(lines)
        waiting, self.waiting = self.waiting or [], None
        for data in waiting:
            self._show_live(data)

    def _show_live(self, data: Any) -> None:
        lines = self.source.live(data, self.marker)
        if lines is None:
            self.tui.report(f"{self.source.title}: the log ended")
            return
        self.write(lines)

    def write(self, lines: list[Line]) -> None:
        for stream, text in lines:
            self.log_view.write(Text(text, style="red" if stream in ("stderr", "err") else ""))

    def action_follow(self) -> None:
        log = self.log_view
        log.auto_scroll = not log.auto_scroll
        self.tui.report("following the end" if log.auto_scroll else "scrolling stopped")


class DocumentScreen(Screen[None]):
    """A JSON document (``docker inspect``, ``pm2 describe``) to scroll and select from."""

    BINDINGS: ClassVar[list[Any]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, title: str, document: Any) -> None:
        super().__init__(classes="detail-screen")
        self.title_text = title
        self.document = document

    def compose(self) -> ComposeResult:
        yield Static(Text(self.title_text, style="bold"), classes="detail-title")
        text = json.dumps(self.document, indent=2, ensure_ascii=False)
        yield TextArea(text, read_only=True, show_line_numbers=False, classes="document")
        yield StatusLine(classes="status-line")
        yield Footer(compact=True)
