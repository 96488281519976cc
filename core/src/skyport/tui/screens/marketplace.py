"""Marketplace (marketplace plugin): search the catalog as you type, an app's details, install
it with its template's form, and follow a job's progress (an install, a source's refresh)."""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import quote

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select

from skyport.tui.calls import call_api
from skyport.tui.screens.base import ListScreen, Row
from skyport.tui.screens.detail import FollowScreen

API = "/api/marketplace"
PAGE = 100
"""Search results shown (best first)."""


class MarketplaceScreen(ListScreen):
    AREA = "marketplace"
    SEARCH_ON_SERVER = True
    WRITES: ClassVar[dict[str, str]] = {
        "install": "marketplace:install",
        "refresh": "marketplace:admin",
    }
    COLUMNS = ("APP", "KIND", "SOURCE", "CATEGORIES", "ABOUT")
    BINDINGS: ClassVar[list[Any]] = [
        Binding("d", "describe", "Describe"),
        Binding("i", "install", "Install"),
        Binding("R", "refresh", "Refresh source"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.apps: dict[str, dict[str, Any]] = {}

    def reload(self) -> None:
        query = {"q": self.filter_text, "per_page": PAGE}
        self.api(lambda c: c.get(f"{API}/apps", params=query), self._found)

    def _found(self, page: dict[str, Any]) -> None:
        self.apps = {a["id"]: a for a in page["items"]}
        self.show(
            Row(
                a["id"],
                (a["title"], a["kind"], a["source"], ", ".join(a["categories"][:2]), a["summary"]),
                a["title"],
            )
            for a in page["items"]
        )
        self.tui.report(
            f"{page['total']} apps" + (f" match {self.filter_text!r}" * bool(self.filter_text))
        )

    def action_describe(self) -> None:
        if self.selected is not None:
            self.describe(f"app {self.selected}", f"{API}/apps/{quote(self.selected, safe='')}")

    def action_install(self) -> None:
        if self.selected is not None:
            path = f"{API}/apps/{quote(self.selected, safe='')}"
            self.api(lambda c: c.get(path), self._install_form)

    def _install_form(self, app: dict[str, Any]) -> None:
        if not app.get("you_may_install"):
            needs = "; ".join(
                f"{r['scope']} ({r['reason']})" for r in app.get("requirements") or []
            )
            why = f"it needs {needs}" if needs else "no plugin installs this kind of app"
            self.tui.report(f"cannot install {app['title']}: {why}", problem=True)
            return

        def filled(answer: dict[str, Any] | None) -> None:
            if answer is not None:
                path = f"{API}/apps/{quote(app['id'], safe='')}/install"
                self.api(lambda c: c.post(path, json=answer), self._follow)

        self.app.push_screen(InstallForm(app), filled)

    def action_refresh(self) -> None:
        chosen = self.apps.get(self.selected or "")
        if chosen is not None:
            path = f"{API}/sources/{quote(chosen['source'], safe='')}/refresh"
            self.api(lambda c: c.post(path), self._follow)

    def _follow(self, started: dict[str, Any]) -> None:
        self.app.push_screen(JobScreen(started["job"]))


class InstallForm(ModalScreen[dict[str, Any] | None]):
    """The template's settings as a form: the install's name, then each value to give."""

    BINDINGS: ClassVar[list[Any]] = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "submit", "Install"),
    ]

    def __init__(self, app: dict[str, Any]) -> None:
        super().__init__(classes="dialog")
        self.template = app
        self.settings = [e for e in app.get("env") or [] if not e.get("hidden")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="form"):
            yield Label(Text(f"Install {self.template['title']}", style="bold"))
            yield Label("name of the install")
            name = _install_name(self.template["title"])
            yield Input(value=name, id="install-name", compact=True)
            for index, setting in enumerate(self.settings):
                yield from self._field(f"setting-{index}", setting)
            with Horizontal(classes="buttons"):
                yield Button("Install (ctrl+s)", variant="success", id="install")
                yield Button("Cancel (esc)", id="cancel")

    def _field(self, ident: str, setting: dict[str, Any]) -> ComposeResult:
        """A setting's label (``*``: required) and its input: a list when it has choices."""
        required = " *" if setting.get("required") else ""
        about = f"  {setting.get('description', '')}"
        label = setting.get("label") or setting["name"]
        yield Label(Text.assemble(label, (required, "red"), (about, "dim")))
        if setting.get("choices"):
            options = [(c.get("label") or c["value"], c["value"]) for c in setting["choices"]]
            default = setting.get("default") or Select.BLANK
            yield Select(options, value=default, id=ident, compact=True)
        else:
            secret = bool(setting.get("secret"))
            value = setting.get("default", "")
            yield Input(value=value, password=secret, id=ident, compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "install":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        values: dict[str, str] = {}
        for index, setting in enumerate(self.settings):
            field = self.query_one(f"#setting-{index}")
            value = field.value if isinstance(field, Input | Select) else None
            if isinstance(value, str) and value:
                values[setting["name"]] = value
        name = self.query_one("#install-name", Input).value.strip()
        self.dismiss({"name": name, "values": values})


class JobScreen(FollowScreen):
    """A marketplace job's steps and progress as they come (``marketplace.jobs:<id>``)."""

    def __init__(self, job: str) -> None:
        super().__init__(f"job {job}", f"marketplace.jobs:{job}")
        self.job = job
        self.finished = False

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield ProgressBar(total=1.0, show_eta=False, classes="job-progress")

    def on_topic(self, message: dict[str, Any]) -> None:
        data = message.get("data") or {}
        if message.get("type") == "subscribed":  # from now on no step is missed: read the past
            path = f"{API}/jobs/{quote(self.job, safe='')}"
            call_api(self, lambda c: c.get(path), self._record)
        elif message.get("type") == "error":
            self.tui.report(str(message.get("message")), problem=True)
        elif data.get("done"):
            self._finish(data["job"])
        elif "step" in data:
            self._step(data)

    def _record(self, job: dict[str, Any]) -> None:
        self.title_text = f"{job['action']} {job['target']}"
        for step in job.get("steps") or []:
            self._step(step)
        if job["state"] != "running":
            self._finish(job)

    def _step(self, step: dict[str, Any]) -> None:
        self.log_view.write(step["step"])
        if step.get("fraction") is not None:
            self.query_one(ProgressBar).update(progress=step["fraction"])

    def _finish(self, job: dict[str, Any]) -> None:
        if self.finished:
            return
        self.finished = True
        if job["state"] == "failed":
            self.tui.report(f"{job['action']} {job['target']} failed: {job.get('error')}", True)
        else:
            self.query_one(ProgressBar).update(progress=1.0)
            self.tui.report(f"{job['action']} {job['target']}: done")


def _install_name(title: str) -> str:
    """A name the install may take: the app's title in lower-case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "app"
