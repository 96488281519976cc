"""The ``vps`` section of SkyPort's settings."""

from __future__ import annotations

from typing import Annotated

import msgspec

Seconds = Annotated[float, msgspec.Meta(gt=0)]
Bytes = Annotated[int, msgspec.Meta(ge=1)]


class VpsSettings(msgspec.Struct, forbid_unknown_fields=True):
    connect_timeout: Seconds = 10.0
    """Seconds to open a connection (TCP, key exchange, login)."""
    command_timeout: Seconds = 60.0
    """Default seconds a command may run on each server (``timeout`` in a run overrides it)."""
    max_parallel: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 64
    """Servers worked on at once by a run, a test or a metrics sample."""
    idle_close: Seconds = 300.0
    """Seconds an unused pooled connection stays open."""
    keepalive: Seconds = 30.0
    """Seconds between SSH keep-alives on pooled connections."""
    max_output: Bytes = 1024 * 1024
    """Characters of stdout (and of stderr) kept and streamed per server and run; the rest
    is cut (``truncated``)."""
    max_upload: Bytes = 64 * 1024 * 1024
    """Largest file accepted by an upload."""
    max_download: Bytes = 64 * 1024 * 1024
    """Largest file served by a download."""
    metrics_interval: Seconds = 10.0
    """Seconds between metrics samples of every server."""
    down_backoff_max: Seconds = 300.0
    """Longest wait before trying an unreachable server again (doubling from the interval)."""
