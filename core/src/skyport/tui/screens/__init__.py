"""The areas of the TUI, in the order of their number keys, and the plugin each needs.

Each area's screen is imported when first shown: the first frame needs only the overview.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from skyport.tui.screens.base import AreaScreen


class Area(NamedTuple):
    """A top-level screen: its mode name, its label, the plugin it needs (``None``: core),
    other names ``:`` accepts, and where its screen class is."""

    name: str
    label: str
    plugin: str | None
    aliases: tuple[str, ...]
    screen: str


AREAS = (
    Area("overview", "Overview", None, ("host", "metrics"), "overview:OverviewScreen"),
    Area("containers", "Containers", "docker", ("docker", "ps"), "containers:ContainersScreen"),
    Area("images", "Images", "docker", ("img",), "images:ImagesScreen"),
    Area("stacks", "Stacks", "docker", ("compose",), "images:StacksScreen"),
    Area("pm2", "PM2", "pm2", ("processes", "proc"), "pm2:Pm2Screen"),
    Area("servers", "Servers", "vps", ("vps",), "servers:ServersScreen"),
    Area(
        "marketplace", "Market", "marketplace", ("apps", "market"), "marketplace:MarketplaceScreen"
    ),
)


def screen_of(area: Area) -> AreaScreen:
    """A new screen for ``area`` (its module imported on first use)."""
    module, _, name = area.screen.partition(":")
    screen: AreaScreen = getattr(importlib.import_module(f"{__name__}.{module}"), name)()
    return screen
