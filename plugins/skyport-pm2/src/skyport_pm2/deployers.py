"""The Node.js app deployer (``register_deployers``): ``node`` templates run by PM2.

The app's code is already in a folder on this server (the marketplace checks
it out); this runs the template's install command there (``npm ci`` …; each
line of its output reported as a step), then starts the script with PM2
under the install's name, with the settings' values as its environment. The
resource id is the PM2 process name.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from pathlib import Path

from litestar.exceptions import ClientException, NotFoundException

from skyport.api import (
    AppStatus,
    AppTemplate,
    DeployRequest,
    DeployResult,
    PluginContext,
    ProgressCallback,
    Requirement,
)
from skyport_pm2.apps import StartRequest
from skyport_pm2.service import Pm2Service

INSTALL_TIMEOUT = 900.0
"""Seconds the install command (``npm ci`` of a large app) may take."""
OUTPUT_KEPT = 800
"""Characters of a failed install command's output shown in the error."""


class NodeAppDeployer:
    """Installs ``node`` templates as PM2 processes (cluster mode for several instances)."""

    name = "pm2-node"
    kinds = frozenset({"node"})

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport

    @property
    def _pm2(self) -> Pm2Service:
        service: Pm2Service = self.skyport.state["pm2"]
        return service

    def requirements(self, template: AppTemplate) -> list[Requirement]:
        return [
            Requirement("pm2:write", "it runs the app's code and install command on this server")
        ]

    async def deploy(self, request: DeployRequest, progress: ProgressCallback) -> DeployResult:
        folder = self._folder(request)
        await self._install(request, folder, progress)
        progress(f"starting {request.name} with PM2", 0.8)
        started = await self._pm2.start(self._start_request(request, folder))
        return DeployResult(
            self.name, request.name, f"{len(started.ids)} PM2 process(es) named {request.name}"
        )

    async def update(
        self, request: DeployRequest, resource_id: str, progress: ProgressCallback
    ) -> DeployResult:
        """Install again in the (newly checked out) folder, then restart with the new code."""
        folder = self._folder(request)
        await self._install(request, folder, progress)
        progress(f"restarting {resource_id}", 0.8)
        with contextlib.suppress(NotFoundException):
            await self._pm2.act(resource_id, "delete")
        started = await self._pm2.start(self._start_request(request, folder))
        return DeployResult(self.name, resource_id, f"{len(started.ids)} PM2 process(es)")

    async def status(self, resource_id: str) -> AppStatus:
        try:
            rows = [s for s in await self._pm2.summaries() if s.name == resource_id]
        except NotFoundException:
            rows = []
        if not rows:
            return AppStatus("missing", f"no PM2 process named {resource_id}")
        online = sum(1 for r in rows if r.status == "online")
        said = f"{online} of {len(rows)} online"
        if online == len(rows):
            return AppStatus("running", said)
        return AppStatus("partial" if online else "stopped", said)

    async def start(self, resource_id: str) -> AppStatus:
        await self._pm2.act(resource_id, "start")
        return await self.status(resource_id)

    async def stop(self, resource_id: str) -> AppStatus:
        await self._pm2.act(resource_id, "stop")
        return await self.status(resource_id)

    async def remove(self, resource_id: str, *, keep_data: bool = True) -> None:
        with contextlib.suppress(NotFoundException):
            await self._pm2.act(resource_id, "delete")

    async def logs(self, resource_id: str, lines: int) -> list[str]:
        """The last ``lines`` of the app's output, then of its errors (PM2 keeps no times)."""
        found = await self._pm2.logs(resource_id, lines)
        return [line.line for line in found.lines]

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def _folder(request: DeployRequest) -> Path:
        node = request.template.node
        if node is None or not Path(node.repository).is_dir():
            raise ClientException(f"{request.template.id}: the app's code is not on this server")
        return Path(node.repository)

    @staticmethod
    def _start_request(request: DeployRequest, folder: Path) -> StartRequest:
        node = request.template.node
        assert node is not None
        return StartRequest(
            script=node.start,
            cwd=str(folder),
            name=request.name,
            args=list(node.args) or None,
            env=dict(request.values),
            instances=node.instances if node.instances > 1 else None,
        )

    async def _install(
        self, request: DeployRequest, folder: Path, progress: ProgressCallback
    ) -> None:
        node = request.template.node
        assert node is not None
        if not node.install:
            return
        progress(f"running {node.install}", 0.3)
        env = {**os.environ, **request.values}
        process = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            node.install,
            cwd=folder,
            env={k: v for k, v in env.items() if not k.startswith("SKYPORT_")},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output: deque[str] = deque(maxlen=OUTPUT_KEPT)  # at most that many lines, of words

        async def relay() -> None:
            assert process.stdout is not None
            async for raw in process.stdout:
                line = raw.decode(errors="replace").rstrip()
                if line.strip():
                    output.append(line)
                    progress(f"install | {line}")
            await process.wait()

        try:
            await asyncio.wait_for(relay(), INSTALL_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise ClientException(
                f"{node.install!r} did not finish within {INSTALL_TIMEOUT:g} s"
            ) from None
        if process.returncode != 0:
            said = " ".join(" ".join(output).split())[-OUTPUT_KEPT:]
            raise ClientException(f"{node.install!r} failed (exit {process.returncode}): {said}")
