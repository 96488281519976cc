"""Engine routes: ``/engines`` (list, add), ``/engines/{name}`` (test and describe, remove)
and ``/engines/{name}/check`` (the engine and the Compose tool both reach it).

An engine is the local socket (``local``, from the settings) or a remote one
added here and kept in the database: ``ssh://user@host[:port]`` (the SSH
client's keys and ``known_hosts`` of the user SkyPort runs as) or
``tcp://host:2376`` with TLS files on the server. Adding or removing one needs
``docker:engines`` (admin only by default): the server connects wherever an
engine points. Plain TCP without TLS needs ``insecure: true`` and is logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import msgspec
from litestar import delete, get, post
from litestar.exceptions import ClientException, HTTPException
from litestar.params import FromPath, FromQuery, JSONBody

from skyport_docker.api.common import Skyport
from skyport_docker.compose import ComposeTool
from skyport_docker.engines import Engine, is_plain_tcp, url_problem
from skyport_docker.settings import EngineConfig
from skyport_docker.specs import invalid
from skyport_docker.state import docker_state

READ = {"scope": "docker:read"}
ENGINES = {"scope": "docker:engines"}
TAGS = ["docker: engines"]
NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RESERVED = frozenset({"all"})

log = logging.getLogger("skyport.docker")


class EngineStatus(msgspec.Struct, kw_only=True):
    """An engine as listed; ``available``/``error`` only when asked to ``check``."""

    name: str
    url: str
    source: str
    tls: bool = False
    insecure: bool = False
    """Plain TCP without TLS."""
    available: bool | None = None
    error: str | None = None
    version: str | None = None


class EngineDetail(msgspec.Struct, kw_only=True):
    """What the engine says about itself (``docker info`` and ``docker version``)."""

    name: str
    url: str
    source: str
    tls: bool
    insecure: bool
    id: str
    hostname: str
    version: str
    api_version: str
    os: str
    kernel: str
    arch: str
    cpus: int
    memory: int
    containers: int
    running: int
    paused: int
    stopped: int
    images: int
    driver: str
    cgroup_version: str | None = None


class EngineCheck(msgspec.Struct, kw_only=True):
    """``GET /engines/{name}/check``: whether SkyPort and its Compose tool reach the engine."""

    name: str
    url: str
    ok: bool
    """Both answer: containers and stacks will work."""
    engine_error: str | None = None
    version: str | None = None
    compose: str
    """The Compose tool run for stacks (``""``: none found)."""
    compose_error: str | None = None


class NewEngine(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /engines``; ``check`` (default) connects first and refuses an unreachable one."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    check: bool = True
    insecure: bool = False
    """Accept ``tcp://`` without TLS (the engine's API, root on its host, unencrypted)."""


def describe(engine: Engine) -> EngineDetail:
    """Ask the engine for its info and version (503 naming it when it cannot be reached)."""

    def ask(client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        return client.info(), client.version()

    info, version = engine.call(ask)
    return EngineDetail(
        **msgspec.structs.asdict(engine.info),
        id=info.get("ID", ""),
        hostname=info.get("Name", ""),
        version=version.get("Version", ""),
        api_version=version.get("ApiVersion", ""),
        os=info.get("OperatingSystem", ""),
        kernel=info.get("KernelVersion", ""),
        arch=info.get("Architecture", ""),
        cpus=info.get("NCPU", 0),
        memory=info.get("MemTotal", 0),
        containers=info.get("Containers", 0),
        running=info.get("ContainersRunning", 0),
        paused=info.get("ContainersPaused", 0),
        stopped=info.get("ContainersStopped", 0),
        images=info.get("Images", 0),
        driver=info.get("Driver", ""),
        cgroup_version=info.get("CgroupVersion"),
    )


def _status(engine: Engine, check: bool) -> EngineStatus:
    status = EngineStatus(**msgspec.structs.asdict(engine.info))
    if check:
        try:
            status.version = engine.call(lambda c: c.version(api_version=False)).get("Version")
            status.available = True
        except HTTPException as exc:
            status.available, status.error = False, exc.detail
    return status


@get("/engines", opt=READ, tags=TAGS, sync_to_thread=True)
def list_engines(skyport: Skyport, check: FromQuery[bool] = False) -> list[EngineStatus]:
    """Every engine; ``check`` contacts each one (all at once) and reports whether it answers."""
    engines = docker_state(skyport).engines.all()
    if not check or not engines:
        return [_status(engine, False) for engine in engines]
    with ThreadPoolExecutor(max_workers=min(len(engines), 16)) as pool:
        return list(pool.map(lambda e: _status(e, True), engines))


@get("/engines/{name:str}", opt=READ, tags=TAGS, sync_to_thread=True)
def get_engine(skyport: Skyport, name: FromPath[str]) -> EngineDetail:
    """Test the connection to an engine and describe it (503 naming its URL if it is down)."""
    return describe(docker_state(skyport).engines.get(name))


@get("/engines/{name:str}/check", opt=READ, tags=TAGS, sync_to_thread=True)
def check_engine(skyport: Skyport, name: FromPath[str]) -> EngineCheck:
    """Contact the engine and make the Compose tool contact it too, as a deploy would:
    what is missing is said before a stack fails to deploy."""
    engine = docker_state(skyport).engines.get(name)
    status = _status(engine, True)
    tool = ComposeTool(engine, docker_state(skyport).settings.compose_command)
    compose_error = tool.probe() if status.available else "not tried: the engine is down"
    return EngineCheck(
        name=engine.name,
        url=engine.url,
        ok=bool(status.available) and not compose_error,
        engine_error=status.error,
        version=status.version,
        compose=" ".join(tool.argv),
        compose_error=compose_error or None,
    )


@post("/engines", opt=ENGINES, tags=TAGS, status_code=201)
async def add_engine(skyport: Skyport, data: JSONBody[NewEngine]) -> EngineDetail | EngineStatus:
    """Add a remote engine (kept across restarts); tested first unless ``check`` is false."""
    config = _config(data)
    registry = docker_state(skyport).engines
    if data.name in {e.name for e in registry.all()}:
        raise ClientException(f"Docker engine {data.name!r} already exists", status_code=409)
    detail: EngineDetail | None = None
    if data.check:
        probe = Engine(data.name, config, registry.settings.timeout, "api")
        try:
            detail = await asyncio.to_thread(describe, probe)
        finally:
            await asyncio.to_thread(probe.reset)
    engine = await registry.add(data.name, config)
    if engine.info.insecure:
        log.warning(
            "docker engine %s (%s) added without TLS: its API is unencrypted", data.name, data.url
        )
    if detail is None:
        return _status(engine, False)
    return EngineDetail(**{**msgspec.structs.asdict(detail), **msgspec.structs.asdict(engine.info)})


@delete("/engines/{name:str}", opt=ENGINES, tags=TAGS)
async def remove_engine(skyport: Skyport, name: FromPath[str]) -> None:
    """Forget an engine added through the API (those from the settings file stay)."""
    await docker_state(skyport).engines.remove(name)


def _config(data: NewEngine) -> EngineConfig:
    if not NAME_RULE.match(data.name) or data.name in RESERVED:
        raise invalid(
            "name",
            f"{data.name!r} is not a valid engine name (letters, digits, '.', '-', '_'; not 'all')",
        )
    problem = url_problem(data.url)
    if problem:
        raise invalid("url", f"{data.url!r} is not a Docker engine address ({problem})")
    for field in ("tls_ca", "tls_cert", "tls_key"):
        path = getattr(data, field)
        if path is not None and not os.path.isfile(path):
            raise invalid(field, f"no such file on the server: {path}")
    if bool(data.tls_cert) != bool(data.tls_key):
        raise invalid("tls_key" if data.tls_cert else "tls_cert", "give both tls_cert and tls_key")
    config = EngineConfig(data.url, data.tls_ca, data.tls_cert, data.tls_key)
    if is_plain_tcp(config) and not data.insecure:
        raise invalid(
            "insecure",
            f"{data.url} has no TLS: anyone on the network path could drive this engine "
            "(root on its host); give tls_ca (and tls_cert/tls_key), or insecure: true",
        )
    return config


ROUTES = [list_engines, get_engine, check_engine, add_engine, remove_engine]
