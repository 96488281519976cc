"""The docker plugin's screens in ``skyport tui``, against a real server and the real engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from litestar import Litestar
from textual.pilot import Pilot
from textual.widgets import DataTable, RichLog, TextArea

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
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
from skyport.tui.screens.containers import ContainersScreen, shown_image
from skyport.tui.screens.detail import DocumentScreen, LogScreen
from skyport.tui.screens.images import ImagesScreen, StacksScreen
from skyport.tui.widgets import Confirm

from .test_stacks import compose_file, states

GRACEFUL = "trap 'exit 0' TERM; while true; do sleep 1; done"
"""A PID 1 that stops at once when asked (a bare sleep would wait for the engine's kill)."""


@pytest.fixture
def server(docker_app: Litestar) -> Iterator[LiveServer]:
    with LiveServer(docker_app) as live:
        yield live


def token_for(server: LiveServer, role: str = "admin") -> str:
    with httpx.Client(base_url=server.url) as http:
        token = login(http, "admin", ADMIN_PASSWORD)
        if role == "admin":
            return token
        body = {"username": role, "password": f"{role}-password", "role": role}
        assert http.post("/api/users", json=body, headers=bearer(token)).status_code == 201
        return login(http, role, f"{role}-password")


async def containers_screen(pilot: Pilot[Any]) -> ContainersScreen:
    return await tui_area(pilot, "containers", ContainersScreen)


def cells(screen: ContainersScreen, container_id: str) -> dict[str, str] | None:
    """The row of the container, by column name (None while it is not listed)."""
    table: DataTable[Any] = screen.table
    if container_id not in table.rows:
        return None
    row = table.get_row(container_id)
    return {name: str(cell) for name, cell in zip(screen.COLUMNS, row, strict=True)}


def select(screen: ContainersScreen, container_id: str) -> None:
    screen.table.move_cursor(row=screen.table.get_row_index(container_id), animate=False)


async def test_a_running_container_shows_live_figures_and_is_stopped_from_the_tui(
    server: LiveServer, make_container: Callable[..., dict[str, Any]], engine: docker.APIClient
) -> None:
    container = make_container(GRACEFUL)
    ref = container["Id"]
    async with tui_pilot(server.url, token_for(server)) as pilot:
        screen = await containers_screen(pilot)
        row = await pilot_wait(
            pilot, lambda: (r := cells(screen, ref)) and r["CPU%"] != "-" and r, "live figures"
        )
        assert row["NAME"] == container["Name"].lstrip("/") and row["STATE"] == "running"
        assert row["MEM"].endswith("B")
        tui_screenshot(pilot, "containers")
        select(screen, ref)
        await pilot.press("t")
        assert isinstance(pilot.app.screen, Confirm)  # asked first
        await pilot.press("y")
        await pilot_wait(
            pilot, lambda: not engine.inspect_container(ref)["State"]["Running"], "stop"
        )
        await pilot_wait(pilot, lambda: (cells(screen, ref) or {}).get("STATE") == "exited", "row")
        assert "stopped" in pilot.app.status[0]


async def test_a_container_is_started_restarted_and_removed_from_the_tui(
    server: LiveServer, make_container: Callable[..., dict[str, Any]], engine: docker.APIClient
) -> None:
    ref = make_container(GRACEFUL)["Id"]
    engine.stop(ref, timeout=5)
    async with tui_pilot(server.url, token_for(server)) as pilot:
        screen = await containers_screen(pilot)
        await pilot_wait(pilot, lambda: (cells(screen, ref) or {}).get("STATE") == "exited", "row")
        select(screen, ref)
        await pilot.press("u", "y")
        await pilot_wait(pilot, lambda: engine.inspect_container(ref)["State"]["Running"], "start")
        started = engine.inspect_container(ref)["State"]["StartedAt"]
        await pilot_wait(pilot, lambda: (cells(screen, ref) or {}).get("STATE") == "running", "up")
        select(screen, ref)
        await pilot.press("r", "y")
        await pilot_wait(
            pilot,
            lambda: engine.inspect_container(ref)["State"]["StartedAt"] != started,
            "a restart",
        )
        select(screen, ref)
        await pilot.press("ctrl+d", "y")
        await pilot_wait(pilot, lambda: not engine.containers(all=True, filters={"id": ref}), "rm")
        await pilot_wait(pilot, lambda: cells(screen, ref) is None, "the row to go")


async def test_typing_a_filter_narrows_the_list(
    server: LiveServer, make_container: Callable[..., dict[str, Any]], unique: Callable[[str], str]
) -> None:
    wanted = make_container(name=unique("wanted"))["Id"]
    other = make_container(name=unique("other"))["Id"]
    async with tui_pilot(server.url, token_for(server)) as pilot:
        screen = await containers_screen(pilot)
        await pilot_wait(pilot, lambda: cells(screen, wanted) and cells(screen, other), "both")
        await pilot.press("slash", *"wanted")
        assert cells(screen, wanted) is not None and cells(screen, other) is None
        await pilot.press("escape")  # clears the filter
        assert cells(screen, other) is not None


async def test_logs_follow_live(
    server: LiveServer, make_container: Callable[..., dict[str, Any]]
) -> None:
    ref = make_container("i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.2; done")["Id"]
    async with tui_pilot(server.url, token_for(server)) as pilot:
        screen = await containers_screen(pilot)
        await pilot_wait(pilot, lambda: cells(screen, ref), "the container")
        select(screen, ref)
        await pilot.press("l")
        logs = await tui_screen(pilot, LogScreen)

        def numbers() -> list[int]:
            lines = logs.query_one(RichLog).lines
            return [int(s.text.strip().removeprefix("line-")) for s in lines if s.text.strip()]

        first = await pilot_wait(pilot, lambda: numbers(), "the first lines")
        await pilot_wait(pilot, lambda: len(numbers()) >= len(first) + 5, "live lines")
        seen = numbers()
        assert seen == list(range(seen[0], seen[0] + len(seen)))  # none lost, none twice
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_a_viewer_sees_no_write_actions(
    server: LiveServer, make_container: Callable[..., dict[str, Any]], engine: docker.APIClient
) -> None:
    ref = make_container(GRACEFUL)["Id"]
    async with tui_pilot(server.url, token_for(server, "viewer")) as pilot:
        screen = await containers_screen(pilot)
        await pilot_wait(pilot, lambda: cells(screen, ref), "the container")
        shown = {b.binding.action for b in pilot.app.active_bindings.values()}
        assert {"logs", "inspect"} <= shown
        assert not shown & {"start", "stop", "restart", "remove", "shell"}
        select(screen, ref)
        await pilot.press("t", "ctrl+d")
        assert pilot.app.screen is screen  # no question asked, nothing done
        assert engine.inspect_container(ref)["State"]["Running"]


async def test_an_image_tag_is_described_and_removed_from_the_tui(
    server: LiveServer, test_image: str, engine: docker.APIClient, unique: Callable[[str], str]
) -> None:
    tag = f"skyport-test/{unique('tui')}:v1"
    engine.tag(test_image, tag.rpartition(":")[0], "v1")
    async with tui_pilot(server.url, token_for(server)) as pilot:
        screen = await tui_area(pilot, "images", ImagesScreen)
        await pilot_wait(pilot, lambda: tag in screen.table.rows, "the tag")
        assert test_image in screen.table.rows  # one row per tag, as docker images
        screen.table.move_cursor(row=screen.table.get_row_index(tag), animate=False)
        await pilot.press("d")
        document = await tui_screen(pilot, DocumentScreen)
        assert tag in document.query_one(TextArea).text
        await pilot.press("escape", "ctrl+d", "y")
        await pilot_wait(pilot, lambda: not engine.images(name=tag), "the engine to drop it")
        await pilot_wait(pilot, lambda: tag not in screen.table.rows, "the row to go")
        assert engine.images(name=test_image)  # the other tag keeps the image


async def test_a_stack_is_listed_and_stopped_from_the_tui(
    server: LiveServer, stack_names: Callable[[], str], engine: docker.APIClient
) -> None:
    name = stack_names()
    token = token_for(server)
    answer = await asyncio.to_thread(
        httpx.post,
        f"{server.url}/api/docker/stacks",
        json={"name": name, "compose": compose_file()},
        headers=bearer(token),
        timeout=120,
    )
    assert answer.status_code == 201, answer.text
    async with tui_pilot(server.url, token) as pilot:
        screen = await tui_area(pilot, "stacks", StacksScreen)
        await pilot_wait(pilot, lambda: name in screen.table.rows, "the stack")
        assert [str(c) for c in screen.table.get_row(name)][1:3] == ["running", "2/2"]
        screen.table.move_cursor(row=screen.table.get_row_index(name), animate=False)
        await pilot.press("t", "y")
        await pilot_wait(pilot, lambda: set(states(engine, name).values()) == {"exited"}, "stop")
        await pilot_wait(pilot, lambda: str(screen.table.get_row(name)[1]) == "stopped", "row")


async def test_an_engine_that_is_down_is_named_in_the_status_line_and_the_ui_goes_on(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    from skyport_docker import plugin

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="docker")
    settings = make_settings(docker={"local_url": f"unix://{tmp_path}/no-engine.sock"})
    with LiveServer(create_app(settings, plugins=manager)) as server:
        async with tui_pilot(server.url, token_for(server)) as pilot:
            await containers_screen(pilot)
            await pilot_wait(pilot, lambda: pilot.app.status[1], "a problem reported")
            assert "no-engine.sock" in pilot.app.status[0]
            await pilot.press("1")  # the rest keeps working
            await pilot_wait(pilot, lambda: pilot.app.current_mode == "overview", "overview")


def test_image_ids_and_long_names_keep_the_columns_on_an_80_column_screen() -> None:
    assert shown_image("sha256:4592f988c91b" + "0" * 52) == "4592f988c91b"  # as docker ps
    assert shown_image("registry.example.com:5000/team/service:2026-12-04") == (
        "registry.example.com:50…"
    )
    assert shown_image("busybox:latest") == "busybox:latest"
