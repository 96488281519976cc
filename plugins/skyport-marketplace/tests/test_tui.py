"""The marketplace screen of ``skyport tui``: search, details, install, a job's progress,
against a real server with a real catalog (Portainer's official templates)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, ProgressBar, RichLog

from skyport import hookimpl
from skyport.api import (
    AppStatus,
    AppTemplate,
    DeployRequest,
    DeployResult,
    ProgressCallback,
    Requirement,
)
from skyport.config import Settings
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
from skyport.tui.screens.detail import DocumentScreen
from skyport.tui.screens.marketplace import InstallForm, JobScreen, MarketplaceScreen

from .conftest import make_app

OFFICIAL = "portainer_templates__v3__templates.json"


class StepDeployer:
    """A throwaway plugin's deployer (no first-party plugin deploys yet): it keeps each
    request and reports three steps, as the install's progress."""

    name = "steps"
    kinds = frozenset({"container"})

    def __init__(self) -> None:
        self.requests: list[DeployRequest] = []

    def requirements(self, template: AppTemplate) -> list[Requirement]:
        return []

    async def deploy(self, request: DeployRequest, progress: ProgressCallback) -> DeployResult:
        self.requests.append(request)
        for step in range(1, 4):
            progress(f"step {step} of 3", step / 3)
            await asyncio.sleep(0.1)
        return DeployResult(self.name, request.name)

    async def update(
        self, request: DeployRequest, resource_id: str, progress: ProgressCallback
    ) -> DeployResult:
        return DeployResult(self.name, resource_id)

    async def status(self, resource_id: str) -> AppStatus:
        return AppStatus("running")

    async def start(self, resource_id: str) -> AppStatus:
        return AppStatus("running")

    async def stop(self, resource_id: str) -> AppStatus:
        return AppStatus("stopped")

    async def remove(self, resource_id: str, *, keep_data: bool = True) -> None:
        return None


class StepsPlugin:
    def __init__(self) -> None:
        self.deployer = StepDeployer()

    @hookimpl
    def register_deployers(self) -> list[Any]:
        return [self.deployer]


@pytest.fixture
def steps() -> StepsPlugin:
    return StepsPlugin()


@pytest.fixture
def server(
    catalogs: Path, make_settings: Callable[..., Settings], steps: StepsPlugin
) -> Iterator[LiveServer]:
    sources = [{"name": "portainer", "type": "portainer", "url": str(catalogs / OFFICIAL)}]
    with LiveServer(make_app(make_settings, ("steps", steps), sources=sources)) as live:
        yield live


def token_for(server: LiveServer, role: str = "admin") -> str:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        token = login(http, "admin", ADMIN_PASSWORD)
        if role != "admin":
            body = {"username": role, "password": f"{role}-password", "role": role}
            assert http.post("/api/users", json=body, headers=bearer(token)).status_code == 201
            token = login(http, role, f"{role}-password")
        return token


async def marketplace(pilot: Pilot[Any]) -> MarketplaceScreen:
    return await tui_area(pilot, "marketplace", MarketplaceScreen)


def titles(screen: MarketplaceScreen) -> list[str]:
    return [str(screen.table.get_row(key)[0]) for key in screen.table.rows]


async def test_search_describe_and_a_refresh_followed_to_the_end(server: LiveServer) -> None:
    async with tui_pilot(server.url, token_for(server)) as pilot:
        app = pilot.app
        screen = await marketplace(pilot)
        await pilot.press("R")  # refresh the source: the catalog is read, step by step
        job = await tui_screen(pilot, JobScreen)
        await pilot_wait(pilot, lambda: "refresh portainer: done" in app.status[0], "done")
        assert job.query_one(RichLog).lines  # its steps
        await pilot.press("escape")
        await pilot_wait(pilot, lambda: len(titles(screen)) > 20, "the catalog")
        await pilot.press("slash", *"nginx")  # the server searches as you type
        await pilot_wait(pilot, lambda: titles(screen) and titles(screen)[0] == "Nginx", "nginx")
        assert len(titles(screen)) < 20
        await pilot.press("enter", "d")
        document = await tui_screen(pilot, DocumentScreen)
        assert document.title_text.startswith("app portainer")


async def test_an_app_is_installed_with_its_form_and_its_progress_followed(
    server: LiveServer, steps: StepsPlugin
) -> None:
    async with tui_pilot(server.url, token_for(server)) as pilot:
        app = pilot.app
        screen = await marketplace(pilot)
        await pilot.press("slash", *"mysql")
        await pilot_wait(pilot, lambda: titles(screen) and titles(screen)[0] == "MySQL", "mysql")
        await pilot.press("enter", "i")
        form = await tui_screen(pilot, InstallForm)
        assert form.query_one("#install-name", Input).value == "mysql"
        assert form.query_one("#setting-0", Input).password  # MYSQL_ROOT_PASSWORD: hidden
        form.query_one("#setting-0", Input).value = "s3cret-root"
        await pilot.press("ctrl+s")
        job = await tui_screen(pilot, JobScreen)
        await pilot_wait(pilot, lambda: "install mysql: done" in app.status[0], "done")
        lines = [strip.text for strip in job.query_one(RichLog).lines]
        assert [line for line in lines if line.startswith("step ")][-3:] == [
            "step 1 of 3",
            "step 2 of 3",
            "step 3 of 3",
        ]
        assert job.query_one(ProgressBar).progress == 1.0
        tui_screenshot(pilot, "marketplace-install")
        (request,) = steps.deployer.requests
        assert request.name == "mysql" and request.values["MYSQL_ROOT_PASSWORD"] == "s3cret-root"


async def test_a_viewer_may_search_but_not_install(server: LiveServer) -> None:
    async with tui_pilot(server.url, token_for(server, "viewer")) as pilot:
        await marketplace(pilot)
        shown = {b.binding.action for b in pilot.app.active_bindings.values()}
        assert "describe" in shown and not shown & {"install", "refresh"}
