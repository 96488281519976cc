"""Deployers for app templates (``register_deployers``): a container, and a Compose stack.

The marketplace (or any plugin) installs through these; they create
containers and stacks with the same functions the API uses, on the default
engine. An install's named volumes, containers and stack carry the label
``skyport.app=<name>``; removing it removes exactly those (its volumes, and
an image built for it, only when asked). Updates pull (or build) and
recreate, keeping the volumes. A request with a ``build`` builds the image
from the caller's files instead of pulling it, each line of the build's
output reported as a step.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import docker
import yaml
from docker import errors as docker_errors
from litestar.exceptions import ClientException, HTTPException, NotFoundException

from skyport.api import (
    AppState,
    AppStatus,
    AppTemplate,
    DeployRequest,
    DeployResult,
    PluginContext,
    Principal,
    ProgressCallback,
    Requirement,
)
from skyport_docker import containers, images, specs
from skyport_docker.engines import Engine
from skyport_docker.policy import HOST_SCOPE, ContainerAsk, HostAccessRefused, HostPolicy
from skyport_docker.stacks import StackDetail, StackService
from skyport_docker.state import docker_state

APP_LABEL = "skyport.app"
"""On everything an install creates: the install's name."""
WRITE = Requirement("docker:write", "it creates containers")
PULL_SHARE = 0.7
"""The part of a container install's progress bar the image pull takes."""
BUILD_READ_TIMEOUT = 3600.0
"""Seconds an image build may go without a line of output."""
BUILD_LINES_SHOWN = 5
"""Lines of a failed build's output its error repeats."""


class _NothingYet:
    """The engine as a template sees it before its install: none of its containers and
    volumes exist (what the policy looks up when judging a template in advance)."""

    def inspect_volume(self, name: str) -> Any:
        raise docker_errors.NotFound(f"no volume {name}")

    def inspect_container(self, ref: str) -> Any:
        raise docker_errors.NotFound(f"no container {ref}")


NOTHING_YET = _NothingYet()


def host_access(skyport: PluginContext, check: Callable[[HostPolicy], None]) -> list[Requirement]:
    """``docker:host`` with the policy's reason, if ``check`` fails for a user without it."""
    try:
        policy = HostPolicy.for_caller(skyport, None, docker_state(skyport).engines.get(None))
        check(policy)
    except HostAccessRefused as refused:
        reason = str(refused.detail).removesuffix(f"; that needs the {HOST_SCOPE} scope")
        return [Requirement(HOST_SCOPE, reason)]
    except HTTPException:  # no engine configured: the install will say so
        return []
    return []


def _volume_name(install: str, path: str) -> str:
    """``web`` + ``/var/lib/data`` → ``web-var-lib-data``: the install's own volume for a path."""
    return f"{install}-{re.sub(r'[^a-zA-Z0-9_.-]+', '-', path).strip('-') or 'data'}"


class ContainerDeployer:
    """Installs ``container`` templates as one container (resource id: its name)."""

    name = "docker-container"
    kinds = frozenset({"container"})

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport

    def _engine(self) -> Engine:
        return docker_state(self.skyport).engines.get(None)

    def requirements(self, template: AppTemplate) -> list[Requirement]:
        """``docker:write``; ``docker:host`` too when the policy would refuse it to others."""
        values = {field.name: field.default for field in template.env}
        try:
            _, host = self._options("app", template, values)
        except ClientException:
            return [WRITE]
        config = docker.types.HostConfig(
            version=docker.constants.DEFAULT_DOCKER_API_VERSION, **host
        )
        ask = ContainerAsk.from_host_config("the container", config)
        return [
            WRITE,
            *host_access(self.skyport, lambda policy: policy.check_container(NOTHING_YET, ask)),
        ]

    # -- installing ------------------------------------------------------------------

    async def deploy(self, request: DeployRequest, progress: ProgressCallback) -> DeployResult:
        return await asyncio.to_thread(self._deploy, request, progress)

    def _deploy(self, request: DeployRequest, progress: ProgressCallback) -> DeployResult:
        engine = self._engine()
        create, host = self._options(request.name, request.template, request.values)
        policy = HostPolicy.for_caller(self.skyport, request.user, engine)
        made_volumes: list[str] = []

        def go(client: Any) -> str:
            self._image(client, engine, request, progress, always=False)
            made_volumes.extend(self._volumes(client, request))
            progress(f"creating container {request.name}", PULL_SHARE + 0.1)
            try:
                container_id, _, _ = containers.create_and_start(
                    client, policy, create, host, start=False
                )
            except Exception:
                self._drop_built(client, request)
                raise
            try:
                progress(f"starting container {request.name}", PULL_SHARE + 0.2)
                client.start(container_id)
            except Exception:
                with contextlib.suppress(Exception):
                    client.remove_container(container_id, force=True, v=True)
                self._drop_built(client, request)
                raise
            return container_id

        try:
            container_id = engine.call(go)
        except BaseException:
            self._drop_volumes(engine, made_volumes)
            raise
        return DeployResult(
            self.name, request.name, f"container {request.name} ({container_id[:12]}) running"
        )

    def _options(
        self, name: str, template: AppTemplate, values: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``create_container`` and ``create_host_config`` arguments for the template."""
        name = specs.check_name(name)
        spec = template.container
        if spec is None:
            raise specs.invalid("template", f"{template.id} is not a container template")
        published = specs.publishing(
            [
                f"{p.host}:{p.container}/{p.protocol}" if p.host else f"{p.container}/{p.protocol}"
                for p in template.ports
            ]
        )
        binds = [
            f"{volume.host or _volume_name(name, volume.container)}:{volume.container}:"
            f"{'ro' if volume.read_only else 'rw'}"
            for volume in template.volumes
        ]
        create: dict[str, Any] = {
            "image": spec.image,
            "name": name,
            "command": shlex.split(spec.command) if spec.command else None,
            "environment": dict(values) or None,
            "ports": published.exposed or None,
            "volumes": [v.container for v in template.volumes] or None,
            "labels": {**spec.labels, APP_LABEL: name},
            "hostname": spec.hostname or None,
            "tty": spec.interactive,
            "stdin_open": spec.interactive,
            "detach": True,
        }
        host: dict[str, Any] = {
            "binds": binds or None,
            "port_bindings": published.bindings or None,
            "network_mode": spec.network_mode or None,
            "restart_policy": specs.parse_restart(spec.restart or None),
            "privileged": spec.privileged,
            "cap_add": list(spec.cap_add) or None,
            "devices": list(spec.devices) or None,
            "sysctls": spec.sysctls or None,
        }
        return create, host

    def _image(
        self,
        client: Any,
        engine: Engine,
        request: DeployRequest,
        progress: ProgressCallback,
        *,
        always: bool,
    ) -> None:
        """Build the image when the request says so, else pull it (``always``, or if missing)."""
        if request.build is not None:
            self._build(client, request, progress)
        else:
            self._pull(client, engine, request, progress, always=always)

    def _build(self, client: Any, request: DeployRequest, progress: ProgressCallback) -> None:
        """Build the template's image from the request's files; 400 with its last lines if the
        build fails. The image carries the install's label (removed with its data)."""
        assert request.build is not None and request.template.container is not None
        spec, build = request.template.container, request.build
        progress(f"building {spec.image} from {build.dockerfile}", 0.0)
        recent: deque[str] = deque(maxlen=BUILD_LINES_SHOWN)
        events = client.build(
            path=str(build.context),
            dockerfile=build.dockerfile,
            tag=spec.image,
            rm=True,
            forcerm=True,
            decode=True,
            labels={APP_LABEL: request.name},
            network_mode=spec.network_mode or None,
            timeout=BUILD_READ_TIMEOUT,
        )
        for event in events:
            for line in str(event.get("stream") or "").splitlines():
                if line.strip():
                    recent.append(line.strip())
                    progress(f"build | {line.rstrip()}")
            if "error" in event:
                said = str((event.get("errorDetail") or {}).get("message") or event["error"])
                shown = " | ".join(recent)
                raise ClientException(
                    f"the image build failed: {said.strip()}"
                    + (f" (its last lines: {shown})" if shown else ""),
                    extra={"output": list(recent)},
                )
        progress(f"built {spec.image}", PULL_SHARE)

    def _drop_built(self, client: Any, request: DeployRequest) -> None:
        """Remove the image a failed deploy built (nothing else uses it yet)."""
        if request.build is not None and request.template.container is not None:
            with contextlib.suppress(docker_errors.APIError):
                client.remove_image(request.template.container.image)

    def _pull(
        self,
        client: Any,
        engine: Engine,
        request: DeployRequest,
        progress: ProgressCallback,
        *,
        always: bool,
    ) -> None:
        assert request.template.container is not None
        image = request.template.container.image
        if not always:
            try:
                client.inspect_image(image)
                progress(f"image {image} is here", PULL_SHARE)
                return
            except docker_errors.NotFound:
                pass
        progress(f"pulling {image}", 0.0)

        def pulled(state: images.PullProgress) -> None:
            share = state.current / state.total if state.total else 0.0
            progress(f"pulling {image}", share * PULL_SHARE)

        try:
            images.pull(client, image, engine.name, publish=pulled)
        except ClientException as exc:  # 404/424: the registry refused or is out of reach
            if not always or not _present(client, image):
                raise
            progress(f"could not pull {image} ({exc.detail}); recreating with the image here")

    def _volumes(self, client: Any, request: DeployRequest) -> list[str]:
        """Create the install's own volumes that do not exist yet; the names of those made."""
        made = []
        for volume in request.template.volumes:
            if volume.host:
                continue
            name = _volume_name(request.name, volume.container)
            try:
                client.inspect_volume(name)
            except docker_errors.NotFound:
                client.create_volume(name, labels={APP_LABEL: request.name})
                made.append(name)
        return made

    def _drop_volumes(self, engine: Engine, names: list[str]) -> None:
        def drop(client: Any) -> None:
            for name in names:
                with contextlib.suppress(docker_errors.APIError):
                    client.remove_volume(name, force=True)

        with contextlib.suppress(Exception):
            engine.call(drop)

    # -- afterwards ------------------------------------------------------------------

    async def update(
        self, request: DeployRequest, resource_id: str, progress: ProgressCallback
    ) -> DeployResult:
        return await asyncio.to_thread(self._update, request, resource_id, progress)

    def _update(
        self, request: DeployRequest, resource_id: str, progress: ProgressCallback
    ) -> DeployResult:
        """Pull, then swap the container for a new one on the same volumes (back if it fails)."""
        engine = self._engine()
        create, host = self._options(request.name, request.template, request.values)
        policy = HostPolicy.for_caller(self.skyport, request.user, engine)
        old = f"{resource_id}-replaced-{int(time.time())}"

        def go(client: Any) -> str:
            self._image(client, engine, request, progress, always=True)
            self._volumes(client, request)
            progress(f"stopping container {resource_id}", PULL_SHARE)
            client.stop(resource_id)
            client.rename(resource_id, old)
            try:
                progress(f"recreating container {request.name}", PULL_SHARE + 0.1)
                new_id, _, _ = containers.create_and_start(client, policy, create, host, start=True)
            except Exception:
                client.rename(old, resource_id)
                client.start(resource_id)
                raise
            client.remove_container(old, v=False)
            return new_id

        new_id = engine.call(go)
        return DeployResult(self.name, request.name, f"container {request.name} ({new_id[:12]})")

    async def status(self, resource_id: str) -> AppStatus:
        return await asyncio.to_thread(self._status, resource_id)

    def _status(self, resource_id: str) -> AppStatus:
        state = self._engine().call(lambda c: containers.state_of(c, resource_id))
        if state["state"] == "removed":
            return AppStatus("missing", f"container {resource_id} is gone")
        return AppStatus("running" if state["running"] else "stopped", state["state"])

    async def start(self, resource_id: str) -> AppStatus:
        return await self._act(resource_id, lambda c: c.start(resource_id))

    async def stop(self, resource_id: str) -> AppStatus:
        return await self._act(resource_id, lambda c: c.stop(resource_id))

    async def _act(self, resource_id: str, act: Callable[[Any], object]) -> AppStatus:
        await asyncio.to_thread(self._engine().call, act)
        return await self.status(resource_id)

    async def remove(self, resource_id: str, *, keep_data: bool = True) -> None:
        await asyncio.to_thread(self._remove, resource_id, keep_data)

    def _remove(self, resource_id: str, keep_data: bool) -> None:
        engine = self._engine()
        mine = {"label": f"{APP_LABEL}={resource_id}"}

        def go(client: Any) -> None:
            with contextlib.suppress(docker_errors.NotFound):
                client.remove_container(resource_id, force=True, v=True)
            if not keep_data:
                for volume in (client.volumes(filters=mine) or {}).get("Volumes") or []:
                    client.remove_volume(volume["Name"], force=True)
                for image in client.images(filters=mine):
                    with contextlib.suppress(docker_errors.APIError):  # still used elsewhere
                        client.remove_image(image["Id"])

        engine.call(go)

    async def logs(self, resource_id: str, lines: int) -> list[str]:
        _, found = await asyncio.to_thread(
            self._engine().call, lambda c: containers.read_logs(c, resource_id, tail=lines)
        )
        return [line.line for line in found]


def _present(client: Any, image: str) -> bool:
    try:
        client.inspect_image(image)
    except docker_errors.NotFound:
        return False
    return True


class StackDeployer:
    """Installs ``stack`` templates as a Compose stack named after the install."""

    name = "docker-stack"
    kinds = frozenset({"stack"})

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport

    def _stacks(self, user: Principal | None = None) -> StackService:
        """The default engine's stacks as ``user`` may change them (None: restricted)."""
        engine = docker_state(self.skyport).engines.get(None)
        return StackService.for_caller(self.skyport, engine, user)

    def requirements(self, template: AppTemplate) -> list[Requirement]:
        """``docker:write``; ``docker:host`` too when the policy would refuse its compose file
        to others (a compose file fetched at install is judged then)."""
        compose = template.stack.compose if template.stack else ""
        try:
            document = yaml.safe_load(compose) if compose else None
        except yaml.YAMLError:
            document = None
        if not isinstance(document, dict):
            return [WRITE]
        return [
            WRITE,
            *host_access(
                self.skyport, lambda policy: policy.check_stack(NOTHING_YET, "app", document)
            ),
        ]

    async def deploy(self, request: DeployRequest, progress: ProgressCallback) -> DeployResult:
        return await asyncio.to_thread(self._deploy, request, progress)

    def _deploy(self, request: DeployRequest, progress: ProgressCallback) -> DeployResult:
        stacks = self._stacks(request.user)
        compose = self._compose(request)
        with contextlib.suppress(NotFoundException):
            stacks.get(request.name)
            raise ClientException(
                f"a stack named {request.name!r} exists on the engine: pick another name",
                status_code=409,
            )
        progress(f"starting stack {request.name} (compose up: pulls what is missing)", 0.2)
        try:
            detail = stacks.deploy(request.name, compose, dict(request.values))
        except BaseException:
            with contextlib.suppress(Exception):  # its volumes too: nothing of it stays
                stacks.remove(request.name, volumes=True)
            raise
        return DeployResult(self.name, request.name, _said(detail))

    @staticmethod
    def _compose(request: DeployRequest) -> str:
        stack = request.template.stack
        if stack is None or not stack.compose:
            raise specs.invalid("template", f"{request.template.id} has no compose file")
        return stack.compose

    async def update(
        self, request: DeployRequest, resource_id: str, progress: ProgressCallback
    ) -> DeployResult:
        def go() -> DeployResult:
            progress(f"pulling and recreating stack {resource_id}", 0.2)
            detail = self._stacks(request.user).update(
                resource_id,
                self._compose(request),
                dict(request.values),
                env_replace=True,
                ignore_pull_failures=True,
            )
            for warning in detail.warnings:
                progress(f"recreated with the images here: {warning}")
            return DeployResult(self.name, resource_id, _said(detail))

        return await asyncio.to_thread(go)

    async def status(self, resource_id: str) -> AppStatus:
        detail = await asyncio.to_thread(self._stacks().get, resource_id)
        return _status(detail)

    async def start(self, resource_id: str) -> AppStatus:
        return _status(await asyncio.to_thread(self._stacks().start, resource_id))

    async def stop(self, resource_id: str) -> AppStatus:
        return _status(await asyncio.to_thread(self._stacks().stop, resource_id))

    async def remove(self, resource_id: str, *, keep_data: bool = True) -> None:
        await asyncio.to_thread(self._stacks().remove, resource_id, volumes=not keep_data)

    async def logs(self, resource_id: str, lines: int) -> list[str]:
        """The last ``lines`` of each of the stack's containers, prefixed with its service."""

        def read(client: Any) -> list[str]:
            found = []
            for member in self._stacks().get(resource_id).members:
                _, said = containers.read_logs(client, member.id, tail=lines)
                found += [f"{member.service} | {line.line}" for line in said]
            return found

        return await asyncio.to_thread(docker_state(self.skyport).engines.get(None).call, read)


STACK_STATES: dict[str, AppState] = {
    "running": "running",
    "partial": "partial",
    "stopped": "stopped",
    "down": "missing",
}


def _status(detail: StackDetail) -> AppStatus:
    said = f"{detail.running} of {detail.containers} containers running"
    return AppStatus(STACK_STATES.get(detail.status, "missing"), said)


def _said(detail: StackDetail) -> str:
    return f"stack {detail.name}: {detail.running} of {detail.containers} containers running"
