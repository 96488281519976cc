"""Network routes: list, inspect, create, remove, prune."""

from __future__ import annotations

import ipaddress
from typing import Any

import msgspec
from docker import errors as docker_errors
from docker.types import IPAMConfig, IPAMPool
from litestar import Response, delete, get, post
from litestar.exceptions import ClientException
from litestar.params import FromPath, FromQuery, JSONBody

from skyport_docker.api.common import Skyport, engine_for, list_across, parse_filters
from skyport_docker.specs import check_name, invalid

READ = {"scope": "docker:read"}
WRITE = {"scope": "docker:write"}
TAGS = ["docker: networks"]

Engine = FromQuery[str | None]
Filters = FromQuery[list[str] | None]


class Network(msgspec.Struct, frozen=True):
    id: str
    name: str
    driver: str
    scope: str
    internal: bool
    attachable: bool
    ipv6: bool
    subnets: list[str]
    created: str
    labels: dict[str, str]
    containers: list[str]
    """Names of the attached containers (filled by inspect; listings leave it empty)."""
    engine: str


class NetworkRequest(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    driver: str = "bridge"
    internal: bool = False
    """No route to the outside world."""
    attachable: bool = False
    ipv6: bool = False
    subnet: str | None = None
    gateway: str | None = None
    labels: dict[str, str] | None = None
    options: dict[str, str] | None = None


class Created(msgspec.Struct, frozen=True):
    id: str
    name: str
    engine: str
    warning: str = ""


class NetworkPruneResult(msgspec.Struct, frozen=True):
    deleted: list[str]


def _network(raw: dict[str, Any], engine: str) -> Network:
    ipam = (raw.get("IPAM") or {}).get("Config") or []
    attached = raw.get("Containers") or {}
    return Network(
        raw["Id"],
        raw.get("Name") or "",
        raw.get("Driver") or "",
        raw.get("Scope") or "",
        bool(raw.get("Internal")),
        bool(raw.get("Attachable")),
        bool(raw.get("EnableIPv6")),
        [c["Subnet"] for c in ipam if c.get("Subnet")],
        raw.get("Created") or "",
        raw.get("Labels") or {},
        sorted(str(c.get("Name") or k) for k, c in attached.items()),
        engine,
    )


@get("/networks", opt=READ, tags=TAGS, sync_to_thread=True)
def list_networks(
    skyport: Skyport, filters: Filters = None, engine: Engine = None
) -> Response[list[Network]]:
    """Networks; ``filters`` e.g. ``driver=bridge``, ``label=k=v``, ``name=front``."""
    wanted = parse_filters(filters)
    return list_across(
        skyport,
        engine,
        lambda e: [_network(n, e.name) for n in e.call(lambda c: c.networks(filters=wanted))],
    )


@get("/networks/{id_or_name:str}", opt=READ, tags=TAGS, sync_to_thread=True)
def inspect_network(skyport: Skyport, id_or_name: FromPath[str], engine: Engine = None) -> Network:
    target = engine_for(skyport, engine)
    return _network(target.call(lambda c: c.inspect_network(id_or_name)), target.name)


def _ipam(data: NetworkRequest) -> IPAMConfig | None:
    if not data.subnet:
        if data.gateway:
            raise invalid("gateway", "needs a subnet")
        return None
    try:
        subnet = ipaddress.ip_network(data.subnet, strict=True)
    except ValueError as exc:
        raise invalid("subnet", f"{data.subnet!r} is not a network in CIDR form ({exc})") from None
    if data.gateway:
        try:
            gateway = ipaddress.ip_address(data.gateway)
        except ValueError as exc:
            raise invalid("gateway", f"{data.gateway!r} is not an address ({exc})") from None
        if gateway not in subnet:
            raise invalid("gateway", f"{gateway} is outside {subnet}")
    return IPAMConfig(pool_configs=[IPAMPool(subnet=str(subnet), gateway=data.gateway)])


@post("/networks", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=201)
def create_network(
    skyport: Skyport, data: JSONBody[NetworkRequest], engine: Engine = None
) -> Created:
    """Create a network (409 when one of that name exists)."""
    name = check_name(data.name)
    ipam = _ipam(data)
    target = engine_for(skyport, engine)
    created = target.call(
        lambda c: c.create_network(
            name,
            driver=data.driver,
            options=data.options,
            ipam=ipam,
            check_duplicate=True,
            internal=data.internal,
            labels=data.labels,
            enable_ipv6=data.ipv6,
            attachable=data.attachable,
        )
    )
    return Created(created["Id"], name, target.name, created.get("Warning") or "")


@delete("/networks/{id_or_name:str}", opt=WRITE, tags=TAGS, sync_to_thread=True)
def remove_network(skyport: Skyport, id_or_name: FromPath[str], engine: Engine = None) -> None:
    """Remove a network (409 while containers are attached, or for ``host``/``none``)."""

    def go(client: Any) -> None:
        try:
            client.remove_network(id_or_name)
        except docker_errors.APIError as exc:
            if exc.status_code == 403:  # active endpoints, or a predefined network
                raise ClientException(str(exc.explanation or exc), status_code=409) from None
            raise

    engine_for(skyport, engine).call(go)


@post("/networks/prune", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200)
def prune_networks(
    skyport: Skyport, filters: Filters = None, engine: Engine = None
) -> NetworkPruneResult:
    """Remove networks no container uses; ``filters`` e.g. ``label=k=v``, ``until=24h``."""
    wanted = parse_filters(filters)
    result = engine_for(skyport, engine).call(lambda c: c.prune_networks(filters=wanted))
    return NetworkPruneResult(result.get("NetworksDeleted") or [])


ROUTES: list[Any] = [
    list_networks,
    inspect_network,
    create_network,
    remove_network,
    prune_networks,
]
