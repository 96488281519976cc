"""Opening one SSH connection: TCP, key exchange, host key check, login.

paramiko does the protocol. Two socket options matter for speed: paramiko
sets neither. ``TCP_NODELAY`` lets a small request leave at once (without it
a command on a reused connection takes ~48 ms instead of ~4 ms), and
``TCP_QUICKACK`` after every read acknowledges the server's packets at once
(without it the first command after login waits ~40 ms: sshd's Nagle holds
its reply until our delayed ACK of its ``hostkeys-00`` message).

Every failure becomes a :class:`~skyport_vps.errors.ServerError` that says
what went wrong on which server; no message holds a secret.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import socket
import time
from typing import Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from skyport_vps import errors
from skyport_vps.inventory import Credentials, Server

RSA_ALGORITHMS = ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")
LOG_CHANNEL = "skyport.vps.paramiko"
"""paramiko's logger for our transports: silenced, as each failure is reported with its
server's name through the API (paramiko would log a traceback for every dead host)."""
logging.getLogger(LOG_CHANNEL).setLevel(logging.CRITICAL)


class QuickAckSocket(socket.socket):
    """A TCP socket that acknowledges every segment it reads at once (Linux)."""

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        with contextlib.suppress(OSError, AttributeError):
            self.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return data


def open_socket(server: Server, timeout: float) -> socket.socket:
    """A connected, tuned TCP socket to the server (DNS, refused, timeout told apart)."""
    try:
        infos = socket.getaddrinfo(server.host, server.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise errors.DnsFailure(
            server.name, f"cannot resolve host {server.host!r}: {exc.strerror or exc}"
        ) from None
    except UnicodeError:  # an empty or overlong label: not a name any resolver would take
        raise errors.DnsFailure(
            server.name, f"cannot resolve host {server.host!r}: not a valid host name"
        ) from None
    last: OSError | None = None
    deadline = time.monotonic() + timeout
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_QUICKACK"):
            sock = QuickAckSocket(fileno=sock.detach())
        return sock
    where = f"{server.host}:{server.port}"
    if isinstance(last, ConnectionRefusedError):
        raise errors.ConnectionRefused(server.name, f"connection refused by {where}")
    if isinstance(last, TimeoutError):
        raise errors.ConnectTimeout(
            server.name, f"no answer from {where} within {timeout:g} s (connecting)"
        )
    reason = (last.strerror if last else None) or str(last)
    raise errors.Unreachable(server.name, f"cannot reach {where}: {reason}")


def host_key_line(key: paramiko.PKey) -> str:
    """``<type> <base64>``, as stored for a trusted key."""
    return f"{key.get_name()} {key.get_base64()}"


def fingerprint_of_line(line: str) -> str:
    """The SHA256 fingerprint (as ``ssh-keygen -l`` prints it) of a stored key line."""
    key_type, data = line.split()[:2]
    return str(paramiko.PKey.from_type_string(key_type, base64.b64decode(data)).fingerprint)


def handshake(
    server: Server, sock: Any, timeout: float, *, key_types: tuple[str, ...] | None = None
) -> paramiko.Transport:
    """Key exchange over ``sock``; the transport (not logged in, host key unchecked)."""
    transport = paramiko.Transport(sock)
    transport.set_log_channel(LOG_CHANNEL)
    transport.banner_timeout = timeout
    transport.handshake_timeout = timeout
    transport.auth_timeout = timeout
    if key_types:
        transport.get_security_options().key_types = key_types
    started = time.monotonic()
    failure: BaseException | None = None
    try:
        transport.start_client(timeout=timeout)
    except Exception as exc:
        failure = exc
    if failure is None and transport.host_key is not None:
        return transport
    transport.close()
    # start_client returns quietly when its time is up: no host key means no key exchange.
    if failure is None or time.monotonic() - started >= timeout * 0.9:
        raise errors.ConnectTimeout(
            server.name,
            f"{server.host}:{server.port} accepted the connection but did not speak SSH "
            f"within {timeout:g} s",
        )
    raise errors.ServerError(
        server.name, f"SSH handshake with {server.host}:{server.port} failed: {_short(failure)}"
    )


def key_types_for(trusted: str | None) -> tuple[str, ...] | None:
    """The host key algorithms to ask for: the trusted key's type, so it is the one shown."""
    if not trusted:
        return None
    kind = trusted.split()[0]
    return RSA_ALGORITHMS if kind == "ssh-rsa" else (kind,)


def check_host_key(server: Server, transport: paramiko.Transport) -> None:
    """Refuse an unknown or changed host key (never accepted silently)."""
    key = transport.get_remote_server_key()
    seen = host_key_line(key)
    if server.host_key is None:
        raise errors.UnknownHostKey(
            server.name,
            f"host key not trusted yet: {key.fingerprint} ({key.get_name()}). Check it, then "
            f"trust it: skyport vps trust {server.name} "
            f"(POST /api/vps/servers/{server.name}/trust)",
            fingerprint=key.fingerprint,
            key_type=key.get_name(),
        )
    if seen.split()[:2] != server.host_key.split()[:2]:
        trusted = fingerprint_of_line(server.host_key)
        raise errors.HostKeyChanged(
            server.name,
            f"HOST KEY CHANGED: the server presents {key.fingerprint} ({key.get_name()}) but "
            f"{trusted} is trusted. Refused: this may be an attack. If the change is expected, "
            f"an admin must trust the new key (skyport vps trust {server.name})",
            fingerprint=key.fingerprint,
            trusted_fingerprint=trusted,
            key_type=key.get_name(),
        )


def login(server: Server, transport: paramiko.Transport, credentials: Credentials) -> None:
    """Authenticate as the server's user with its kind of credentials."""
    try:
        if server.auth == "password":
            transport.auth_password(server.user, credentials.password or "")
        elif server.auth == "agent":
            _login_with_agent(server, transport)
        else:
            transport.auth_publickey(server.user, _private_key(server, credentials))
    except paramiko.AuthenticationException:
        raise errors.AuthFailed(
            server.name,
            f"authentication failed for user {server.user!r} ({server.auth.replace('_', ' ')})",
        ) from None
    except errors.ServerError:
        raise
    except Exception as exc:
        raise errors.ServerError(server.name, f"login failed: {_short(exc)}") from None


def _login_with_agent(server: Server, transport: paramiko.Transport) -> None:
    agent = paramiko.Agent()
    try:
        keys = agent.get_keys()
        if not keys:
            raise errors.AuthFailed(
                server.name, "no key in the SSH agent (is SSH_AUTH_SOCK set for SkyPort?)"
            )
        for key in keys:
            with contextlib.suppress(paramiko.AuthenticationException):
                transport.auth_publickey(server.user, key)
                return
        raise paramiko.AuthenticationException()
    finally:
        agent.close()


def _private_key(server: Server, credentials: Credentials) -> paramiko.PKey:
    if server.auth == "key_file":
        try:
            return paramiko.PKey.from_path(server.key_file or "")
        except FileNotFoundError:
            raise errors.AuthFailed(
                server.name, f"key file {server.key_file} does not exist on the SkyPort server"
            ) from None
        except (PermissionError, paramiko.PasswordRequiredException, ValueError) as exc:
            raise errors.AuthFailed(
                server.name, f"cannot use key file {server.key_file}: {_short(exc)}"
            ) from None
    return load_private_key(credentials.private_key or "", credentials.passphrase)


def load_private_key(text: str, passphrase: str | None = None) -> paramiko.PKey:
    """A paramiko key from OpenSSH or PEM text; ValueError saying why it cannot be used."""
    data = text.encode()
    password = passphrase.encode() if passphrase else None
    loaded: object
    try:
        try:
            loaded = serialization.load_ssh_private_key(data, password)
        except ValueError:
            loaded = serialization.load_pem_private_key(data, password)
    except TypeError:
        raise ValueError("the key is encrypted: give its passphrase") from None
    except ValueError:
        raise ValueError(
            "not a private key in OpenSSH or PEM format (or wrong passphrase)"
        ) from None
    key_class: type[paramiko.PKey]
    if isinstance(loaded, rsa.RSAPrivateKey):
        key_class = paramiko.RSAKey
    elif isinstance(loaded, ed25519.Ed25519PrivateKey):
        key_class = paramiko.Ed25519Key
    elif isinstance(loaded, ec.EllipticCurvePrivateKey):
        key_class = paramiko.ECDSAKey
    else:
        raise ValueError("unsupported key type (use ed25519, ECDSA or RSA)")
    return key_class.from_private_key(io.StringIO(text), password=passphrase)


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."
