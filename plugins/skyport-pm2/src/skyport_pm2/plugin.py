"""The PM2 plugin's hooks: what it adds to SkyPort, and nothing else."""

from __future__ import annotations

from typing import Any

from skyport.api import (
    DashboardPanel,
    Deployer,
    MetricsCollector,
    PanelAction,
    PanelColumn,
    Permission,
    PluginContext,
    hookimpl,
)
from skyport_pm2.settings import Pm2Settings


@hookimpl
def register_config() -> type:
    return Pm2Settings


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("pm2:read", "List and describe PM2 processes, read their logs"),
        Permission("pm2:write", "Start, stop, reload, scale and delete PM2 processes", "write"),
    ]


@hookimpl
def register_routes() -> list[Any]:
    from skyport_pm2.api import ROUTES

    return ROUTES


@hookimpl
def register_metrics_collectors(skyport: PluginContext) -> list[MetricsCollector]:
    from skyport_pm2.metrics import pm2_collector

    return [pm2_collector(skyport)]


@hookimpl
def register_deployers(skyport: PluginContext) -> list[Deployer]:
    from skyport_pm2.deployers import NodeAppDeployer

    return [NodeAppDeployer(skyport)]


@hookimpl
def register_dashboard_panels() -> list[DashboardPanel]:
    def action(verb: str, title: str) -> PanelAction:
        return PanelAction(verb, title, path=f"/pm2/processes/{{pm_id}}/{verb}", scope="pm2:write")

    return [
        DashboardPanel(
            id="pm2-processes",
            title="PM2 processes",
            kind="table",
            source="/pm2/list",
            scope="pm2:read",
            columns=(
                PanelColumn("pm_id", "id"),
                PanelColumn("name", "Name"),
                PanelColumn("status", "Status", "status"),
                PanelColumn("mode", "Mode"),
                PanelColumn("cpu", "CPU", "percent"),
                PanelColumn("memory", "Memory", "bytes"),
                PanelColumn("restarts", "Restarts"),
                PanelColumn("uptime", "Uptime", "duration"),
            ),
            actions=(
                action("start", "Start"),
                action("stop", "Stop"),
                action("restart", "Restart"),
                PanelAction(
                    "delete",
                    "Delete",
                    "DELETE",
                    "/pm2/processes/{pm_id}",
                    "pm2:write",
                    "Stop and delete this process?",
                ),
            ),
        )
    ]


@hookimpl
def register_commands() -> str:
    return "skyport_pm2.cli:app"


@hookimpl
async def startup(skyport: PluginContext) -> None:
    from skyport_pm2 import logs, topics
    from skyport_pm2.service import Pm2Service

    pm2 = skyport.state["pm2"] = Pm2Service(skyport.settings)
    skyport.manages(f"PM2 daemon in {pm2.home.path}")
    skyport.add_topic(topics.EVENTS_TOPIC, scope="pm2:read", starter=topics.follow_events(skyport))
    # A process's logs follow this node's daemon: other nodes' clients use /ws?node=NAME.
    follow_logs = topics.follow_logs(skyport)
    skyport.add_topic(logs.TOPIC_PREFIX, scope="pm2:read", starter=follow_logs, cluster=False)


@hookimpl
async def shutdown(skyport: PluginContext) -> None:
    pm2 = skyport.state.pop("pm2", None)
    if pm2 is not None:
        await pm2.close()
