"""The hello plugin's hook implementations: what it contributes, nothing more."""

from __future__ import annotations

from skyport.api import (
    DashboardPanel,
    MetricsCollector,
    PanelColumn,
    Permission,
    PluginContext,
    hookimpl,
)

from skyport_hello import api
from skyport_hello.guestbook import TOPIC, Guestbook
from skyport_hello.models import HelloSettings


@hookimpl
def register_config() -> type:
    return HelloSettings


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("hello:read", "Read greetings and the guest book"),
        Permission("hello:write", "Sign the guest book", level="write"),
    ]


@hookimpl
def register_routes(skyport: PluginContext) -> list[object]:
    return api.routes(Guestbook.of(skyport))


@hookimpl
def register_commands() -> str:
    return "skyport_hello.cli:app"


@hookimpl
def register_metrics_collectors(skyport: PluginContext) -> list[MetricsCollector]:
    book = Guestbook.of(skyport)
    return [MetricsCollector("hello", collect=book.stats, description="Guest book size")]


@hookimpl
def register_dashboard_panels(skyport: PluginContext) -> list[DashboardPanel]:
    return [
        DashboardPanel(
            id="hello-guests",
            title="Guest book",
            kind="table",
            source="/hello/guests",
            columns=(
                PanelColumn("name", "Name"),
                PanelColumn("message", "Greeting"),
                PanelColumn("at", "Signed", format="datetime"),
            ),
            scope="hello:read",
        )
    ]


@hookimpl
async def startup(skyport: PluginContext) -> None:
    skyport.add_topic(TOPIC, scope="hello:read")
