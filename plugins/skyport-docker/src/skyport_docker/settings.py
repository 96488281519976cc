"""The ``docker`` section of SkyPort's settings."""

from __future__ import annotations

from typing import Annotated

import msgspec


class EngineConfig(msgspec.Struct, forbid_unknown_fields=True):
    """A Docker engine: ``unix:///var/run/docker.sock``, ``ssh://user@host``, ``tcp://host:2376``."""

    url: str
    tls_ca: str | None = None
    """CA certificate for ``tcp://`` with TLS (verifies the engine)."""
    tls_cert: str | None = None
    tls_key: str | None = None
    """Client certificate and key for ``tcp://`` with TLS."""


class DockerSettings(msgspec.Struct, forbid_unknown_fields=True):
    local_url: str = "unix:///var/run/docker.sock"
    """The engine named ``local``; empty turns it off."""
    engines: dict[str, EngineConfig] = msgspec.field(default_factory=dict)
    """More engines by name (more can be added through the API)."""
    timeout: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    """Seconds to wait for an engine's answer (pulls and builds stream, without limit)."""
    compose_command: str = ""
    """The Compose tool; default: ``docker compose`` if present, else ``docker-compose``."""
