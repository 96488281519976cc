"""Container routes: ``/ps``, ``/run``, ``/containers/{id_or_name}[/{action}]``, logs, exec.

``follow_logs`` is the starter of the WebSocket topic ``docker.logs:<id>``
(``docker.logs:<engine>/<id>`` for another engine than the default).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from skyport_docker import containers, specs
from skyport_docker.api.common import (
    AuthRequest,
    Skyport,
    engine_for,
    list_across,
    parse_filters,
    redacted_env_list,
    sees_secrets,
)
from skyport_docker.containers import ContainerSummary, ExecResult, LogLine
from skyport_docker.policy import HostPolicy

READ = {"scope": "docker:read"}
WRITE = {"scope": "docker:write"}
EXEC = {"scope": "docker:exec"}
TAGS = ["docker: containers"]

TopicStopper = Callable[[], Awaitable[None]]
TopicStarter = Callable[[str], Awaitable[TopicStopper | None]]

Engine = FromQuery[str | None]
Filters = FromQuery[list[str] | None]
Ref = FromPath[str]


class RunRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /api/docker/run``: what ``docker run -d`` takes, by the CLI's names."""

    image: Annotated[str, msgspec.Meta(min_length=1)]
    name: str | None = None
    command: str | list[str] | None = None
    entrypoint: str | list[str] | None = None
    env: list[str] | dict[str, str] | None = None
    ports: list[str] | None = None
    """``[ip:][host_port:]container_port[/protocol]``, e.g. ``8080:80/tcp``."""
    volumes: list[str] | None = None
    """``/path`` (anonymous), ``name:/path`` (named volume), ``/host:/path[:ro]`` (bind)."""
    restart: str | None = None
    """``no``, ``always``, ``unless-stopped``, ``on-failure[:N]``."""
    labels: dict[str, str] | None = None
    network_mode: str | None = None
    """``none``, ``host``, ``bridge``, ``container:<id>`` or a network's name."""
    working_dir: str | None = None
    user: str | None = None
    hostname: str | None = None
    cpus: float | None = None
    """CPUs the container may use, e.g. ``1.5``."""
    memory: int | str | None = None
    """Bytes, or ``64m``, ``1g`` …"""
    pull: Literal["missing", "always", "never"] = "missing"
    """Pull the image first: when it is not present (default), always, or never."""
    start: bool = True
    auto_remove: bool = False
    tty: bool = False
    stdin_open: bool = False


class RunResult(msgspec.Struct, frozen=True):
    id: str
    name: str
    engine: str
    warnings: list[str]


class ContainerState(msgspec.Struct, frozen=True):
    id: str
    name: str
    state: str
    running: bool
    engine: str


class RenameRequest(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class ExecRequest(msgspec.Struct, forbid_unknown_fields=True):
    command: str | list[str]
    env: list[str] | dict[str, str] | None = None
    user: str = ""
    working_dir: str | None = None


class Logs(msgspec.Struct, frozen=True):
    id: str
    lines: list[LogLine]


class Processes(msgspec.Struct, frozen=True):
    titles: list[str]
    processes: list[list[str]]


class ContainerPruneResult(msgspec.Struct, frozen=True):
    deleted: list[str]
    space_reclaimed: int


@get("/ps", opt=READ, tags=TAGS, sync_to_thread=True)
def ps(
    skyport: Skyport,
    all: FromQuery[bool] = False,
    filters: Filters = None,
    engine: Engine = None,
) -> Response[list[ContainerSummary]]:
    """List containers (``all`` includes stopped ones); ``engine=all`` lists every engine.

    ``filters`` as the engine takes them: ``status=exited``, ``label=key=value``,
    ``name=web`` … (repeatable), or one JSON object.
    """
    wanted = parse_filters(filters)
    return list_across(
        skyport,
        engine,
        lambda e: e.call(lambda c: containers.list_containers(c, e.name, all, wanted)),
    )


@post("/run", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=201)
def run(
    skyport: Skyport, request: AuthRequest, data: JSONBody[RunRequest], engine: Engine = None
) -> RunResult:
    """Create and start a container (``docker run -d``), pulling its image when missing.

    Without ``docker:host``, host bind mounts outside ``docker.allowed_bind_paths`` and
    joining another container's namespaces are refused (403 naming the key).
    """
    target = engine_for(skyport, engine)
    create, host = _run_options(data)
    policy = HostPolicy.for_caller(skyport, request.user, target)

    def go(client: Any) -> tuple[str, str, list[str]]:
        containers.ensure_image(client, data.image, data.pull, target.name)
        return containers.create_and_start(client, policy, create, host, data.start)

    container_id, name, warnings = target.call(go)
    return RunResult(container_id, name, target.name, warnings)


def _run_options(data: RunRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """``create_container`` and ``create_host_config`` arguments; 400 on a bad spec."""
    published = specs.publishing(data.ports)
    paths, binds = specs.parse_volumes(data.volumes)
    create: dict[str, Any] = {
        "image": data.image,
        "command": specs.parse_command(data.command, "command"),
        "entrypoint": specs.parse_command(data.entrypoint, "entrypoint"),
        "environment": specs.parse_env(data.env) or None,
        "ports": published.exposed or None,
        "volumes": paths or None,
        "name": specs.check_name(data.name) if data.name else None,
        "labels": data.labels or None,
        "working_dir": data.working_dir or None,
        "user": data.user or None,
        "hostname": data.hostname or None,
        "tty": data.tty,
        "stdin_open": data.stdin_open,
        "detach": True,
    }
    host: dict[str, Any] = {
        "binds": binds or None,
        "port_bindings": published.bindings or None,
        "network_mode": data.network_mode or None,
        "restart_policy": specs.parse_restart(data.restart),
        "mem_limit": specs.parse_memory(data.memory),
        "nano_cpus": specs.parse_cpus(data.cpus),
        "auto_remove": data.auto_remove,
    }
    return create, host


@get("/containers/{id_or_name:str}", opt=READ, tags=TAGS, sync_to_thread=True)
def inspect_container(
    skyport: Skyport, request: AuthRequest, id_or_name: Ref, engine: Engine = None
) -> dict[str, Any]:
    """The engine's full description of the container (``docker inspect``).

    ``Config.Env`` values are ``***`` for callers without ``docker:write``.
    """
    found: dict[str, Any] = engine_for(skyport, engine).call(
        lambda c: c.inspect_container(id_or_name)
    )
    config = found.get("Config") or {}
    if config.get("Env") and not sees_secrets(request):
        config["Env"] = redacted_env_list(config["Env"])
    return found


@delete("/containers/{id_or_name:str}", opt=WRITE, tags=TAGS, sync_to_thread=True)
def remove_container(
    skyport: Skyport,
    id_or_name: Ref,
    force: FromQuery[bool] = False,
    volumes: FromQuery[bool] = False,
    engine: Engine = None,
) -> None:
    """Remove the container; ``force`` kills it first, ``volumes`` drops its anonymous volumes."""
    engine_for(skyport, engine).call(
        lambda c: c.remove_container(id_or_name, v=volumes, force=force)
    )


def _action(
    skyport: Skyport,
    ref: str,
    engine: str | None,
    act: Callable[[Any], object],
    settles_as: str | None = None,
) -> ContainerState:
    """Do ``act`` and answer the container's state after it. The engine records a pause
    or an unpause when the runtime reports it, a moment after answering: ``settles_as``
    waits (briefly) for that state."""
    target = engine_for(skyport, engine)

    def go(client: Any) -> dict[str, Any]:
        act(client)
        state = containers.state_of(client, ref)
        deadline = time.monotonic() + SETTLE_SECONDS
        while settles_as and state["state"] != settles_as and time.monotonic() < deadline:
            time.sleep(0.02)
            state = containers.state_of(client, ref)
        return state

    return ContainerState(**target.call(go), engine=target.name)


Timeout = Annotated[int | None, QueryParameter(ge=0, le=3600)]
SETTLE_SECONDS = 5.0


@post(
    "/containers/{id_or_name:str}/start", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200
)
def start(skyport: Skyport, id_or_name: Ref, engine: Engine = None) -> ContainerState:
    """Start a stopped container (nothing happens to a running one)."""
    return _action(skyport, id_or_name, engine, lambda c: c.start(id_or_name))


@post(
    "/containers/{id_or_name:str}/stop", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200
)
def stop(
    skyport: Skyport, id_or_name: Ref, timeout: Timeout = None, engine: Engine = None
) -> ContainerState:
    """Stop: SIGTERM, then SIGKILL after ``timeout`` seconds (the container's own default)."""
    return _action(skyport, id_or_name, engine, lambda c: c.stop(id_or_name, timeout=timeout))


@post(
    "/containers/{id_or_name:str}/restart",
    opt=WRITE,
    tags=TAGS,
    sync_to_thread=True,
    status_code=200,
)
def restart(
    skyport: Skyport, id_or_name: Ref, timeout: Timeout = None, engine: Engine = None
) -> ContainerState:
    """Stop (waiting up to ``timeout`` seconds, default 10) and start again."""
    return _action(
        skyport,
        id_or_name,
        engine,
        lambda c: c.restart(id_or_name, timeout=10 if timeout is None else timeout),
    )


@post(
    "/containers/{id_or_name:str}/kill", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200
)
def kill(
    skyport: Skyport,
    id_or_name: Ref,
    signal: FromQuery[str] = "SIGKILL",
    engine: Engine = None,
) -> ContainerState:
    """Send a signal (``SIGKILL`` unless ``signal`` names another, e.g. ``SIGHUP`` or ``1``)."""
    if not signal.replace("SIG", "", 1).isalnum():
        raise specs.invalid("signal", f"{signal!r} is not a signal name or number")
    return _action(skyport, id_or_name, engine, lambda c: c.kill(id_or_name, signal=signal))


@post(
    "/containers/{id_or_name:str}/pause", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200
)
def pause(skyport: Skyport, id_or_name: Ref, engine: Engine = None) -> ContainerState:
    """Freeze every process of the container."""
    return _action(skyport, id_or_name, engine, lambda c: c.pause(id_or_name), "paused")


@post(
    "/containers/{id_or_name:str}/unpause",
    opt=WRITE,
    tags=TAGS,
    sync_to_thread=True,
    status_code=200,
)
def unpause(skyport: Skyport, id_or_name: Ref, engine: Engine = None) -> ContainerState:
    """Thaw a paused container."""
    return _action(skyport, id_or_name, engine, lambda c: c.unpause(id_or_name), "running")


@post(
    "/containers/{id_or_name:str}/rename",
    opt=WRITE,
    tags=TAGS,
    sync_to_thread=True,
    status_code=200,
)
def rename(
    skyport: Skyport, id_or_name: Ref, data: JSONBody[RenameRequest], engine: Engine = None
) -> ContainerState:
    """Give the container a new name (409 when another container has it)."""
    new_name = specs.check_name(data.name)
    target = engine_for(skyport, engine)

    def go(client: Any) -> dict[str, Any]:
        container_id = client.inspect_container(id_or_name)["Id"]
        client.rename(container_id, new_name)
        return containers.state_of(client, container_id)

    return ContainerState(**target.call(go), engine=target.name)


@get("/containers/{id_or_name:str}/logs", opt=READ, tags=TAGS, sync_to_thread=True)
def logs(
    skyport: Skyport,
    id_or_name: Ref,
    tail: Annotated[int | None, QueryParameter(ge=0)] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    timestamps: FromQuery[bool] = False,
    stdout: FromQuery[bool] = True,
    stderr: FromQuery[bool] = True,
    engine: Engine = None,
) -> Logs:
    """Past log lines, each with its stream; ``tail`` lines, ``since``/``until`` a time
    (unix seconds, RFC 3339, or a duration ago like ``10m``). Live: topic ``docker.logs:<id>``.
    """
    options = {
        "tail": tail,
        "since": specs.parse_time(since, "since"),
        "until": specs.parse_time(until, "until"),
        "timestamps": timestamps,
        "stdout": stdout,
        "stderr": stderr,
    }
    target = engine_for(skyport, engine)
    container_id, lines = target.call(lambda c: containers.read_logs(c, id_or_name, **options))
    return Logs(container_id, lines)


@get("/containers/{id_or_name:str}/top", opt=READ, tags=TAGS, sync_to_thread=True)
def top(
    skyport: Skyport,
    id_or_name: Ref,
    ps_args: FromQuery[str | None] = None,
    engine: Engine = None,
) -> Processes:
    """The container's processes (``docker top``; ``ps_args`` e.g. ``aux``)."""
    result = engine_for(skyport, engine).call(lambda c: c.top(id_or_name, ps_args=ps_args))
    return Processes(result.get("Titles") or [], result.get("Processes") or [])


@post(
    "/containers/{id_or_name:str}/exec", opt=EXEC, tags=TAGS, sync_to_thread=True, status_code=200
)
def exec_command(
    skyport: Skyport, id_or_name: Ref, data: JSONBody[ExecRequest], engine: Engine = None
) -> ExecResult:
    """Run a command in the running container and wait: exit code, stdout, stderr.

    Needs ``docker:exec`` (root-equivalent). Interactive: the ``docker`` terminal.
    """
    command = specs.parse_command(data.command, "command")
    if not command:
        raise specs.invalid("command", "empty command")
    env = specs.parse_env(data.env)
    return engine_for(skyport, engine).call(
        lambda c: containers.exec_once(
            c, id_or_name, command, env=env, user=data.user, workdir=data.working_dir
        )
    )


@post("/containers/prune", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200)
def prune_containers(
    skyport: Skyport, filters: Filters = None, engine: Engine = None
) -> ContainerPruneResult:
    """Remove every stopped container (``filters``: ``label=…``, ``until=24h``)."""
    wanted = parse_filters(filters)
    result = engine_for(skyport, engine).call(lambda c: c.prune_containers(filters=wanted))
    return ContainerPruneResult(
        result.get("ContainersDeleted") or [], result.get("SpaceReclaimed") or 0
    )


def follow_logs(skyport: Skyport) -> TopicStarter:
    """Starter of ``docker.logs:[<engine>/]<container>``: follow while someone listens."""

    async def start(topic: str) -> TopicStopper:
        target = topic.split(":", 1)[1]
        engine_name, _, ref = target.rpartition("/")
        engine = engine_for(skyport, engine_name or None)
        follower = containers.LogFollower(engine, ref, lambda data: skyport.publish(topic, data))
        await asyncio.to_thread(follower.open)

        async def stop() -> None:
            await asyncio.to_thread(follower.stop)

        return stop

    return start


ROUTES: list[Any] = [
    ps,
    run,
    inspect_container,
    remove_container,
    start,
    stop,
    restart,
    kill,
    pause,
    unpause,
    rename,
    logs,
    top,
    exec_command,
    prune_containers,
]
