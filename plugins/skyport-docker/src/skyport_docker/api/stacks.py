"""Compose stack routes: ``/stacks`` and ``/stacks/{name}[/{action}]``.

Stacks are run by the real Compose tool (see :mod:`skyport_docker.stacks`);
stacks made outside SkyPort are listed and controlled as well.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Response, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from skyport.api import PluginContext
from skyport_docker.api.common import (
    AuthRequest,
    Skyport,
    engine_for,
    list_across,
    redacted_env_map,
    sees_secrets,
)
from skyport_docker.stacks import StackDetail, StackService, StackSummary

READ = {"scope": "docker:read"}
WRITE = {"scope": "docker:write"}
TAGS = ["docker: stacks"]

EngineName = FromQuery[str | None]
Name = FromPath[str]


class DeployStack(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /stacks``: a compose file's text and the values of its ``.env``."""

    name: str
    compose: Annotated[str, msgspec.Meta(min_length=1)]
    env: dict[str, str] = msgspec.field(default_factory=dict)
    pull: bool = False
    """Pull every image first (by default Compose pulls only missing ones)."""


class UpdateStack(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /stacks/{name}/update``: new files (optional), then pull and recreate."""

    compose: Annotated[str, msgspec.Meta(min_length=1)] | None = None
    env: dict[str, str] | None = None
    """``.env`` values merged over the current ones (new keys added, given keys changed)."""
    env_replace: bool = False
    """``env`` replaces the whole ``.env`` instead (alone: empties it)."""
    pull: bool = True
    ignore_pull_failures: bool = False
    """Recreate with the images at hand when a pull fails (reported in ``warnings``)."""


def _stacks(skyport: PluginContext, request: AuthRequest, engine: str | None) -> StackService:
    return StackService.for_caller(skyport, engine_for(skyport, engine), request.user)


@get("/stacks", opt=READ, tags=TAGS, sync_to_thread=True)
def list_stacks(
    skyport: Skyport, request: AuthRequest, engine: EngineName = None
) -> Response[list[StackSummary]]:
    """Every Compose stack (SkyPort's and others', by their labels); ``engine=all`` for all."""
    return list_across(
        skyport, engine, lambda e: StackService.for_caller(skyport, e, request.user).summaries()
    )


@post("/stacks", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=201)
def deploy_stack(
    skyport: Skyport, request: AuthRequest, data: JSONBody[DeployStack], engine: EngineName = None
) -> StackDetail:
    """Deploy a stack from compose YAML and ``.env`` values (``compose up -d``).

    Every service is checked on Compose's resolved config: without ``docker:host``,
    host bind mounts outside ``docker.allowed_bind_paths``, ``privileged``, host
    namespaces, ``cap_add``, ``devices`` … are refused (403 naming service and key).
    """
    return _stacks(skyport, request, engine).deploy(
        data.name, data.compose, data.env, pull=data.pull
    )


@get("/stacks/{name:str}", opt=READ, tags=TAGS, sync_to_thread=True)
def get_stack(
    skyport: Skyport, request: AuthRequest, name: Name, engine: EngineName = None
) -> StackDetail:
    """A stack's services, containers and state (and its files if deployed here).

    ``.env`` values are ``***`` for callers without ``docker:write``.
    """
    detail = _stacks(skyport, request, engine).get(name)
    if not sees_secrets(request):
        detail.env = redacted_env_map(detail.env)
    return detail


@post("/stacks/{name:str}/update", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200)
def update_stack(
    skyport: Skyport,
    request: AuthRequest,
    name: Name,
    data: JSONBody[UpdateStack | None] = None,
    engine: EngineName = None,
) -> StackDetail:
    """Optionally replace the compose file or change ``.env``, then pull and recreate."""
    body = data or UpdateStack()
    return _stacks(skyport, request, engine).update(
        name,
        body.compose,
        body.env,
        env_replace=body.env_replace,
        pull=body.pull,
        ignore_pull_failures=body.ignore_pull_failures,
    )


@post("/stacks/{name:str}/{action:str}", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200)
def stack_action(
    skyport: Skyport,
    request: AuthRequest,
    name: Name,
    action: FromPath[Literal["start", "stop", "restart"]],
    engine: EngineName = None,
) -> StackDetail:
    """Start, stop or restart every container of the stack."""
    stacks = _stacks(skyport, request, engine)
    return {"start": stacks.start, "stop": stacks.stop, "restart": stacks.restart}[action](name)


@delete("/stacks/{name:str}", opt=WRITE, tags=TAGS, sync_to_thread=True)
def remove_stack(
    skyport: Skyport,
    request: AuthRequest,
    name: Name,
    volumes: FromQuery[bool] = False,
    engine: EngineName = None,
) -> None:
    """``compose down`` (``volumes`` removes its named volumes too) and forget its files."""
    _stacks(skyport, request, engine).remove(name, volumes=volumes)


ROUTES = [list_stacks, deploy_stack, get_stack, update_stack, stack_action, remove_stack]
