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
    allowed_bind_paths: list[str] = msgspec.field(default_factory=list)
    """Host directories users without ``docker:host`` may bind-mount on the local engine
    (absolute paths; default none). The Docker socket and SkyPort's data dir never."""
    allow_host_network: bool = True
    """Whether users without ``docker:host`` may use ``network_mode: host`` (the host's
    network stack, hence services listening on its 127.0.0.1)."""

    def __post_init__(self) -> None:
        relative = [p for p in self.allowed_bind_paths if not p.startswith("/")]
        if relative:
            raise ValueError(f"allowed_bind_paths must be absolute paths, not {relative[0]!r}")
