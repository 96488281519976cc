"""Widgets every screen shares: the screen bar, the status line, prompts and the filter."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static

if TYPE_CHECKING:
    from skyport.tui.screens import Area


class ScreenBar(Static):
    """The screens there are, numbered as their keys; the current one stands out. Clickable."""

    def __init__(self, current: str) -> None:
        super().__init__(classes="screen-bar")
        self.current = current

    def on_mount(self) -> None:
        self.watch(self.app, "areas", self._draw, init=True)

    def _draw(self, areas: Sequence[Area]) -> None:
        text = Text("SkyPort ", style="bold")
        for number, area in enumerate(areas, 1):
            click = Style.from_meta({"@click": f"app.goto('{area.name}')"})
            look = Style(reverse=True, bold=True) if area.name == self.current else Style()
            text.append(f" {number} {area.label} ", style=look + click)
        self.update(text)


class StatusLine(Static):
    """One line: what just happened, or what is wrong (a backend down, the feed lost)."""

    def on_mount(self) -> None:
        self.watch(self.app, "status", self._draw, init=True)

    def _draw(self, status: tuple[str, bool]) -> None:
        message, problem = status
        self.set_class(problem, "problem")
        self.update(Text(message, no_wrap=True, overflow="ellipsis"))


class Confirm(ModalScreen[bool]):
    """Ask a yes/no question; ``y``/Enter is yes, ``n``/Escape is no. Buttons for the mouse."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    AUTO_FOCUS = "#no"  # Enter alone never says yes

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog")
        self.question = question

    def compose(self) -> ComposeResult:
        with Grid(classes="dialog-box"):
            yield Label(self.question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class Prompt(ModalScreen[str | None]):
    """One line of input at the bottom (``:`` commands, a command to run, a count).

    Enter answers with the text, Escape with ``None``; ``choices`` are offered
    as completions (→ accepts one).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, label: str, *, choices: Sequence[str] = (), value: str = "") -> None:
        super().__init__(classes="prompt")
        self.label = label
        self.choices = list(choices)
        self.value = value

    def compose(self) -> ComposeResult:
        with Horizontal(classes="prompt-line"):
            yield Label(self.label)
            suggester = SuggestFromList(self.choices) if self.choices else None
            yield Input(value=self.value, suggester=suggester, compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class FilterBar(Input):
    """``/``: filter the list as you type; Enter keeps it, Escape clears it."""

    BINDINGS = [Binding("escape", "clear", "Clear filter", show=False)]

    def __init__(self) -> None:
        super().__init__(placeholder="/ to filter", classes="filter", compact=True)

    def action_clear(self) -> None:
        self.value = ""
        self.screen.focus_next()


def bar(percent: float, width: int) -> Text:
    """``████░░░░`` for ``percent`` of ``width`` cells, coloured by how full it is."""
    percent = max(0.0, min(100.0, percent))
    filled = round(percent / 100 * width)
    style = "red" if percent >= 90 else "yellow" if percent >= 70 else "green"
    return Text.assemble(("█" * filled, style), ("░" * (width - filled), "dim"))


BLOCKS = " ▁▂▃▄▅▆▇█"


class Spark(Static):
    """A sparkline, one column per sample, the newest on the right, ``height`` rows tall.

    ``ceiling`` fixes the top of the scale (100 for a percentage); without it
    the largest value shown is the top.
    """

    def __init__(self, *, ceiling: float | None = None, keep: int = 240, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ceiling = ceiling
        self.values: deque[float] = deque(maxlen=keep)

    def add(self, *values: float) -> None:
        self.values.extend(values)
        self.refresh()

    def render(self) -> Text:
        width, height = self.size.width, max(1, self.size.height)
        shown = list(self.values)[-width:] if width else []
        top = self.ceiling or max(shown, default=0.0) or 1.0
        levels = [round(max(0.0, min(v / top, 1.0)) * height * 8) for v in shown]
        lines = []
        for row in range(height - 1, -1, -1):
            cells = (BLOCKS[max(0, min(8, level - row * 8))] for level in levels)
            lines.append("".join(cells).rjust(width))
        return Text("\n".join(lines), style="blue", no_wrap=True)
