"""What plugin authors import: the markers, the contract's types and helpers.

``from skyport.api import hookimpl, MetricsCollector, Permission, …``
"""

from litestar.di import NamedDependency
from litestar.params import SkipValidation

from skyport import hookimpl
from skyport.auth.principal import Principal
from skyport.context import PluginContext
from skyport.errors import BackendUnavailable
from skyport.secretbox import SecretBox, SecretDecryptError
from skyport.terminals.handover import OutputHandover
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

SkyportContext = NamedDependency[SkipValidation[PluginContext]]
"""Annotate a route handler's ``skyport`` parameter with this to receive the
plugin's :class:`PluginContext` (the core injects it into every plugin route)."""

__all__ = [
    "AppTemplate",
    "BackendUnavailable",
    "DashboardPanel",
    "DeployResult",
    "Deployer",
    "MarketplaceSource",
    "MetricsCollector",
    "Migration",
    "OutputHandover",
    "PanelAction",
    "PanelColumn",
    "Permission",
    "PluginContext",
    "Principal",
    "PtySession",
    "SecretBox",
    "SecretDecryptError",
    "SkyportContext",
    "TemplateEnv",
    "TemplatePort",
    "TerminalProvider",
    "TerminalSession",
    "TerminalSize",
    "hookimpl",
]
