"""The areas of the TUI, in the order of their number keys, and the plugin each needs."""

from __future__ import annotations

from skyport.tui.screens.base import AreaScreen
from skyport.tui.screens.containers import ContainersScreen
from skyport.tui.screens.images import ImagesScreen, StacksScreen
from skyport.tui.screens.overview import OverviewScreen
from skyport.tui.screens.pm2 import Pm2Screen
from skyport.tui.screens.servers import ServersScreen
from skyport.tui.widgets import Area

AREAS = (
    Area("overview", "Overview", None, ("host", "metrics")),
    Area("containers", "Containers", "docker", ("docker", "ps", "co")),
    Area("images", "Images", "docker", ("img",)),
    Area("stacks", "Stacks", "docker", ("compose",)),
    Area("pm2", "PM2", "pm2", ("processes", "proc")),
    Area("servers", "Servers", "vps", ("vps",)),
)
SCREENS: dict[str, type[AreaScreen]] = {
    "overview": OverviewScreen,
    "containers": ContainersScreen,
    "images": ImagesScreen,
    "stacks": StacksScreen,
    "pm2": Pm2Screen,
    "servers": ServersScreen,
}
