"""Why a server could not be reached or used, as HTTP answers that name the server.

Each failure has a ``reason`` (``auth_failed``, ``refused``, ``timeout``,
``unknown_host_key``, ``host_key_changed``, ``dns``, ``unreachable``,
``ssh_error``, ``not_trusted``…) carried in ``extra`` so that clients can
tell them apart; the message says what happened and what to do next. No
message ever holds a password or key.
"""

from __future__ import annotations

from typing import Any

from litestar.exceptions import HTTPException


class ServerError(HTTPException):
    """A failure on one server; ``reason`` is a stable machine-readable word."""

    status_code = 502
    reason = "ssh_error"

    def __init__(self, server: str, message: str, **extra: Any) -> None:
        super().__init__(
            detail=f"{server}: {message}", extra={"server": server, "reason": self.reason, **extra}
        )
        self.server = server
        self.message = message


class AuthFailed(ServerError):
    reason = "auth_failed"


class ConnectionRefused(ServerError):
    reason = "refused"


class ConnectTimeout(ServerError):
    status_code = 504
    reason = "timeout"


class CommandTimeout(ServerError):
    status_code = 504
    reason = "command_timeout"


class DnsFailure(ServerError):
    reason = "dns"


class Unreachable(ServerError):
    reason = "unreachable"


class UnknownHostKey(ServerError):
    """First contact: the key must be trusted explicitly (``POST …/trust``)."""

    status_code = 409
    reason = "unknown_host_key"


class HostKeyChanged(ServerError):
    """The server presents a key other than the trusted one: refused until re-trusted."""

    status_code = 409
    reason = "host_key_changed"


class CredentialsUnreadable(ServerError):
    """The stored key or password cannot be decrypted (the server's secret key changed)."""

    status_code = 409
    reason = "credentials_unreadable"


class FileError(ServerError):
    """An SFTP operation the server refused (no such file, permission denied …)."""

    status_code = 400
    reason = "file_error"


class TooLarge(ServerError):
    status_code = 413
    reason = "too_large"
