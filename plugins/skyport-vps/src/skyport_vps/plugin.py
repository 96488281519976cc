"""The VPS plugin's hooks: what it adds to SkyPort, and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skyport.api import (
    DashboardPanel,
    MetricsCollector,
    PanelAction,
    PanelColumn,
    Permission,
    PluginContext,
    TerminalProvider,
    hookimpl,
)
from skyport_vps.settings import VpsSettings


@hookimpl
def register_config() -> type:
    return VpsSettings


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("vps:read", "List servers, test connections, read metrics"),
        Permission("vps:run", "Run commands on servers", "write"),
        Permission("vps:write", "Add, change, trust and remove servers", "write"),
        Permission("vps:files", "Read and write files on servers (SFTP)", "write"),
        Permission(
            "vps:local-keys",
            "Log in to servers with the SkyPort server's own key files or SSH agent",
            "admin",
        ),
        Permission("vps:shell", "Open an interactive shell on a server (root-equivalent)", "admin"),
    ]


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def register_routes(skyport: PluginContext) -> list[Any]:
    from skyport_vps.api import files, run, servers

    return [*servers.ROUTES, *run.ROUTES, *files.routes(skyport.settings)]


@hookimpl
def register_metrics_collectors(skyport: PluginContext) -> list[MetricsCollector]:
    from skyport_vps.metrics import vps_collector

    return [vps_collector(skyport)]


@hookimpl
def register_terminals(skyport: PluginContext) -> list[TerminalProvider]:
    from skyport_vps.terminal import SshShellTerminal

    return [SshShellTerminal(skyport)]


@hookimpl
def register_dashboard_panels() -> list[DashboardPanel]:
    return [
        DashboardPanel(
            id="vps-servers",
            title="Servers",
            kind="table",
            source="/vps/servers",
            scope="vps:read",
            columns=(
                PanelColumn("name", "Name"),
                PanelColumn("host", "Host"),
                PanelColumn("user", "User"),
                PanelColumn("tags", "Tags"),
                PanelColumn("trusted", "Host key trusted", "status"),
            ),
            actions=(
                PanelAction(
                    "remove",
                    "Remove",
                    "DELETE",
                    "/vps/servers/{name}",
                    "vps:write",
                    "Remove server {name} and its stored credentials?",
                ),
            ),
        )
    ]


@hookimpl
def register_commands() -> str:
    return "skyport_vps.cli:app"


@hookimpl
async def startup(skyport: PluginContext) -> None:
    from skyport_vps.api.common import KIND
    from skyport_vps.jobs import TOPIC, topic_view
    from skyport_vps.metrics import shared_metrics
    from skyport_vps.state import VpsState

    skyport.state["vps"] = await VpsState.start(skyport)
    shared_metrics(skyport).start()  # one node of a cluster polls the servers: "vps.metrics"
    skyport.add_topic(
        TOPIC, scope="vps:run", view=topic_view(lambda user: skyport.grants.allowed(user, KIND))
    )


@hookimpl
async def shutdown(skyport: PluginContext) -> None:
    state = skyport.state.pop("vps", None)
    if state is not None:
        await state.stop()
