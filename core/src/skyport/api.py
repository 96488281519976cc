"""What plugin authors import: the markers, the contract's types and helpers.

``from skyport.api import hookimpl, MetricsCollector, Permission, …``

Each name is imported when it is first asked for, so a plugin module that
only declares its hooks (as ``skyport <plugin> --help`` imports it) does not
pull in Litestar, cryptography or the PTY code it never uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar.di import NamedDependency
    from litestar.params import SkipValidation

    from skyport import hookimpl
    from skyport.auth.keys import hkdf
    from skyport.auth.principal import Principal
    from skyport.context import PluginContext
    from skyport.errors import BackendUnavailable
    from skyport.progress import Step, StepReporter
    from skyport.secretbox import SecretBox, SecretDecryptError
    from skyport.terminals.handover import OutputHandover
    from skyport.terminals.pty_session import PtySession
    from skyport.types import (
        AppState,
        AppStatus,
        AppTemplate,
        CatalogFiles,
        CatalogParse,
        ContainerSpec,
        DashboardPanel,
        Deployer,
        DeployerLogs,
        DeployRequest,
        DeployResult,
        EnvChoice,
        ImageBuild,
        MarketplaceSource,
        MetricsCollector,
        NodeSpec,
        PanelAction,
        PanelColumn,
        Permission,
        ProgressCallback,
        Requirement,
        SkippedTemplate,
        StackSpec,
        TemplateEnv,
        TemplatePort,
        TemplateVolume,
        TerminalProvider,
        TerminalSession,
        TerminalSize,
    )

    SkyportContext = NamedDependency[SkipValidation[PluginContext]]

_HOMES = {
    "AppState": "skyport.types",
    "AppStatus": "skyport.types",
    "AppTemplate": "skyport.types",
    "CatalogFiles": "skyport.types",
    "CatalogParse": "skyport.types",
    "ContainerSpec": "skyport.types",
    "DashboardPanel": "skyport.types",
    "DeployRequest": "skyport.types",
    "DeployResult": "skyport.types",
    "Deployer": "skyport.types",
    "DeployerLogs": "skyport.types",
    "EnvChoice": "skyport.types",
    "ImageBuild": "skyport.types",
    "MarketplaceSource": "skyport.types",
    "MetricsCollector": "skyport.types",
    "NodeSpec": "skyport.types",
    "PanelAction": "skyport.types",
    "PanelColumn": "skyport.types",
    "Permission": "skyport.types",
    "ProgressCallback": "skyport.types",
    "Requirement": "skyport.types",
    "SkippedTemplate": "skyport.types",
    "StackSpec": "skyport.types",
    "TemplateEnv": "skyport.types",
    "TemplatePort": "skyport.types",
    "TemplateVolume": "skyport.types",
    "TerminalProvider": "skyport.types",
    "TerminalSession": "skyport.types",
    "TerminalSize": "skyport.types",
    "hookimpl": "skyport",
    "hkdf": "skyport.auth.keys",
    "Principal": "skyport.auth.principal",
    "PluginContext": "skyport.context",
    "BackendUnavailable": "skyport.errors",
    "Step": "skyport.progress",
    "StepReporter": "skyport.progress",
    "SecretBox": "skyport.secretbox",
    "SecretDecryptError": "skyport.secretbox",
    "OutputHandover": "skyport.terminals.handover",
    "PtySession": "skyport.terminals.pty_session",
}
"""Where each public name lives."""


def __getattr__(name: str) -> Any:
    if name == "SkyportContext":
        # Annotate a route handler's ``skyport`` parameter with this to receive the
        # plugin's PluginContext (the core injects it into every plugin route).
        from litestar.di import NamedDependency
        from litestar.params import SkipValidation

        from skyport.context import PluginContext

        value: Any = NamedDependency[SkipValidation[PluginContext]]
    elif name in _HOMES:
        value = getattr(import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'skyport.api' has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "AppState",
    "AppStatus",
    "AppTemplate",
    "BackendUnavailable",
    "CatalogFiles",
    "CatalogParse",
    "ContainerSpec",
    "DashboardPanel",
    "DeployRequest",
    "DeployResult",
    "Deployer",
    "DeployerLogs",
    "EnvChoice",
    "ImageBuild",
    "MarketplaceSource",
    "MetricsCollector",
    "NodeSpec",
    "OutputHandover",
    "PanelAction",
    "PanelColumn",
    "Permission",
    "PluginContext",
    "Principal",
    "ProgressCallback",
    "PtySession",
    "Requirement",
    "SecretBox",
    "SecretDecryptError",
    "SkippedTemplate",
    "SkyportContext",
    "StackSpec",
    "Step",
    "StepReporter",
    "TemplateEnv",
    "TemplatePort",
    "TemplateVolume",
    "TerminalProvider",
    "TerminalSession",
    "TerminalSize",
    "hkdf",
    "hookimpl",
]
