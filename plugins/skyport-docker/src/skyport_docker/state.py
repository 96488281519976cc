"""The plugin's running state, kept in ``skyport.state["docker"]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skyport.api import PluginContext
from skyport_docker.engines import EngineRegistry
from skyport_docker.settings import DockerSettings


@dataclass
class DockerState:
    skyport: PluginContext
    engines: EngineRegistry
    tasks: dict[str, Any] = field(default_factory=dict)
    """Background work by name (event watchers, pulls) for shutdown to stop."""
    left_out: set[str] = field(default_factory=set)
    """Engines ``engine=all`` listings leave out now (logged when this changes)."""

    @property
    def settings(self) -> DockerSettings:
        return self.skyport.settings


def docker_state(skyport: PluginContext) -> DockerState:
    """The state ``startup`` created; route handlers get ``skyport`` injected."""
    return skyport.state["docker"]
