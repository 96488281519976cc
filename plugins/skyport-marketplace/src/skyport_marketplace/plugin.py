"""The marketplace plugin's hooks: what it adds to SkyPort, and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skyport.api import (
    DashboardPanel,
    MarketplaceSource,
    PanelColumn,
    Permission,
    PluginContext,
    hookimpl,
)
from skyport_marketplace.settings import MarketplaceSettings


@hookimpl
def register_config() -> type:
    return MarketplaceSettings


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("marketplace:read", "Browse the app catalog and installed apps"),
        Permission("marketplace:install", "Install, update, start, stop and remove apps", "write"),
        Permission("marketplace:admin", "Add, refresh and remove catalog sources", "admin"),
    ]


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def register_marketplace_sources() -> list[MarketplaceSource]:
    from skyport_marketplace.formats import builtin_formats

    return builtin_formats()


@hookimpl
def register_routes() -> list[Any]:
    from skyport_marketplace.api import apps, installed, sources

    return [*sources.ROUTES, *apps.ROUTES, *installed.ROUTES]


@hookimpl
def register_dashboard_panels() -> list[DashboardPanel]:
    return [
        DashboardPanel(
            id="marketplace-installed",
            title="Installed apps",
            kind="table",
            source="/marketplace/installed",
            scope="marketplace:read",
            columns=(
                PanelColumn("name", "Name"),
                PanelColumn("title", "App"),
                PanelColumn("kind", "Kind"),
                PanelColumn("state", "State", "status"),
            ),
        )
    ]


@hookimpl
def register_commands() -> str:
    return "skyport_marketplace.cli:app"


@hookimpl
async def startup(skyport: PluginContext) -> None:
    from skyport_marketplace.jobs import TOPIC
    from skyport_marketplace.state import MarketplaceState

    skyport.add_topic(TOPIC, scope="marketplace:read")
    skyport.state["marketplace"] = await MarketplaceState.start(skyport)


@hookimpl
async def shutdown(skyport: PluginContext) -> None:
    state = skyport.state.pop("marketplace", None)
    if state is not None:
        await state.stop()
