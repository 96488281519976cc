"""Pooled SSH connections: one kept-alive connection per server, shared by every use.

A command, a file transfer, a metrics sample or a shell opens a channel on
the server's pooled connection; the connection is made on first use,
reused while it lives and its server's settings are unchanged, kept alive
with SSH keep-alives, and closed by :meth:`Pool.reap` once idle. A
connection found dead is dropped and made again once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import paramiko

from skyport_vps import errors, ssh
from skyport_vps.inventory import Credentials, Server
from skyport_vps.settings import VpsSettings


class Connection:
    """A logged-in transport to one server, and how many channels use it now."""

    def __init__(self, server: Server, transport: paramiko.Transport) -> None:
        self.server = server
        self.transport = transport
        self.created = time.monotonic()
        self.last_used = self.created
        self.busy = 0

    @property
    def alive(self) -> bool:
        return self.transport.is_active()

    def matches(self, server: Server) -> bool:
        return (
            self.alive
            and self.server.connection_key() == server.connection_key()
            and self.server.host_key == server.host_key
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.transport.close()


class Pool:
    """Connections by server name (thread-safe; every method blocks: call it in a thread)."""

    def __init__(
        self,
        settings: VpsSettings,
        credentials: Callable[[Server], Credentials],
        lookup: Callable[[str], Server],
    ) -> None:
        self.settings = settings
        self._credentials = credentials
        self._lookup = lookup
        self._connections: dict[str, Connection] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.opened = 0
        """Connections made since start (reuse keeps it low)."""

    def _lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    def connection(self, server: Server, timeout: float | None = None) -> Connection:
        """The server's live connection, made (and its host key checked) if need be."""
        with self._lock(server.name):
            current = self._connections.get(server.name)
            if current is not None and current.matches(server):
                current.last_used = time.monotonic()
                return current
            if current is not None:
                self._drop(server.name, current)
            made = Connection(
                server, self._connect(server, timeout or self.settings.connect_timeout)
            )
            with self._guard:
                self._connections[server.name] = made
                self.opened += 1
            return made

    def _connect(self, server: Server, timeout: float) -> paramiko.Transport:
        transport = self._handshake(server, timeout)
        try:
            ssh.check_host_key(server, transport)
            ssh.login(server, transport, self._credentials(server))
        except BaseException:
            transport.close()
            raise
        transport.set_keepalive(int(max(1, self.settings.keepalive)))
        return transport

    def scan(self, server: Server) -> paramiko.PKey:
        """The host key the server presents now (key exchange only, no login)."""
        transport = self._handshake(server, self.settings.connect_timeout)
        try:
            return transport.get_remote_server_key()
        finally:
            transport.close()

    def _handshake(self, server: Server, timeout: float) -> paramiko.Transport:
        """A new transport to the server (directly or through its jump host), before login."""
        sock: Any = self._jump_channel(server, timeout) if server.jump else None
        if sock is None:
            sock = ssh.open_socket(server, timeout)
        try:
            return ssh.handshake(
                server, sock, timeout, key_types=ssh.key_types_for(server.host_key)
            )
        except BaseException:
            sock.close()
            raise

    def _jump_channel(self, server: Server, timeout: float) -> paramiko.Channel:
        """A ``direct-tcpip`` channel to the server through its jump host's connection."""
        assert server.jump is not None
        if server.jump == server.name:
            raise errors.ServerError(server.name, "a server cannot be its own jump host")
        jump = self.connection(self._lookup(server.jump), timeout)
        try:
            return jump.transport.open_channel(
                "direct-tcpip", (server.host, server.port), ("127.0.0.1", 0), timeout=timeout
            )
        except paramiko.ChannelException as exc:
            raise errors.Unreachable(
                server.name,
                f"jump host {server.jump} cannot reach {server.host}:{server.port}: {exc.text}",
            ) from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.discard(server.jump)
            raise errors.Unreachable(
                server.name, f"jump host {server.jump} failed: {exc or type(exc).__name__}"
            ) from None

    @contextlib.contextmanager
    def channel(self, server: Server, timeout: float | None = None) -> Iterator[paramiko.Channel]:
        """A session channel on the server's connection; closed afterwards.

        A pooled connection that died since its last use (server restarted,
        network cut) is replaced once, transparently.
        """
        for attempt in (1, 2):
            conn = self.connection(server, timeout)
            try:
                chan = conn.transport.open_session(timeout=timeout or self.settings.connect_timeout)
            except (paramiko.SSHException, EOFError, OSError) as exc:
                self._drop(server.name, conn)
                if attempt == 2:
                    raise errors.Unreachable(
                        server.name, f"the connection failed: {exc or type(exc).__name__}"
                    ) from None
                continue
            break
        conn.busy += 1
        try:
            yield chan
        finally:
            conn.busy -= 1
            conn.last_used = time.monotonic()
            chan.close()

    def sftp(self, server: Server) -> paramiko.SFTPClient:
        """An SFTP session on the server's connection (close it when done)."""
        for attempt in (1, 2):
            conn = self.connection(server)
            try:
                client = paramiko.SFTPClient.from_transport(conn.transport)
            except (paramiko.SSHException, EOFError, OSError) as exc:
                if conn.alive:  # the connection works: the server refused the subsystem
                    raise errors.ServerError(
                        server.name, f"the server offers no SFTP ({exc or 'refused'})"
                    ) from None
                self._drop(server.name, conn)
                if attempt == 2:
                    raise errors.Unreachable(
                        server.name, f"the connection failed: {exc or type(exc).__name__}"
                    ) from None
                continue
            if client is not None:
                client.get_channel().settimeout(self.settings.command_timeout)
                return client
        raise errors.Unreachable(server.name, "cannot open an SFTP session")

    def discard(self, name: str) -> None:
        """Close a server's connection (its settings changed, or it was removed)."""
        with self._guard:
            current = self._connections.pop(name, None)
        if current is not None:
            current.close()

    def _drop(self, name: str, conn: Connection) -> None:
        with self._guard:
            if self._connections.get(name) is conn:
                del self._connections[name]
        conn.close()

    def reap(self) -> int:
        """Close connections idle longer than ``idle_close`` (or dead); how many."""
        limit = time.monotonic() - self.settings.idle_close
        with self._guard:
            jumps = {c.server.jump for c in self._connections.values() if c.alive}
            stale = [
                (name, conn)
                for name, conn in self._connections.items()
                if not conn.alive
                or (conn.busy == 0 and conn.last_used < limit and name not in jumps)
            ]
            for name, _ in stale:
                del self._connections[name]
        for _, conn in stale:
            conn.close()
        return len(stale)

    def size(self) -> int:
        with self._guard:
            return len(self._connections)

    def close(self) -> None:
        with self._guard:
            conns, self._connections = list(self._connections.values()), {}
        for conn in conns:
            conn.close()
