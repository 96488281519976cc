"""Volume routes: list, create, inspect, remove, prune."""

from __future__ import annotations

from typing import Any

import msgspec
from docker import errors as docker_errors
from litestar import Response, delete, get, post
from litestar.exceptions import ClientException
from litestar.params import FromPath, FromQuery, JSONBody

from skyport_docker.api.common import AuthRequest, Skyport, engine_for, list_across, parse_filters
from skyport_docker.policy import HostPolicy
from skyport_docker.specs import check_name

READ = {"scope": "docker:read"}
WRITE = {"scope": "docker:write"}
TAGS = ["docker: volumes"]

Engine = FromQuery[str | None]
Filters = FromQuery[list[str] | None]


class Volume(msgspec.Struct, frozen=True):
    name: str
    driver: str
    mountpoint: str
    created_at: str
    labels: dict[str, str]
    options: dict[str, str]
    scope: str
    engine: str


class VolumeRequest(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    """Empty: the engine picks a random name."""
    driver: str = "local"
    driver_opts: dict[str, str] | None = None
    labels: dict[str, str] | None = None


class VolumePruneResult(msgspec.Struct, frozen=True):
    deleted: list[str]
    space_reclaimed: int


def _volume(raw: dict[str, Any], engine: str) -> Volume:
    return Volume(
        raw["Name"],
        raw.get("Driver") or "",
        raw.get("Mountpoint") or "",
        raw.get("CreatedAt") or "",
        raw.get("Labels") or {},
        raw.get("Options") or {},
        raw.get("Scope") or "",
        engine,
    )


@get("/volumes", opt=READ, tags=TAGS, sync_to_thread=True)
def list_volumes(
    skyport: Skyport, filters: Filters = None, engine: Engine = None
) -> Response[list[Volume]]:
    """Volumes; ``filters`` e.g. ``dangling=true``, ``label=k=v``, ``name=data``."""
    wanted = parse_filters(filters)

    def fetch(e: Any) -> list[Volume]:
        found = e.call(lambda c: c.volumes(filters=wanted)) or {}
        return [_volume(v, e.name) for v in found.get("Volumes") or []]

    return list_across(skyport, engine, fetch)


@post("/volumes", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=201)
def create_volume(
    skyport: Skyport, request: AuthRequest, data: JSONBody[VolumeRequest], engine: Engine = None
) -> Volume:
    """Create a volume (409 when one of that name exists).

    ``driver_opts`` that mount a host path (``device=/x``) are a bind mount: the
    host-access policy applies (:mod:`skyport_docker.policy`).
    """
    name = check_name(data.name) if data.name else None
    target = engine_for(skyport, engine)
    policy = HostPolicy.for_caller(skyport, request.user, target)
    policy.check_volume(f"volume {name or '(unnamed)'!r}", data.driver, data.driver_opts)

    def go(client: Any) -> dict[str, Any]:
        if name is not None:
            try:
                client.inspect_volume(name)
            except docker_errors.NotFound:
                pass
            else:
                raise ClientException(f"volume {name!r} already exists", status_code=409)
        return client.create_volume(name, data.driver, data.driver_opts, data.labels)

    return _volume(target.call(go), target.name)


@get("/volumes/{name:str}", opt=READ, tags=TAGS, sync_to_thread=True)
def inspect_volume(skyport: Skyport, name: FromPath[str], engine: Engine = None) -> Volume:
    target = engine_for(skyport, engine)
    return _volume(target.call(lambda c: c.inspect_volume(name)), target.name)


@delete("/volumes/{name:str}", opt=WRITE, tags=TAGS, sync_to_thread=True)
def remove_volume(
    skyport: Skyport,
    name: FromPath[str],
    force: FromQuery[bool] = False,
    engine: Engine = None,
) -> None:
    """Remove a volume (409 while a container uses it)."""
    engine_for(skyport, engine).call(lambda c: c.remove_volume(name, force=force))


@post("/volumes/prune", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200)
def prune_volumes(
    skyport: Skyport, filters: Filters = None, engine: Engine = None
) -> VolumePruneResult:
    """Remove volumes no container uses; ``filters`` e.g. ``label=k=v``."""
    wanted = parse_filters(filters)
    result = engine_for(skyport, engine).call(lambda c: c.prune_volumes(filters=wanted))
    return VolumePruneResult(
        result.get("VolumesDeleted") or [], int(result.get("SpaceReclaimed") or 0)
    )


ROUTES: list[Any] = [list_volumes, create_volume, inspect_volume, remove_volume, prune_volumes]
