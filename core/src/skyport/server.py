"""How uvicorn serves SkyPort (``skyport serve`` and the tests' live servers alike).

uvicorn's fast httptools parser has no limit on the size of a request's headers
(an 8 MB header is read whole); :class:`HeaderCappedHttpTools` answers 431 and
hangs up once a request's line and headers pass :data:`MAX_HEADER_BYTES`, before
reading more. uvicorn's own proxy handling stays off: the app takes the client
from ``X-Forwarded-For`` itself, only from ``server.forwarded_allow_ips``. WebSocket
frames are sent uncompressed (permessage-deflate is declined), and the access log is
off unless ``server.access_log`` is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    from skyport.config import ServerSettings

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
