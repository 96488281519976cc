"""Installed apps: ``/installed``, ``/installed/{name}`` and their actions; ``/jobs/{id}``."""

from __future__ import annotations

import asyncio
from typing import Literal

from litestar import delete, get, post
from litestar.params import FromPath, FromQuery

from skyport_marketplace.api.common import INSTALL, READ, AuthRequest, JobStarted, Skyport
from skyport_marketplace.installs import InstalledApp
from skyport_marketplace.jobs import Job
from skyport_marketplace.state import marketplace_state

TAGS = ["marketplace: installed"]


@get("/installed", opt=READ, tags=TAGS)
async def list_installed(skyport: Skyport) -> list[InstalledApp]:
    """Every installed app with its live status (asked of each deployer at once)."""
    installer = marketplace_state(skyport).installer
    records = await installer.book.all()
    return list(await asyncio.gather(*(installer.shown(r) for r in records)))


@get("/installed/{name:str}", opt=READ, tags=TAGS)
async def show_installed(skyport: Skyport, name: FromPath[str]) -> InstalledApp:
    installer = marketplace_state(skyport).installer
    return await installer.shown(await installer.book.get(name))


@delete("/installed/{name:str}", opt=INSTALL, tags=TAGS, status_code=202)
async def uninstall(
    skyport: Skyport,
    request: AuthRequest,
    name: FromPath[str],
    remove_data: FromQuery[bool] = False,
) -> JobStarted:
    """Remove what the install created; its data volumes too only with ``remove_data``."""
    installer = marketplace_state(skyport).installer
    job = await installer.uninstall(name, request.user, keep_data=not remove_data)
    return JobStarted(job.id)


@post("/installed/{name:str}/update", opt=INSTALL, tags=TAGS, status_code=202)
async def update(skyport: Skyport, request: AuthRequest, name: FromPath[str]) -> JobStarted:
    """Fetch the newest image or code and recreate, keeping the app's data."""
    job = await marketplace_state(skyport).installer.update(name, request.user)
    return JobStarted(job.id)


@post("/installed/{name:str}/{action:str}", opt=INSTALL, tags=TAGS, status_code=200)
async def act(
    skyport: Skyport,
    request: AuthRequest,
    name: FromPath[str],
    action: FromPath[Literal["start", "stop"]],
) -> InstalledApp:
    """Start or stop the app; its live status after."""
    return await marketplace_state(skyport).installer.act(name, action, request.user)


@get("/jobs/{job_id:str}", opt=READ, tags=TAGS)
async def show_job(skyport: Skyport, job_id: FromPath[str]) -> Job:
    """An install, update, uninstall or refresh: its state, steps, error and result."""
    return await marketplace_state(skyport).jobs.get(job_id)


ROUTES = [list_installed, show_installed, uninstall, update, act, show_job]
