"""Bringing a release up on its port, and swapping it with the live one.

``up`` deploys the release through its deployer and waits until it answers
on its port (or stops, or the health timeout passes: then it is removed and
the app's last lines are told). ``trial_then_swap`` proves the release on a
spare port first and stops the live release only then; ``replace`` stops the
live release first. Either starts the live release again if the new one
does not answer on the app's port.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

from litestar.exceptions import ClientException

from skyport.api import Deployer, DeployerLogs, DeployRequest, Principal, StepReporter
from skyport_deploy import health
from skyport_deploy.plans import Detection, Target
from skyport_deploy.records import Release
from skyport_deploy.settings import DeploySettings
from skyport_deploy.templates import template

LOGS_TIMEOUT = 10.0
STACK_FRAME = re.compile(r"^\s+(at |File \"|\^+$|~+$)")
"""A line of a stack trace (Node.js, Python): the error's own line says more."""


class DeployFailed(ClientException):
    """The new release did not come up: why, with the app's last lines."""

    status_code = 422


class Rollout:
    """Bringing one release up, with the live one around it."""

    def __init__(
        self,
        deployer: Deployer,
        release: Release,
        detection: Detection,
        target: Target,
        folder: Path,
        values: dict[str, str],
        user: Principal,
        reporter: StepReporter,
        settings: DeploySettings,
    ) -> None:
        self.settings, self.deployer, self.release = settings, deployer, release
        self.detection, self.target, self.folder = detection, target, folder
        self.values, self.user, self.reporter = values, user, reporter

    async def up(self, port: int, *, build: bool) -> None:
        """Deploy the release on ``port`` and wait until it answers; else remove it."""
        release, settings = self.release, self.settings
        made, image_build = template(
            self.detection,
            self.target,
            self.folder,
            release.app,
            release.number,
            port=port,
            host=settings.listen,
            build=build,
        )
        values = {**self.values, "PORT": str(port)}
        request = DeployRequest(release.resource_id, made, values, self.user, image_build)
        self.reporter(f"starting release {release.number} on port {port}")
        await self.deployer.deploy(request, self.reporter)
        self.reporter(f"waiting for an answer on port {port}")
        why = await health.wait_for_answer(port, settings.health_timeout, self._stopped)
        if why is None:
            self.reporter(f"release {release.number} answers on port {port}")
            return
        lines = await last_lines(self.deployer, release.resource_id, settings.log_lines)
        for line in lines:
            self.reporter(f"app | {line}")
        with contextlib.suppress(Exception):
            await self.deployer.remove(release.resource_id, keep_data=False)
        said = [line.strip() for line in lines if not STACK_FRAME.match(line)][-5:]
        shown = f"; its last lines: {' | '.join(said)}" if said else ""
        raise DeployFailed(f"release {release.number} {why.removeprefix('it ')}{shown}")

    async def _stopped(self) -> str | None:
        with contextlib.suppress(Exception):
            status = await self.deployer.status(self.release.resource_id)
            if status.state in ("stopped", "missing"):
                return f"it stopped ({status.detail})"
        return None

    async def trial_then_swap(self, live: Release, port: int) -> None:
        trial = health.any_free_port()
        self.reporter(f"trying release {self.release.number} on spare port {trial} first")
        await self.up(trial, build=True)
        await self.deployer.remove(self.release.resource_id, keep_data=True)
        await self._swap(live, port)

    async def replace(self, live: Release, port: int) -> None:
        self.reporter(
            "the app listens where it says (not on $PORT): stopping the live release first"
        )
        await self.deployer.stop(live.resource_id)
        try:
            await self.up(port, build=True)
        except BaseException:
            await self._restore(live)
            raise

    async def _swap(self, live: Release, port: int) -> None:
        self.reporter(f"stopping release {live.number}")
        await self.deployer.stop(live.resource_id)
        try:
            await self.up(port, build=False)
        except BaseException:
            await self._restore(live)
            raise

    async def _restore(self, live: Release) -> None:
        """Start the live release again and wait until it answers (it was fine before)."""
        self.reporter(f"starting release {live.number} again")
        with contextlib.suppress(Exception):
            await asyncio.shield(self.deployer.start(live.resource_id))
            if live.port is not None:
                await health.wait_for_answer(live.port, self.settings.health_timeout, never)


async def last_lines(deployer: Deployer, resource_id: str, lines: int) -> list[str]:
    """The app's last lines, if its deployer shows them (never raises)."""
    if not isinstance(deployer, DeployerLogs):
        return []
    try:
        async with asyncio.timeout(LOGS_TIMEOUT):
            return await deployer.logs(resource_id, lines)
    except Exception:
        return []


async def never() -> str | None:
    """For waits that only end by an answer or the timeout."""
    return None
