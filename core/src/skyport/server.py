"""How uvicorn serves SkyPort (``skyport serve`` and the tests' live servers alike).

uvicorn's fast httptools parser has no limit on the size of a request's headers
(an 8 MB header is read whole); :class:`HeaderCappedHttpTools` answers 431 and
hangs up once a request's line and headers pass :data:`MAX_HEADER_BYTES`, before
reading more. uvicorn's own proxy handling stays off: the app takes the client
from ``X-Forwarded-For`` itself, only from ``server.forwarded_allow_ips``. WebSocket
frames are sent uncompressed (permessage-deflate is declined), and the access log is
off unless ``server.access_log`` is on.

:func:`serve_with_local_socket` runs the server on its TCP socket and on the local socket
in the data dir (:mod:`skyport.local_socket`), with ``POST /local/session`` there alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from skyport.auth.service import Unauthenticated
from skyport.local_socket import SESSION_PATH, socket_path

if TYPE_CHECKING:
    from skyport.config import ServerSettings

log = logging.getLogger("skyport")

MAX_HEADER_BYTES = 64 * 1024
"""A request's line and headers together."""
MAX_WEBSOCKET_MESSAGE = 1024 * 1024

_REASON = b"request line and headers exceed 64 KiB\n"
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_REASON), _REASON)
)


class HeaderCappedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, counting the bytes of each request's head."""

    _head_bytes = 0
    _in_head = True

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if (
            self._in_head
            and self._head_bytes > MAX_HEADER_BYTES
            and not self.transport.is_closing()
        ):
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True  # the next request on this connection begins
        super().on_message_complete()


def uvicorn_options(server: ServerSettings) -> dict[str, Any]:
    """uvicorn's settings for ``server`` (host, port, TLS, limits, access log)."""
    return {
        "host": server.host,
        "port": server.port,
        "ssl_certfile": server.certfile,
        "ssl_keyfile": server.keyfile,
        "http": HeaderCappedHttpTools,
        "ws_max_size": MAX_WEBSOCKET_MESSAGE,
        # Frames are small JSON (a metrics sample is ~3 KB): compressing them for every
        # client apart costs more CPU and ~50 KiB of memory per client than it saves.
        "ws_per_message_deflate": False,
        "proxy_headers": False,
        "access_log": server.access_log,
    }


_MAX_PATH = 107
"""The longest path a Unix socket can be bound to (``sun_path`` less its NUL)."""


def bind_local_socket(path: Path) -> socket.socket | None:
    """A Unix socket bound at ``path`` (mode 0600), or ``None`` with the reason logged:
    another server listens there, or the path is too long for a socket."""
    if len(os.fsencode(path)) > _MAX_PATH:
        log.warning("no local socket: %s is longer than %d bytes", path, _MAX_PATH)
        return None
    if path.is_socket():
        if _answers(path):
            log.warning("no local socket: another server listens on %s", path)
            return None
        path.unlink()  # left by a server that did not stop cleanly
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(str(path))
    except OSError as exc:
        listener.close()
        log.warning("no local socket at %s: %s", path, exc.strerror or exc)
        return None
    finally:
        os.umask(old_mask)
    return listener


def _answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError as exc:
        return exc.errno not in (errno.ECONNREFUSED, errno.ENOENT)
    finally:
        probe.close()
    return True


def serve_with_local_socket(
    app: Any, options: dict[str, Any], listener: socket.socket, data_dir: Path
) -> None:
    """Serve ``app`` with uvicorn on ``listener`` and on the data dir's socket, until a
    signal stops the server. The socket is served between the application's start-up and
    its shutdown, and removed then."""
    path = socket_path(data_dir)
    local = bind_local_socket(path)
    server = _ServerWithLocalSocket(uvicorn.Config(app, **options), app, options)
    if local is not None:
        server.serve_beside(local, path)
    try:
        server.run(sockets=[listener])
    finally:
        server.remove_local_socket()  # if start-up failed (shutdown removes it otherwise)


class _ServerWithLocalSocket(uvicorn.Server):
    """uvicorn's server, running a second one on the local socket once started."""

    def __init__(self, config: uvicorn.Config, app: Any, options: dict[str, Any]) -> None:
        super().__init__(config)
        local_options = {
            key: value
            for key, value in options.items()
            if key not in ("host", "port", "ssl_certfile", "ssl_keyfile")
        }
        self._beside = _QuietServer(
            uvicorn.Config(
                _with_session_route(app), lifespan="off", log_config=None, **local_options
            )
        )
        self._local: tuple[socket.socket, Path] | None = None
        self._task: asyncio.Task[None] | None = None

    def serve_beside(self, listener: socket.socket, path: Path) -> None:
        """Serve the socket ``listener`` bound at ``path`` too, once started."""
        self._local = listener, path

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._local is not None:
            self._task = asyncio.create_task(self._beside.serve(sockets=[self._local[0]]))

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Before the application stops; uvicorn may end the process with the signal after.
        if self._task is not None:
            self._beside.should_exit = True
            await self._task
        self.remove_local_socket()
        await super().shutdown(sockets)

    def remove_local_socket(self) -> None:
        if self._local is not None:
            listener, path = self._local
            self._local = None
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


class _QuietServer(uvicorn.Server):
    """A server that leaves signals to the main one (which stops it)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _with_session_route(app: Any) -> Any:
    """``app`` with ``POST /local/session`` in front of it."""

    async def local_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == SESSION_PATH:
            await _open_session(app, scope, send)
            return
        await app(scope, receive, send)

    return local_app


async def _open_session(app: Any, scope: dict[str, Any], send: Any) -> None:
    if scope["method"] != "POST":
        await _answer(send, 405, {"status_code": 405, "detail": f"{SESSION_PATH} takes POST"})
        return
    try:
        session = await app.state.auth.open_local_session()
    except Unauthenticated as exc:
        await _answer(send, 401, {"status_code": 401, "detail": str(exc)})
        return
    username = session.principal.username
    await app.state.audit.record(username, "auth.login", "", "ok (local socket)", "local")
    await _answer(send, 201, {"token": session.token})


async def _answer(send: Any, status: int, body: dict[str, Any]) -> None:
    payload = msgspec.json.encode(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
