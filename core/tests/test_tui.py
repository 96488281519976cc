"""``skyport tui`` driven by Textual's pilot against a real server (uvicorn on loopback)."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from litestar import Litestar
from textual.filter import Monochrome, NoColor
from textual.widgets import DataTable, HelpPanel

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import LiveServer, pilot_wait, tui_pilot, tui_screenshot
from skyport.tui.screens.overview import CoreBars, Panel
from skyport.tui.widgets import Spark, StatusLine

from .conftest import ADMIN_PASSWORD, login


def admin_token(server: LiveServer) -> str:
    with httpx.Client(base_url=server.url) as http:
        return login(http, "admin", ADMIN_PASSWORD)


def panel_title(app: object, name: str) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    return str(screen.query_one(f"#{name}", Panel).query_one(".panel-title").render())


def sampled(app: object) -> str:
    """The overview's line that says when the sample shown was taken."""
    return str(app.screen.query_one("#memory-detail").render())  # type: ignore[attr-defined]


def status(app: object) -> str:
    return str(app.screen.query_one(StatusLine).render())  # type: ignore[attr-defined]


async def test_the_overview_shows_live_numbers_that_change(live_server: LiveServer) -> None:
    async with tui_pilot(live_server.url, admin_token(live_server)) as pilot:
        app = pilot.app
        first = await pilot_wait(pilot, lambda: "%" in panel_title(app, "cpu") and sampled(app), "")
        await pilot_wait(pilot, lambda: sampled(app) != first, "the next sample")
        assert "Memory" in panel_title(app, "memory") and "of" in panel_title(app, "memory")
        assert len(app.screen.query_one("#cpu", Panel).query_one(Spark).values) >= 2
        assert app.screen.query_one(CoreBars).percents  # one bar per core
        assert app.screen.query_one(DataTable).row_count > 0  # top processes
        assert "admin (admin)" in status(app)
        tui_screenshot(pilot, "overview")


async def test_only_the_areas_of_loaded_plugins_are_offered(live_server: LiveServer) -> None:
    async with tui_pilot(live_server.url, admin_token(live_server)) as pilot:
        app = pilot.app
        await pilot_wait(pilot, lambda: app.client is not None, "the connection")
        assert [a.name for a in app.areas] == ["overview"]  # no plugin is loaded here
        await pilot.press("2")
        assert app.current_mode == "overview"
        await pilot.press("colon", *"containers", "enter")
        await pilot_wait(pilot, lambda: "no screen 'containers'" in status(app), "the refusal")
        assert app.status[1]  # shown as a problem


async def test_question_mark_shows_the_keys_and_q_quits(live_server: LiveServer) -> None:
    async with tui_pilot(live_server.url, admin_token(live_server)) as pilot:
        app = pilot.app
        await pilot.press("question_mark")
        assert app.screen.query(HelpPanel)
        await pilot.press("question_mark")
        assert not app.screen.query(HelpPanel)
        await pilot.press("q")
        await pilot_wait(pilot, lambda: app.return_code is not None, "the app to end")


async def test_a_lost_server_is_in_the_status_line_and_the_feed_comes_back(
    settings: Settings,
) -> None:
    def serve(port: int | None = None) -> LiveServer:
        app: Litestar = create_app(
            settings, plugins=PluginManager(strict=True, use_entry_points=False)
        )
        return LiveServer(app, port)

    server = serve().__enter__()
    try:
        token = admin_token(server)
        async with tui_pilot(server.url, token) as pilot:
            app = pilot.app
            await pilot_wait(pilot, lambda: "%" in panel_title(app, "cpu"), "live figures")
            server.__exit__(None, None, None)
            await pilot_wait(
                pilot, lambda: app.status[1] and "retrying" in status(app), "the outage"
            )
            assert "live feed" in status(app)
            server = serve(server.port).__enter__()  # the same data: the session still holds
            await pilot_wait(pilot, lambda: "live feed back" in status(app), "the feed back")
            before = sampled(app)
            await pilot_wait(pilot, lambda: sampled(app) != before, "new samples")
    finally:
        server.__exit__(None, None, None)


def test_without_textual_the_command_says_how_to_install_it() -> None:
    probe = (
        "import sys\n"
        "sys.modules['textual'] = None  # as if it were not installed\n"
        "from skyport.cli import main\n"
        "sys.exit(main(['tui']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "skyport: error: the terminal UI needs Textual, which is not installed: "
        "pip install 'skyport-core[tui]'"
    )


async def test_no_color_makes_it_monochrome_and_the_mouse_picks_a_row(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with tui_pilot(live_server.url, admin_token(live_server)) as pilot:
        app = pilot.app
        assert any(isinstance(f, Monochrome | NoColor) for f in app.get_line_filters())
        table = app.screen.query_one(DataTable)
        await pilot_wait(pilot, lambda: table.row_count > 3, "the top processes")
        assert table.cursor_row == 0
        await pilot.click(DataTable, offset=(2, 3))  # the third row (under the header)
        assert table.cursor_row == 2
