"""What plugin authors import: the markers, the contract's types and helpers.

``from skyport.api import hookimpl, MetricsCollector, Permission, …``
"""

from skyport import hookimpl
from skyport.auth.principal import Principal
from skyport.context import PluginContext
from skyport.errors import BackendUnavailable
from skyport.terminals.pty_session import PtySession
from skyport.types import (
    AppTemplate,
    DashboardPanel,
    Deployer,
    DeployResult,
    MarketplaceSource,
    MetricsCollector,
    Migration,
    PanelAction,
    PanelColumn,
    Permission,
    TemplateEnv,
    TemplatePort,
    TerminalProvider,
    TerminalSession,
    TerminalSize,
)

__all__ = [
    "AppTemplate",
    "BackendUnavailable",
    "DashboardPanel",
    "DeployResult",
    "Deployer",
    "MarketplaceSource",
    "MetricsCollector",
    "Migration",
    "PanelAction",
    "PanelColumn",
    "Permission",
    "PluginContext",
    "Principal",
    "PtySession",
    "TemplateEnv",
    "TemplatePort",
    "TerminalProvider",
    "TerminalSession",
    "TerminalSize",
    "hookimpl",
]
