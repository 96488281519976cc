"""The Servers screen of ``skyport tui``: a command on marked servers and on a tag, each
host's output live, against a real server and private sshd instances."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar
from textual.widgets import RichLog

from skyport.testing import (
    ADMIN_PASSWORD,
    LiveServer,
    bearer,
    login,
    pilot_wait,
    tui_area,
    tui_pilot,
    tui_screen,
    tui_screenshot,
)
from skyport.tui.screens.servers import RunScreen, ServersScreen

from .conftest import Keys, Sshd, server_body


@pytest.fixture
def server(vps_app: Litestar) -> Iterator[LiveServer]:
    with LiveServer(vps_app) as live:
        yield live


@pytest.fixture
def token(server: LiveServer, sshd: Sshd, second_sshd: Sshd, keys: Keys) -> str:
    """An admin's token, with web-1 and web-2 (tag web) and db-1 in the inventory."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        token = login(http, "admin", ADMIN_PASSWORD)
        for name, where, tag in (("web-1", sshd, "web"), ("web-2", second_sshd, "web"),
                                 ("db-1", sshd, "db")):  # fmt: skip
            body = server_body(name, where, keys, tags=[tag])
            answer = http.post("/api/vps/servers", json=body, headers=bearer(token))
            assert answer.status_code == 201, answer.text
        return token


def output(screen: RunScreen) -> str:
    return "\n".join(strip.text for strip in screen.query_one(RichLog).lines)


async def test_a_command_runs_on_marked_servers_and_on_a_tag_with_each_hosts_output(
    server: LiveServer, token: str
) -> None:
    async with tui_pilot(server.url, token) as pilot:
        app = pilot.app
        screen = await tui_area(pilot, "servers", ServersScreen)
        await pilot_wait(pilot, lambda: screen.table.row_count == 3, "the inventory")
        screen.table.move_cursor(row=screen.table.get_row_index("db-1"), animate=False)
        await pilot.press("space")  # marks db-1 (and moves down)
        await pilot.press("x", *"echo hi-$((6*7))", "enter")
        run = await tui_screen(pilot, RunScreen)
        await pilot_wait(pilot, lambda: "exit 0" in output(run), "the result")
        assert "db-1 | hi-42" in output(run) and "web-" not in output(run)
        await pilot.press("escape", "g", *"web", "enter", *"hostname; exit 3", "enter")
        run = await tui_screen(pilot, RunScreen)
        await pilot_wait(pilot, lambda: output(run).count("exit 3") == 2, "both results")
        assert "web-1 | " in output(run) and "web-2 | " in output(run)
        assert "db-1" not in output(run)
        tui_screenshot(pilot, "vps-run")
        await pilot_wait(pilot, lambda: "some servers failed" in app.status[0], "the summary")
