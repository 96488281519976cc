"""The Docker plugin's hooks: what it adds to SkyPort, and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from skyport.api import (
    DashboardPanel,
    Deployer,
    MetricsCollector,
    PanelAction,
    PanelColumn,
    Permission,
    PluginContext,
    TerminalProvider,
    hookimpl,
)
from skyport_docker.settings import DockerSettings


@hookimpl
def register_config() -> type:
    return DockerSettings


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("docker:read", "List and inspect containers, images, volumes, networks, stacks"),
        Permission("docker:write", "Run, change and remove containers, images, stacks", "write"),
        Permission("docker:exec", "Run commands inside containers (root-equivalent)", "admin"),
        Permission(
            "docker:engines",
            "Add and remove Docker engines (the server connects wherever they point)",
            "admin",
        ),
        Permission(
            "docker:host",
            "Containers that reach the host: bind mounts outside the allowed paths, privileged, "
            "host namespaces, capabilities, devices (root-equivalent)",
            "admin",
        ),
    ]


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def register_routes() -> list[Any]:
    from skyport_docker.api import containers, engines, images, networks, stacks, stats, volumes

    return [
        *containers.ROUTES,
        *stats.ROUTES,
        *images.ROUTES,
        *volumes.ROUTES,
        *networks.ROUTES,
        *stacks.ROUTES,
        *engines.ROUTES,
    ]


@hookimpl
def register_metrics_collectors(skyport: PluginContext) -> list[MetricsCollector]:
    from skyport_docker.stats import container_collector

    return [container_collector(skyport)]


@hookimpl
def register_terminals(skyport: PluginContext) -> list[TerminalProvider]:
    from skyport_docker.terminal import DockerExecTerminal

    return [DockerExecTerminal(skyport)]


@hookimpl
def register_deployers(skyport: PluginContext) -> list[Deployer]:
    from skyport_docker.deployers import ContainerDeployer, StackDeployer

    return [ContainerDeployer(skyport), StackDeployer(skyport)]


@hookimpl
def register_dashboard_panels() -> list[DashboardPanel]:
    return [
        DashboardPanel(
            id="docker-containers",
            title="Containers",
            kind="table",
            source="/docker/ps?all=true",
            scope="docker:read",
            columns=(
                PanelColumn("name", "Name"),
                PanelColumn("image", "Image"),
                PanelColumn("state", "State", "status"),
                PanelColumn("status", "Status"),
            ),
            actions=(
                PanelAction(
                    "start", "Start", path="/docker/containers/{id}/start", scope="docker:write"
                ),
                PanelAction(
                    "stop", "Stop", path="/docker/containers/{id}/stop", scope="docker:write"
                ),
                PanelAction(
                    "remove",
                    "Remove",
                    "DELETE",
                    "/docker/containers/{id}?force=true",
                    "docker:write",
                    "Remove this container?",
                ),
            ),
        )
    ]


@hookimpl
def register_commands() -> str:
    return "skyport_docker.cli:app"


@hookimpl
async def startup(skyport: PluginContext) -> None:
    from skyport_docker import events, stats
    from skyport_docker.api import containers, images
    from skyport_docker.engines import EngineRegistry
    from skyport_docker.state import DockerState

    engines = EngineRegistry(skyport.settings, skyport.database)
    await engines.load_saved()
    state = skyport.state["docker"] = DockerState(skyport, engines)
    state.tasks["engines"] = asyncio.create_task(engines.keep_in_step(), name="docker-engines")
    with contextlib.suppress(Exception):  # no engine configured: nothing to show
        skyport.manages(f"Docker engine {engines.get(None).url}")
    skyport.add_topic("docker.events", scope="docker:read", starter=events.follow_events(skyport))
    # A container's logs and stats follow one engine: other nodes' clients use /ws?node=NAME.
    logs, container_stats = containers.follow_logs(skyport), stats.follow_stats(skyport)
    skyport.add_topic("docker.logs:", scope="docker:read", starter=logs, cluster=False)
    skyport.add_topic("docker.stats:", scope="docker:read", starter=container_stats, cluster=False)
    skyport.add_topic("docker.pull:", scope="docker:read", starter=images.pull_progress(skyport))


@hookimpl
async def shutdown(skyport: PluginContext) -> None:
    from skyport_docker.state import docker_state

    state = docker_state(skyport)
    for task in state.tasks.values():
        task.cancel()
    state.engines.close()
