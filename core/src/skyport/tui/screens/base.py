"""What every area screen shares: live topics while visible, API calls off the UI thread,
write actions shown only to users who may take them, and the filtered table of list screens."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input

from skyport.client import Client
from skyport.tui.calls import call_api
from skyport.tui.screens.detail import DocumentScreen
from skyport.tui.widgets import Confirm, FilterBar, ScreenBar, StatusLine

if TYPE_CHECKING:
    from skyport.tui.app import SkyportTui

T = TypeVar("T")
SETTLE = 0.3
"""Seconds :meth:`AreaScreen.reload_soon` waits (events come in bursts)."""


class AreaScreen(Screen[None]):
    """A top-level screen (one per area: overview, containers, …).

    Subclasses name the ``TOPICS`` they follow while shown (``on_topic`` gets
    their messages), load their data in ``reload``, and map in ``WRITES`` the
    actions that change something to the scope each needs (hidden from users without it).
    """

    AREA: ClassVar[str]
    TOPICS: ClassVar[tuple[str, ...]] = ()
    WRITES: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        super().__init__(classes=f"area {self.AREA}")
        self._unwatch: list[Callable[[], None]] = []
        self._soon: Any = None

    @property
    def tui(self) -> SkyportTui:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield ScreenBar(self.AREA)
        yield from self.body()
        yield StatusLine(classes="status-line")
        yield Footer(compact=True)

    def body(self) -> ComposeResult:
        yield from ()

    # -- live while shown ---------------------------------------------------------

    def on_screen_resume(self) -> None:
        if self.tui.client is not None:
            self.start()

    def on_screen_suspend(self) -> None:
        if not isinstance(self.app.screen, ModalScreen):  # a dialog on top: keep following
            self.stop()

    def start(self) -> None:
        """Follow this screen's topics and load its data (when shown, once connected)."""
        if self._unwatch or self.tui.live is None:
            return
        self._unwatch = [self.tui.live.watch(t, self.on_topic) for t in self.TOPICS]
        self.reload()

    def stop(self) -> None:
        for unwatch in self._unwatch:
            unwatch()
        self._unwatch = []

    def on_unmount(self) -> None:
        self.stop()

    def on_topic(self, message: dict[str, Any]) -> None:
        """A message of one of ``TOPICS`` (or the server's reply about it)."""
        if message.get("type") == "error":
            self.tui.report(str(message.get("message")), problem=True)

    def reload(self) -> None:
        """Load what the screen shows (called when shown and after actions)."""

    def reload_soon(self) -> None:
        """:meth:`reload` in a moment, once for a burst of events."""
        if self._soon is not None:
            self._soon.stop()
        self._soon = self.set_timer(SETTLE, self.reload)

    # -- the API, off the UI thread --------------------------------------------------

    def api(
        self,
        call: Callable[[Client], T],
        then: Callable[[T], object] | None = None,
        *,
        done: str | None = None,
    ) -> None:
        """Call the API off the UI's thread (see :func:`~skyport.tui.calls.call_api`)."""
        call_api(self, call, then, done=done)

    def describe(self, title: str, path: str) -> None:
        """Show the JSON document at ``path`` (``docker inspect``, ``pm2 describe`` …)."""

        def show(document: Any) -> None:
            self.app.push_screen(DocumentScreen(title, document))

        self.api(lambda c: c.get(path), show)

    def act(self, question: str, call: Callable[[Client], object], done: str) -> None:
        """Ask ``question``; on yes make the call, then say ``done`` and load again."""

        def answered(yes: bool | None) -> None:
            if yes:
                self.api(call, lambda _: self.reload(), done=done)

        self.app.push_screen(Confirm(question), answered)

    def hand_over(self, provider: str, target: str, what: str) -> None:
        """Give this terminal to ``provider``'s terminal on ``target`` (a shell) until it
        exits, as ``skyport terminal`` does; then the UI comes back as it was."""
        client = self.tui.client
        if client is None:
            return
        from skyport.cli.terminal import open_terminal

        focused = self.focused
        with self.app.suspend():
            print(f"skyport: {what}; exit it to come back\n", flush=True)
            try:
                open_terminal(client, provider, target)
            except Exception as exc:
                self.tui.report(f"{what}: {exc}", problem=True)
        if focused is not None:
            focused.focus()

    # -- who may do what ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides the key altogether: a viewer sees no write actions
        return self.tui.may(self.WRITES.get(action))


class Row(NamedTuple):
    """One table row: its key (an id), its cells, and the text the filter searches."""

    key: str
    cells: tuple[Any, ...]
    text: str


class ListScreen(AreaScreen):
    """A table of resources, filtered as you type after ``/``; keeps the cursor on its row."""

    COLUMNS: ClassVar[tuple[str, ...]]
    BINDINGS: ClassVar[list[Any]] = [Binding("slash", "filter", "Filter")]
    SEARCH_ON_SERVER: ClassVar[bool] = False
    """The filter is a query the screen's ``reload`` sends (rows come already matching)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []

    def body(self) -> ComposeResult:
        table: DataTable[Any] = DataTable(cursor_type="row", classes="list")
        table.add_columns(*self.COLUMNS)
        yield table
        yield FilterBar()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one(DataTable)

    @property
    def filter_text(self) -> str:
        return self.query_one(FilterBar).value.strip().lower()

    def show(self, rows: Iterable[Row]) -> None:
        """Replace the rows (kept to filter them again)."""
        self.rows = list(rows)
        self.draw()

    def draw(self) -> None:
        table, wanted, keep = self.table, self.filter_text, self.selected
        table.clear()
        for row in self.rows:
            if self.SEARCH_ON_SERVER or not wanted or wanted in row.text.lower():
                table.add_row(*row.cells, key=row.key)
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)

    @property
    def selected(self) -> str | None:
        """The key of the row under the cursor."""
        table = self.table
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_filter(self) -> None:
        self.set_focus(self.query_one(FilterBar))  # at once: the next keys typed go to it

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, FilterBar):
            if self.SEARCH_ON_SERVER:
                self.reload_soon()
            else:
                self.draw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if isinstance(event.input, FilterBar):
            self.table.focus()
