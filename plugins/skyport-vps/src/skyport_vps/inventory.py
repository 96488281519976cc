"""The servers SkyPort reaches over SSH, kept in the database.

A server's private key or password is stored only as a token of the plugin's
secret box (AES-GCM, bound to the server's name); the trusted host key is
stored as ``<type> <base64>``, like a ``known_hosts`` line.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from litestar.exceptions import ClientException, NotFoundException

from skyport.api import SecretBox, SecretDecryptError
from skyport.store import Database
from skyport_vps import errors

AuthKind = Literal["private_key", "key_file", "password", "agent"]

servers_table = sa.Table(
    "vps_servers",
    sa.MetaData(),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("auth", sa.String(16), nullable=False),
    sa.Column("secret", sa.Text, nullable=True),
    sa.Column("key_file", sa.String(1024), nullable=True),
    sa.Column("tags", sa.Text, nullable=False, default="[]"),
    sa.Column("jump", sa.String(64), nullable=True),
    sa.Column("notes", sa.Text, nullable=False, default=""),
    sa.Column("host_key", sa.Text, nullable=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    """What is encrypted in ``secret``: a private key (and its passphrase) or a password."""

    private_key: str | None = None
    passphrase: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never print a secret, even in a traceback
        return "Credentials(<hidden>)"


class Server(msgspec.Struct, frozen=True, kw_only=True):
    """One server as stored (``secret`` is the encrypted token, never sent out)."""

    name: str
    host: str
    port: int = 22
    user: str
    auth: AuthKind
    secret: str | None = None
    key_file: str | None = None
    tags: tuple[str, ...] = ()
    jump: str | None = None
    notes: str = ""
    host_key: str | None = None
    """The trusted host key, ``<type> <base64>``; None until trusted."""
    created: float = 0.0
    updated: float = 0.0

    @property
    def endpoint(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    def connection_key(self) -> tuple[Any, ...]:
        """Changes whenever a field that shapes the connection changes (the pool's key)."""
        return (self.host, self.port, self.user, self.auth, self.secret, self.key_file, self.jump)


def _row_to_server(row: Any) -> Server:
    return Server(
        name=row.name,
        host=row.host,
        port=row.port,
        user=row.username,
        auth=row.auth,
        secret=row.secret,
        key_file=row.key_file,
        tags=tuple(json.loads(row.tags or "[]")),
        jump=row.jump,
        notes=row.notes or "",
        host_key=row.host_key,
        created=row.created,
        updated=row.updated,
    )


def _server_to_row(server: Server) -> dict[str, Any]:
    return {
        "name": server.name,
        "host": server.host,
        "port": server.port,
        "username": server.user,
        "auth": server.auth,
        "secret": server.secret,
        "key_file": server.key_file,
        "tags": json.dumps(list(server.tags)),
        "jump": server.jump,
        "notes": server.notes,
        "host_key": server.host_key,
        "created": server.created,
        "updated": server.updated,
    }


class Inventory:
    """Servers by name: a copy of the table, written through to the database.

    :meth:`load` reads the table again; the routes call it first, so several
    SkyPort servers sharing one database (PostgreSQL) see each other's changes.
    """

    def __init__(self, database: Database, box: SecretBox) -> None:
        self.database = database
        self.box = box
        self._servers: dict[str, Server] = {}

    async def load(self) -> None:
        """Read every server from the database (a few rows: cheap)."""
        async with self.database.connect() as conn:
            rows = await conn.execute(sa.select(servers_table))
            self._servers = {row.name: _row_to_server(row) for row in rows}

    async def reseal(self) -> list[str]:
        """Seal again with the current key the credentials an earlier release sealed
        (0.1.0 used another key); the names of the servers whose credentials moved."""
        moved = []
        for server in self.all():
            try:
                token = server.secret and self.box.reseal(
                    server.secret, context=f"server:{server.name}"
                )
            except SecretDecryptError:
                continue  # unreadable (secret key changed): credentials() will say so
            if token:
                async with self.database.begin() as conn:
                    await conn.execute(
                        servers_table.update()
                        .where(servers_table.c.name == server.name)
                        .values(secret=token)
                    )
                self._servers[server.name] = msgspec.structs.replace(server, secret=token)
                moved.append(server.name)
        return moved

    def names(self) -> list[str]:
        return sorted(self._servers)

    def all(self) -> list[Server]:
        return [self._servers[name] for name in self.names()]

    def get(self, name: str) -> Server:
        try:
            return self._servers[name]
        except KeyError:
            raise NotFoundException(f"no server {name!r}") from None

    def find(self, name: str) -> Server | None:
        return self._servers.get(name)

    def tagged(self, tag: str) -> list[Server]:
        return [s for s in self.all() if tag in s.tags]

    def seal(self, name: str, credentials: Credentials | None) -> str | None:
        """The token to store for ``credentials`` of server ``name`` (None if none)."""
        if credentials is None:
            return None
        return self.box.encrypt(msgspec.json.encode(credentials), context=f"server:{name}")

    def credentials(self, server: Server) -> Credentials:
        """The decrypted key or password of ``server`` (empty for key files and the agent)."""
        if not server.secret:
            return Credentials()
        try:
            plain = self.box.decrypt(server.secret, context=f"server:{server.name}")
        except SecretDecryptError:
            raise errors.CredentialsUnreadable(
                server.name,
                "its stored credentials cannot be decrypted with this server's key "
                "(was the secret key changed?); set them again",
            ) from None
        return msgspec.json.decode(plain, type=Credentials)

    async def add(self, server: Server) -> Server:
        if server.name in self._servers:
            raise ClientException(f"server {server.name!r} already exists", status_code=409)
        now = time.time()
        server = msgspec.structs.replace(server, created=now, updated=now)
        try:
            async with self.database.begin() as conn:
                await conn.execute(servers_table.insert().values(**_server_to_row(server)))
        except sa.exc.IntegrityError:  # added meanwhile, through another SkyPort server
            raise ClientException(
                f"server {server.name!r} already exists", status_code=409
            ) from None
        self._servers[server.name] = server
        return server

    async def replace(self, server: Server) -> Server:
        """Store a changed server (same name)."""
        self.get(server.name)
        server = msgspec.structs.replace(server, updated=time.time())
        row = _server_to_row(server)
        del row["name"], row["created"]
        async with self.database.begin() as conn:
            result = await conn.execute(
                servers_table.update().where(servers_table.c.name == server.name).values(**row)
            )
        if result.rowcount == 0:  # removed meanwhile, through another SkyPort server
            self._servers.pop(server.name, None)
            raise NotFoundException(f"no server {server.name!r}")
        self._servers[server.name] = server
        return server

    async def remove(self, name: str) -> Server:
        server = self.get(name)
        users = [s.name for s in self._servers.values() if s.jump == name]
        if users:
            raise ClientException(
                f"server {name!r} is the jump host of {', '.join(sorted(users))}; "
                "change those first",
                status_code=409,
            )
        async with self.database.begin() as conn:
            await conn.execute(servers_table.delete().where(servers_table.c.name == name))
        del self._servers[name]
        return server
