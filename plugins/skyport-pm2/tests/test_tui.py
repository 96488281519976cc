"""The PM2 screen of ``skyport tui``, against a real server and the real PM2 daemon."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
    wait_for,
)
from skyport.tui.screens.detail import LogScreen
from skyport.tui.screens.pm2 import Pm2Screen

from .conftest import rpc


@pytest.fixture
def server(pm2_app: Litestar) -> Iterator[LiveServer]:
    with LiveServer(pm2_app) as live:
        yield live


@pytest.fixture
def token(server: LiveServer) -> str:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        return login(http, "admin", ADMIN_PASSWORD)


@pytest.fixture
def logger(server: LiveServer, token: str, scripts: Path, unique: Callable[[str], str]) -> str:
    """A process printing ``tick N`` ten times a second; its name."""
    name = unique("logger")
    body = {"script": str(scripts / "logger.js"), "name": name}
    answer = httpx.post(f"{server.url}/api/pm2/start", json=body, headers=bearer(token))
    assert answer.status_code == 201, answer.text
    return name


def row_of(screen: Pm2Screen, name: str) -> dict[str, str] | None:
    return next(iter(named(screen, name)), None)


async def test_processes_are_listed_restarted_and_their_logs_follow_live(
    server: LiveServer, token: str, logger: str, daemon: Path
) -> None:
    name = logger
    async with tui_pilot(server.url, token) as pilot:
        screen = await tui_area(pilot, "pm2", Pm2Screen)
        row = await pilot_wait(pilot, lambda: row_of(screen, name), "the process")
        assert row["STATUS"] == "online" and row["RESTARTS"] == "0"
        tui_screenshot(pilot, "pm2")
        pid_before = await asyncio.to_thread(_pid, daemon, name)
        await pilot.press("r", "y")
        await pilot_wait(pilot, lambda: (row_of(screen, name) or {}).get("RESTARTS") == "1", "1")
        assert await asyncio.to_thread(_pid, daemon, name) != pid_before  # the daemon restarted it

        await pilot.press("l")
        logs = await tui_screen(pilot, LogScreen)

        def ticks() -> list[int]:
            texts = [s.text.strip() for s in logs.query_one(RichLog).lines]
            return [int(t.removeprefix("tick ")) for t in texts if t.startswith("tick ")]

        count = len(await pilot_wait(pilot, ticks, "past lines"))
        await pilot_wait(pilot, lambda: len(ticks()) >= count + 5, "live lines")
        tui_screenshot(pilot, "pm2-logs")


def named(screen: Pm2Screen, name: str) -> list[dict[str, str]]:
    """Every row (instance) of process ``name``."""
    rows = (
        dict(zip(screen.COLUMNS, map(str, screen.table.get_row(k)), strict=True))
        for k in screen.table.rows
    )
    return [row for row in rows if row["NAME"] == name]


async def test_a_cluster_process_is_scaled_stopped_and_deleted_from_the_tui(
    server: LiveServer, token: str, scripts: Path, daemon: Path, unique: Callable[[str], str]
) -> None:
    name = unique("web")
    body = {"script": str(scripts / "logger.js"), "name": name, "instances": 2}  # cluster mode
    start = f"{server.url}/api/pm2/start"
    answer = await asyncio.to_thread(httpx.post, start, json=body, headers=bearer(token))
    assert answer.status_code == 201, answer.text

    def in_daemon() -> list[str]:
        listed = rpc(daemon, "getMonitorData", {})
        return [p["pm2_env"]["status"] for p in listed if p["name"] == name]

    async with tui_pilot(server.url, token) as pilot:
        screen = await tui_area(pilot, "pm2", Pm2Screen)
        await pilot_wait(pilot, lambda: len(named(screen, name)) == 2, "two instances")
        assert {row["MODE"] for row in named(screen, name)} == {"cluster"}
        await pilot.press("plus", "y")
        await pilot_wait(pilot, lambda: len(named(screen, name)) == 3, "a third instance")
        three = ["online"] * 3
        await asyncio.to_thread(wait_for, lambda: in_daemon() == three, "3 online in the daemon")
        await pilot.press("t", "y")
        await pilot_wait(
            pilot, lambda: {r["STATUS"] for r in named(screen, name)} == {"stopped"}, "stopped"
        )
        await pilot.press("ctrl+d", "y")
        await pilot_wait(pilot, lambda: not named(screen, name), "the rows to go")
        await asyncio.to_thread(wait_for, lambda: in_daemon() == [], "the daemon to drop them")


def _pid(daemon: Path, name: str) -> Any:
    return next(p["pid"] for p in rpc(daemon, "getMonitorData", {}) if p["name"] == name)
