"""Inventory routes: ``/servers`` (list, add, import, scan a new one's host key) and
``/servers/{name}`` (show, change, remove, host key, trust, test).
"""

from __future__ import annotations

import time
from typing import Annotated

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.exceptions import ClientException, PermissionDeniedException
from litestar.params import FromPath, FromQuery, JSONBody

from skyport_vps import errors
from skyport_vps.api.common import (
    HOST_RULE,
    KIND,
    LOCAL_KEYS,
    READ,
    READ_AUDITED,
    USER_RULE,
    WRITE,
    AnyRequest,
    ServerInfo,
    Skyport,
    allowed_server,
    check_endpoint,
    check_name,
    check_tags,
    in_thread,
    invalid,
    server_info,
    visible_servers,
)
from skyport_vps.inventory import AuthKind, Credentials, Server
from skyport_vps.runner import run_command
from skyport_vps.ssh import host_key_line, load_private_key
from skyport_vps.sshconfig import hosts_from_config
from skyport_vps.state import vps_state

TAGS = ["vps: servers"]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Text = Annotated[str, msgspec.Meta(max_length=4096)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=65536)]


class Auth(msgspec.Struct, kw_only=True):
    """One way to log in (give exactly one of the four)."""

    private_key: Secret | None = None
    """The private key's text (OpenSSH or PEM); stored encrypted."""
    passphrase: Secret | None = None
    """The private key's passphrase, if it has one; stored encrypted."""
    key_file: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)] | None = None
    """A key file on the SkyPort server."""
    password: Secret | None = None
    """Stored encrypted."""
    agent: bool = False
    """Use the SSH agent of the SkyPort server (``SSH_AUTH_SOCK``)."""

    def given(self) -> list[str]:
        chosen = [k for k in ("private_key", "key_file", "password") if getattr(self, k)]
        return [*chosen, "agent"] if self.agent else chosen


class NewServer(Auth, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    host: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    port: Port = 22
    user: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "root"
    tags: list[str] = msgspec.field(default_factory=list)
    jump: str | None = None
    """Another server to connect through (like ``ssh -J``)."""
    notes: Text = ""
    fingerprint: str | None = None
    """Trust the host key now, if the server presents this fingerprint (``SHA256:…``)."""


class ServerChange(Auth, forbid_unknown_fields=True):
    """``PATCH``: only the fields given change; a new credential replaces the old one."""

    host: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    port: Port | None = None
    user: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    tags: list[str] | None = None
    jump: str | None = None
    """A server name; ``""`` removes the jump host."""
    notes: Text | None = None


class TrustRequest(msgspec.Struct, forbid_unknown_fields=True):
    fingerprint: Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
    """The fingerprint the server was seen to present (``SHA256:…``)."""


class HostKey(msgspec.Struct, kw_only=True):
    server: str
    key_type: str
    fingerprint: str
    """What the server presents now."""
    trusted: bool
    """Whether that key is the trusted one."""
    trusted_fingerprint: str | None = None


class ScanRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A server not added yet: where it is, and the server it is reached through."""

    host: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    port: Port = 22
    jump: str | None = None


class ScannedKey(msgspec.Struct, kw_only=True):
    host: str
    port: int
    key_type: str
    fingerprint: str
    """Give it as ``fingerprint`` when adding the server to trust this key."""


class TestResult(msgspec.Struct, kw_only=True):
    server: str
    ok: bool
    latency_ms: float
    """One command's round trip on the (pooled) connection."""
    os: str
    uptime: float | None = None
    """Seconds since the server booted."""


class ImportRequest(msgspec.Struct, forbid_unknown_fields=True):
    config: Annotated[str, msgspec.Meta(max_length=1024 * 1024)]
    """The text of an OpenSSH client config (``~/.ssh/config``)."""
    tags: list[str] = msgspec.field(default_factory=list)
    """Tags for every imported server."""
    agent_when_no_key: bool = True
    """Hosts without ``IdentityFile`` log in with the SSH agent."""


class ImportResult(msgspec.Struct):
    added: list[ServerInfo]
    skipped: dict[str, str]
    """Host aliases left out, and why."""


def _auth_of(
    data: Auth, required: bool, request: AnyRequest
) -> tuple[AuthKind | None, Credentials | None, str | None]:
    """The auth kind, the credentials to encrypt, the key file; validated.

    A key file or the agent of the SkyPort server are its own identities: they need
    ``vps:local-keys`` (admin); anyone else uploads the key (kept encrypted).
    """
    given = data.given()
    for local in {"key_file", "agent"} & set(given):
        _require_local_keys(request, local)
    if len(given) > 1:
        raise invalid(given[1], f"give one way to log in, not {' and '.join(given)}")
    if not given:
        if required:
            raise invalid("private_key", "give one of private_key, key_file, password or agent")
        if data.passphrase:
            raise invalid("passphrase", "a passphrase goes with a private_key")
        return None, None, None
    kind = given[0]
    if kind == "private_key":
        try:
            load_private_key(data.private_key or "", data.passphrase)
        except ValueError as exc:
            raise invalid("private_key", str(exc)) from None
        creds = Credentials(private_key=data.private_key, passphrase=data.passphrase)
        return "private_key", creds, None
    if data.passphrase:
        raise invalid("passphrase", "a passphrase goes with a private_key")
    if kind == "password":
        return "password", Credentials(password=data.password), None
    if kind == "key_file":
        return "key_file", None, data.key_file
    return "agent", None, None


def _require_local_keys(request: AnyRequest, field: str) -> None:
    if not request.user.has_scope(LOCAL_KEYS):
        raise PermissionDeniedException(
            f"{field}: logging in with the SkyPort server's own keys (a key file on it, its "
            f"SSH agent) needs the {LOCAL_KEYS} scope; give the key's text as private_key",
            extra={"field": field, "missing_scope": LOCAL_KEYS},
        )


async def _check_jump(
    skyport: Skyport, request: AnyRequest, name: str, jump: str | None
) -> str | None:
    """The jump host, if it is a server the user may reach and it makes no loop."""
    if not jump:
        return None
    inventory = vps_state(skyport).inventory
    if not await skyport.grants.allows(request.user, KIND, jump):
        raise invalid("jump", f"no server {jump!r}")
    if jump == name:
        raise invalid("jump", "a server cannot be its own jump host")
    hop: str | None = jump
    for _ in range(16):  # jump chains are short; refuse loops
        if hop is None:
            return jump
        server = inventory.find(hop)
        if server is None:
            raise invalid("jump", f"no server {hop!r}")
        if server.jump == name:
            raise invalid("jump", f"{jump} already goes through {name}: a loop")
        hop = server.jump
    raise invalid("jump", "the chain of jump hosts is too long")


@get("/servers", opt=READ, tags=TAGS)
async def list_servers(
    skyport: Skyport, request: AnyRequest, tag: FromQuery[str | None] = None
) -> list[ServerInfo]:
    """Every server you may reach (a user limited by grants sees only theirs); ``tag`` filters."""
    servers = await visible_servers(skyport, request)
    return [server_info(s) for s in servers if tag is None or tag in s.tags]


@post("/servers", opt=WRITE, tags=TAGS, status_code=201)
async def add_server(
    skyport: Skyport, request: AnyRequest, data: JSONBody[NewServer]
) -> ServerInfo:
    """Add a server; with ``fingerprint`` its host key is trusted at once if it matches."""
    state = vps_state(skyport)
    name = check_name("name", data.name)
    check_endpoint(data.host, data.user)
    await state.inventory.load()
    if state.inventory.find(name) is not None:
        raise ClientException(f"server {name!r} already exists", status_code=409)
    kind, creds, key_file = _auth_of(data, required=True, request=request)
    assert kind is not None
    server = Server(
        name=name,
        host=data.host,
        port=data.port,
        user=data.user,
        auth=kind,
        secret=state.inventory.seal(name, creds),
        key_file=key_file,
        tags=check_tags(data.tags),
        jump=await _check_jump(skyport, request, name, data.jump),
        notes=data.notes,
    )
    if data.fingerprint:
        server = await _trusted(skyport, server, data.fingerprint)
    added = await state.inventory.add(server)
    if data.fingerprint:
        await skyport.audit.record(
            request.user.username, "vps.trust", name, f"host key {data.fingerprint}"
        )
    return server_info(added)


@get("/servers/{name:str}", opt=READ, tags=TAGS)
async def show_server(skyport: Skyport, request: AnyRequest, name: FromPath[str]) -> ServerInfo:
    return server_info(await allowed_server(skyport, request.user, name))


@patch("/servers/{name:str}", opt=WRITE, tags=TAGS)
async def change_server(
    skyport: Skyport, request: AnyRequest, name: FromPath[str], data: JSONBody[ServerChange]
) -> ServerInfo:
    """Change a server; the trusted host key is kept (a new host must present it)."""
    state = vps_state(skyport)
    server = await allowed_server(skyport, request.user, name)
    changes: dict[str, object] = {}
    for field in ("host", "port", "user", "notes"):
        if (value := getattr(data, field)) is not None:
            changes[field] = value
    check_endpoint(str(changes.get("host", server.host)), str(changes.get("user", server.user)))
    if data.tags is not None:
        changes["tags"] = check_tags(data.tags)
    if data.jump is not None:
        changes["jump"] = await _check_jump(skyport, request, name, data.jump)
    kind, creds, key_file = _auth_of(data, required=False, request=request)
    if kind is not None:
        changes.update(auth=kind, secret=state.inventory.seal(name, creds), key_file=key_file)
    changed = await state.inventory.replace(msgspec.structs.replace(server, **changes))
    await in_thread(skyport, state.pool.discard, name)
    return server_info(changed)


@delete("/servers/{name:str}", opt=WRITE, tags=TAGS)
async def remove_server(skyport: Skyport, request: AnyRequest, name: FromPath[str]) -> None:
    """Forget a server and its credentials; its connection is closed."""
    await allowed_server(skyport, request.user, name)
    state = vps_state(skyport)
    await state.inventory.remove(name)
    await in_thread(skyport, state.pool.discard, name)


@get("/servers/{name:str}/host-key", opt=READ_AUDITED, tags=TAGS)
async def host_key(skyport: Skyport, request: AnyRequest, name: FromPath[str]) -> HostKey:
    """The key the server presents now, and whether it is the trusted one."""
    server = await allowed_server(skyport, request.user, name)
    key = await in_thread(skyport, vps_state(skyport).pool.scan, server)
    trusted = (
        server.host_key.split()[:2] == host_key_line(key).split()[:2] if server.host_key else False
    )
    return HostKey(
        server=name,
        key_type=key.get_name(),
        fingerprint=key.fingerprint,
        trusted=trusted,
        trusted_fingerprint=server_info(server).host_key_fingerprint,
    )


@post("/servers/{name:str}/trust", opt=WRITE, tags=TAGS, status_code=200)
async def trust(
    skyport: Skyport, request: AnyRequest, name: FromPath[str], data: JSONBody[TrustRequest]
) -> ServerInfo:
    """Trust the host key the server presents, if its fingerprint is the one given.

    Replacing a trusted key by another one (the server's key changed) is for admins.
    """
    server = await allowed_server(skyport, request.user, name)
    updated = await _trusted(skyport, server, data.fingerprint, request)
    if updated.host_key == server.host_key:
        return server_info(server)
    state = vps_state(skyport)
    stored = await state.inventory.replace(updated)
    await in_thread(skyport, state.pool.discard, name)
    await skyport.audit.record(
        request.user.username, "vps.trust", name, f"host key {data.fingerprint}"
    )
    return server_info(stored)


async def _trusted(
    skyport: Skyport, server: Server, fingerprint: str, request: Request | None = None
) -> Server:
    """``server`` with the key it presents now as trusted, if ``fingerprint`` is that key's."""
    key = await in_thread(skyport, vps_state(skyport).pool.scan, server)
    given = fingerprint.strip().rstrip("=")
    if key.fingerprint not in (given, f"SHA256:{given}"):
        raise errors.HostKeyChanged(
            server.name,
            f"the server presents {key.fingerprint} ({key.get_name()}), not {given}: "
            "nothing was trusted",
            fingerprint=key.fingerprint,
        )
    line = host_key_line(key)
    changed = server.host_key is not None and server.host_key.split()[:2] != line.split()[:2]
    if changed and request is not None and not request.user.is_admin:
        raise PermissionDeniedException(
            f"{server.name}: only an admin can trust a changed host key"
        )
    return msgspec.structs.replace(server, host_key=line)


@get("/servers/{name:str}/test", opt=READ_AUDITED, tags=TAGS)
async def test_server(skyport: Skyport, request: AnyRequest, name: FromPath[str]) -> TestResult:
    """Connect (or reuse the connection), run one command: latency, OS, uptime."""
    server = await allowed_server(skyport, request.user, name)
    state = vps_state(skyport)
    settings = state.settings
    await in_thread(skyport, state.pool.connection, server)
    started = time.monotonic()
    result = await in_thread(
        skyport,
        run_command,
        state.pool,
        server,
        "uname -srm; cat /proc/uptime 2>/dev/null",
        settings.connect_timeout,
        65536,
    )
    latency = (time.monotonic() - started) * 1000
    if result.reason is not None:
        raise errors.ServerError(name, result.error or "the test command failed")
    lines = result.stdout.splitlines()
    uptime = None
    if len(lines) > 1 and lines[1].split():
        try:
            uptime = float(lines[1].split()[0])
        except ValueError:
            uptime = None
    return TestResult(
        server=name,
        ok=result.exit_code == 0,
        latency_ms=round(latency, 2),
        os=lines[0] if lines else "",
        uptime=uptime,
    )


@post("/servers/scan", opt=WRITE, tags=TAGS, status_code=200)
async def scan(skyport: Skyport, request: AnyRequest, data: JSONBody[ScanRequest]) -> ScannedKey:
    """The host key a server presents, before it is added: a key exchange and nothing more
    (no login; no credential is sent or stored). Compare the fingerprint with the server's own
    (``ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`` on it), then add the server with it."""
    check_endpoint(data.host, "root")
    state = vps_state(skyport)
    await state.inventory.load()
    jump = await _check_jump(skyport, request, "", data.jump)
    where = f"{data.host}:{data.port}"
    probe = Server(name=where, host=data.host, port=data.port, user="root", auth="agent", jump=jump)
    key = await in_thread(skyport, state.pool.scan, probe)
    return ScannedKey(
        host=data.host, port=data.port, key_type=key.get_name(), fingerprint=key.fingerprint
    )


@post("/servers/import", opt=WRITE, tags=TAGS, status_code=201)
async def import_config(
    skyport: Skyport, request: AnyRequest, data: JSONBody[ImportRequest]
) -> ImportResult:
    """Add the hosts of an OpenSSH client config (``Host`` aliases without wildcards)."""
    state = vps_state(skyport)
    tags = check_tags(data.tags)
    await state.inventory.load()
    added: list[ServerInfo] = []
    skipped: dict[str, str] = {}
    try:
        hosts = hosts_from_config(data.config)
    except ValueError as exc:
        raise ClientException(str(exc), extra={"field": "config"}) from None
    for host in hosts:
        if host.problem is None and not (
            HOST_RULE.match(host.hostname) and USER_RULE.match(host.user)
        ):
            host.problem = f"invalid HostName {host.hostname!r} or User {host.user!r}"
        if host.problem:
            skipped[host.alias] = host.problem
            continue
        if state.inventory.find(host.alias) is not None:
            skipped[host.alias] = "a server with this name exists"
            continue
        if host.key_file is None and not data.agent_when_no_key:
            skipped[host.alias] = "no IdentityFile"
            continue
        jump = host.jump
        if jump and not (
            state.inventory.find(jump) and await skyport.grants.allows(request.user, KIND, jump)
        ):
            skipped[host.alias] = f"ProxyJump {jump} is not a known server"
            continue
        if not request.user.has_scope(LOCAL_KEYS):
            what = "its IdentityFile" if host.key_file else "the SSH agent"
            skipped[host.alias] = f"logging in with {what} of the SkyPort server needs {LOCAL_KEYS}"
            continue
        server = Server(
            name=host.alias,
            host=host.hostname,
            port=host.port,
            user=host.user,
            auth="key_file" if host.key_file else "agent",
            key_file=host.key_file,
            tags=tags,
            jump=jump,
            notes="imported from an OpenSSH config",
        )
        added.append(server_info(await state.inventory.add(server)))
    return ImportResult(added, skipped)


ROUTES = [
    list_servers,
    add_server,
    scan,
    import_config,
    show_server,
    change_server,
    remove_server,
    host_key,
    trust,
    test_server,
]
