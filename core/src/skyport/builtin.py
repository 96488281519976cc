"""The core's own features, registered through the same hooks as any plugin."""

from __future__ import annotations

from skyport import hookimpl
from skyport.context import PluginContext
from skyport.types import MetricsCollector, Permission, TerminalProvider

CORE_PERMISSIONS = (
    Permission("auth:self", "See your own account, log out, change your password"),
    Permission("auth:tokens", "Create and revoke your own API tokens"),
    Permission("status:read", "Server status, plugins and dashboard panels"),
    Permission("metrics:read", "Live and historical metrics, Prometheus endpoint"),
    Permission("users:admin", "Manage users, roles and resource grants", level="admin"),
    Permission("audit:read", "Read the audit log", level="admin"),
    Permission("settings:read", "Read the server's settings (secrets hidden)", level="admin"),
    Permission("host:shell", "Open a shell on the SkyPort host (root-equivalent)", level="admin"),
)


@hookimpl
def register_permissions() -> tuple[Permission, ...]:
    return CORE_PERMISSIONS


@hookimpl
def register_metrics_collectors(skyport: PluginContext) -> list[MetricsCollector]:
    from skyport.metrics.host import host_collector

    return [host_collector(top_processes=skyport.config.metrics.top_processes)]


@hookimpl
def register_terminals(skyport: PluginContext) -> list[TerminalProvider]:
    """The host shell, only when ``terminal.host_shell`` is on."""
    if not skyport.config.terminal.host_shell:
        return []
    from skyport.terminals.host import HostShell

    return [HostShell(skyport.config.terminal.shell)]
