"""Engine reads that skip the docker SDK's HTTP stack, for the calls made most.

``GET /api/docker/ps`` is the call people make most, and the SDK's stack
(``requests`` over ``urllib3``) adds most of a millisecond per call on top
of the engine's own answer. For the local unix socket this reads with a
kept-alive stdlib connection per thread; engines reached over ``ssh://``
read from the SDK's own connection pool (skipping ``requests``); ``tcp://``
engines, every error answer and every broken connection go through the
SDK's normal path, so errors look exactly the same either way.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from typing import Any
from urllib.parse import urlencode

import docker
import urllib3

_POOLED_SCHEME = "http+docker://"  # the SDK's unix, npipe and ssh transports
_local = threading.local()


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


def get_bytes(client: docker.APIClient, path: str, params: dict[str, Any]) -> bytes:
    """The raw body of ``GET <path>?<params>`` on the engine (JSON, not decoded)."""
    url = client._url(path)
    if url.startswith(_POOLED_SCHEME):
        target = f"/{url.removeprefix(_POOLED_SCHEME).partition('/')[2]}?{urlencode(params)}"
        adapter = client.get_adapter(url)
        socket_path = getattr(adapter, "socket_path", None)  # the unix socket transport
        body = (
            _read_unix(socket_path, target, client.timeout)
            if socket_path
            else _read_pooled(client, adapter, url, target)
        )
        if body is not None:
            return body
    response = client._get(url, params=params)
    client._raise_for_status(response)
    return bytes(response.content)


def _read_unix(path: str, target: str, timeout: float) -> bytes | None:
    """A 2xx body over this thread's kept-alive connection; None to take the SDK's path."""
    connections: dict[str, _UnixConnection] = _local.__dict__.setdefault("connections", {})
    connection = connections.get(path)
    if connection is None:
        connection = connections[path] = _UnixConnection(path, timeout)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException):
        with contextlib.suppress(Exception):
            connection.close()
        del connections[path]
        return None
    return body if response.status < 400 else None


def _read_pooled(client: docker.APIClient, adapter: Any, url: str, target: str) -> bytes | None:
    pool = adapter.get_connection(url)
    response = pool.urlopen("GET", target, timeout=urllib3.Timeout(client.timeout), retries=False)
    return bytes(response.data) if response.status < 400 else None
