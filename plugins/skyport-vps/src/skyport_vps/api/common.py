"""What every vps route shares: scopes, the public shape of a server, per-server grants.

A user limited by resource grants of kind ``vps`` sees only their servers:
the others are absent from lists and answer 404, exactly like a server that
does not exist.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, NotFoundException

from skyport.api import PluginContext, Principal, SkyportContext
from skyport_vps.inventory import AuthKind, Server
from skyport_vps.ssh import fingerprint_of_line
from skyport_vps.state import vps_state

T = TypeVar("T")

READ = {"scope": "vps:read"}
READ_AUDITED = {**READ, "audit": True}
"""A read that reaches a server (connects, runs a command, reads its files): audited."""
RUN = {"scope": "vps:run"}
WRITE = {"scope": "vps:write"}
FILES = {"scope": "vps:files"}
"""Reading and writing files on a server (``/etc/shadow`` is one): not for viewers."""
LOCAL_KEYS = "vps:local-keys"
"""Logging in with the SkyPort server's own identities (key files, its SSH agent)."""
KIND = "vps"
"""The resource-grant kind of servers."""

Skyport = SkyportContext
"""Annotation for the injected plugin context: ``skyport: Skyport``."""
AnyRequest = Request[Principal, Any, Any]

NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TAG_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
USER_RULE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$")
HOST_RULE = re.compile(r"^[A-Za-z0-9_.:%\[\]-]{1,255}$")
RESERVED = frozenset({"all"})


class ServerInfo(msgspec.Struct, kw_only=True):
    """A server as the API shows it: never its key or password."""

    name: str
    host: str
    port: int
    user: str
    auth: AuthKind
    key_file: str | None = None
    tags: list[str]
    jump: str | None = None
    notes: str = ""
    trusted: bool
    """Whether a host key is trusted (connections are refused until one is)."""
    host_key_type: str | None = None
    host_key_fingerprint: str | None = None
    created: float
    updated: float


def server_info(server: Server) -> ServerInfo:
    return ServerInfo(
        name=server.name,
        host=server.host,
        port=server.port,
        user=server.user,
        auth=server.auth,
        key_file=server.key_file,
        tags=list(server.tags),
        jump=server.jump,
        notes=server.notes,
        trusted=server.host_key is not None,
        host_key_type=server.host_key.split()[0] if server.host_key else None,
        host_key_fingerprint=fingerprint_of_line(server.host_key) if server.host_key else None,
        created=server.created,
        updated=server.updated,
    )


def invalid(field: str, message: str) -> ClientException:
    """A 400 that names the request field at fault (``extra.field``)."""
    return ClientException(f"{field}: {message}", extra={"field": field})


def check_name(field: str, value: str) -> str:
    if not NAME_RULE.match(value) or value in RESERVED:
        raise invalid(
            field,
            f"{value!r} is not a valid server name (letters, digits, '.', '-', '_'; not 'all')",
        )
    return value


def check_tags(tags: list[str]) -> tuple[str, ...]:
    for tag in tags:
        if not TAG_RULE.match(tag):
            raise invalid(
                "tags", f"{tag!r} is not a valid tag (letters, digits, '.', ':', '-', '_')"
            )
    return tuple(dict.fromkeys(tags))


def check_endpoint(host: str, user: str) -> None:
    if not HOST_RULE.match(host):
        raise invalid("host", f"{host!r} is not a host name or IP address")
    if not USER_RULE.match(user):
        raise invalid("user", f"{user!r} is not a valid user name")


async def visible_servers(skyport: PluginContext, request: AnyRequest) -> list[Server]:
    """Every server the user may reach, by name (read afresh from the database)."""
    inventory = vps_state(skyport).inventory
    await inventory.load()
    names = await skyport.grants.visible(request.user, KIND, inventory.names())
    return [inventory.get(name) for name in names]


async def allowed_server(skyport: PluginContext, user: Principal, name: str) -> Server:
    """The server ``name`` if it exists and ``user`` may reach it; 404 otherwise."""
    inventory = vps_state(skyport).inventory
    await inventory.load()
    server = inventory.find(name)
    if server is None or not await skyport.grants.allows(user, KIND, name):
        raise NotFoundException(f"no server {name!r}")
    return server


async def in_thread(skyport: PluginContext, fn: Callable[..., T], *args: Any) -> T:
    """Run blocking SSH work on the plugin's worker threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(vps_state(skyport).executor, fn, *args)
