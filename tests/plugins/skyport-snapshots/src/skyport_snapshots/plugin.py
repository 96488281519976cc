"""The hook implementations: routes, scopes, a collector and three panels; no frontend code."""

from __future__ import annotations

from skyport.api import (
    DashboardPanel,
    MetricsCollector,
    PanelAction,
    PanelColumn,
    Permission,
    PluginContext,
    hookimpl,
)

from skyport_snapshots import api
from skyport_snapshots.store import Store


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("snapshots:read", "List snapshots"),
        Permission("snapshots:write", "Take and verify snapshots", level="write"),
        Permission("snapshots:admin", "Delete snapshots", level="admin"),
    ]


@hookimpl
def register_routes(skyport: PluginContext) -> list[object]:
    return api.routes(Store.of(skyport))


@hookimpl
def register_metrics_collectors(skyport: PluginContext) -> list[MetricsCollector]:
    store = Store.of(skyport)
    return [MetricsCollector("snapshots", collect=store.totals, description="Snapshots kept")]


@hookimpl
def register_dashboard_panels() -> list[DashboardPanel]:
    return [
        DashboardPanel(
            id="list",
            title="Snapshots",
            kind="table",
            source="/snapshots/list",
            scope="snapshots:read",
            columns=(
                PanelColumn("name", "Name"),
                PanelColumn("size", "Size", format="bytes"),
                PanelColumn("ratio", "Compressed to", format="percent"),
                PanelColumn("took", "Took", format="duration"),
                PanelColumn("taken", "Taken", format="datetime"),
                PanelColumn("state", "State", format="status"),
            ),
            actions=(
                PanelAction(
                    "verify",
                    "Verify",
                    path="/snapshots/list/{name}/verify",
                    scope="snapshots:write",
                ),
                PanelAction(
                    "delete",
                    "Delete",
                    method="DELETE",
                    path="/snapshots/list/{name}",
                    scope="snapshots:admin",
                    confirm="Delete the snapshot {name}?",
                ),
            ),
        ),
        DashboardPanel(
            id="growth",
            title="Snapshot space",
            kind="chart",
            source="snapshots",
            fields=("size_bytes",),
            scope="snapshots:read",
        ),
        DashboardPanel(
            id="count",
            title="Snapshots kept",
            kind="stat",
            source="snapshots",
            fields=("count",),
            scope="snapshots:read",
        ),
    ]
