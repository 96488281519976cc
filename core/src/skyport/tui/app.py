"""The SkyPort terminal UI: one Textual app, one screen ("mode") per area.

The first frame is drawn before anything is connected: the client (remote, or
the in-process server) is made in a thread, then ``/api/auth/me`` says what
the user may do and ``/api/plugins`` which areas exist. Keys as in k9s:
digits or ``:name`` switch areas, ``/`` filters, ``?`` shows the keys, ``q``
quits.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from skyport.client import Client, ClientError
from skyport.tui.live import RETRY_PAUSES, LiveHub
from skyport.tui.screens import AREAS, Area, screen_of
from skyport.tui.screens.base import AreaScreen
from skyport.tui.widgets import Prompt


class SkyportTui(App[None]):
    """``skyport tui``; ``connect`` makes the API client (called in a thread)."""

    CSS_PATH = "skyport.tcss"
    TITLE = "SkyPort"
    ENABLE_COMMAND_PALETTE = False
    MODES: ClassVar[dict[str, Any]] = {"overview": lambda: screen_of(AREAS[0])}
    DEFAULT_MODE = "overview"
    BINDINGS: ClassVar[list[Any]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "keys", "Keys"),
        Binding("colon", "command", "Command", show=False),
        *(Binding(str(n), f"goto_number({n})", show=False) for n in range(1, 10)),
    ]

    areas: reactive[tuple[Area, ...]] = reactive(tuple(a for a in AREAS if a.plugin is None))
    status: reactive[tuple[str, bool]] = reactive(("connecting…", False))

    def __init__(self, connect: Callable[[], Client]) -> None:
        super().__init__()
        self.theme = "ansi-dark"  # the terminal's own colours
        self._connect = connect
        self.client: Client | None = None
        self.live: LiveHub | None = None
        self.scopes: frozenset[str] = frozenset()
        self._ending = threading.Event()

    # -- connecting --------------------------------------------------------------------

    def on_mount(self) -> None:
        self.run_worker(self._open, thread=True, name="connect")

    def _open(self) -> None:
        """Make the client and learn the user and plugins; retry until it works or we quit."""
        attempt = 0
        while not self._ending.is_set():
            try:
                client = self._connect()
                try:
                    me, plugins = client.get("/api/auth/me"), client.get("/api/plugins")
                except BaseException:
                    client.close()
                    raise
            except ClientError as exc:
                pause = RETRY_PAUSES[min(attempt, len(RETRY_PAUSES) - 1)]
                self.call_from_thread(self.report, f"{exc} (retrying in {pause:g} s)", True)
                attempt += 1
                self._ending.wait(pause)
                continue
            if self._ending.is_set():
                client.close()
                return
            self.call_from_thread(self._connected, client, me, plugins)
            return

    def _connected(self, client: Client, me: dict[str, Any], plugins: list[Any]) -> None:
        self.client = client
        self.scopes = frozenset(me.get("scopes") or ())
        where = client.where()
        loaded = {p.get("name") for p in plugins if p.get("status") == "loaded"}
        self.areas = tuple(a for a in AREAS if a.plugin is None or a.plugin in loaded)
        for area in self.areas:
            if area.name not in self._modes:
                self.add_mode(area.name, functools.partial(screen_of, area))
        self.live = LiveHub(client, self.call_from_thread, self._feed_state)
        self.live.start()
        self.report(f"{me.get('username')} ({me.get('role')}) on {where}")
        if isinstance(self.screen, AreaScreen):
            self.screen.start()

    def _feed_state(self, problem: str | None) -> None:
        if problem:
            self.report(f"live feed: {problem}", problem=True)
        elif self.status[1] and self.status[0].startswith("live feed:"):
            self.report("live feed back")

    def on_unmount(self) -> None:
        self._ending.set()
        if self.live is not None:
            self.live.stop()
        if self.client is not None:
            threading.Thread(target=self.client.close, daemon=True).start()

    # -- what screens share ----------------------------------------------------------

    def report(self, message: str, problem: bool = False) -> None:
        """Say ``message`` in every screen's status line (``problem``: as an error)."""
        self.status = (message, problem)

    def may(self, scope: str | None) -> bool:
        """Whether the user holds ``scope`` (``None``: needs none; ``*`` holds them all)."""
        return scope is None or scope in self.scopes or "*" in self.scopes

    # -- keys ---------------------------------------------------------------------------

    def action_goto(self, name: str) -> None:
        if any(a.name == name for a in self.areas) and self.current_mode != name:
            self.switch_mode(name)

    def action_goto_number(self, number: int) -> None:
        if number <= len(self.areas):
            self.action_goto(self.areas[number - 1].name)

    def action_keys(self) -> None:
        from textual.widgets import HelpPanel  # Markdown: loaded when first asked for

        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_command(self) -> None:
        names = [n for a in self.areas for n in (a.name, *a.aliases)] + ["quit"]
        self.push_screen(Prompt(":", choices=names), self._run_command)

    def _run_command(self, text: str | None) -> None:
        if not text:
            return
        word = text.split()[0].lower()
        if word in ("q", "quit", "q!"):
            self.exit()
            return
        for area in self.areas:
            if word == area.name or word in area.aliases:
                self.action_goto(area.name)
                return
        self.report(f"no screen {word!r}: {', '.join(a.name for a in self.areas)}", True)


def run(connect: Callable[[], Client]) -> None:
    """Run the UI until the user quits."""
    SkyportTui(connect).run()
