"""Engine reads that skip the ``requests`` layer of the docker SDK.

``GET /api/docker/ps`` is the call people make most, and ``requests`` adds
about half a millisecond per call on top of the engine's own answer (the
session, hooks, cookie jar, response wrapping). For engines the SDK reaches
through its own connection pools (the local unix socket and ``ssh://``), this
reads straight from that pool; ``tcp://`` engines and every error answer go
through the SDK's normal path, so errors look exactly the same either way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import docker
import urllib3

_POOLED_SCHEME = "http+docker://"  # the SDK's unix, npipe and ssh transports


def get_bytes(client: docker.APIClient, path: str, params: dict[str, Any]) -> bytes:
    """The raw body of ``GET <path>?<params>`` on the engine (JSON, not decoded)."""
    url = client._url(path)
    if url.startswith(_POOLED_SCHEME):
        pool = client.get_adapter(url).get_connection(url)
        query = f"{url.removeprefix(_POOLED_SCHEME).partition('/')[2]}?{urlencode(params)}"
        response = pool.urlopen(
            "GET", f"/{query}", timeout=urllib3.Timeout(client.timeout), retries=False
        )
        if response.status < 400:
            return bytes(response.data)
    response = client._get(url, params=params)
    client._raise_for_status(response)
    return bytes(response.content)
