"""Gathers what every plugin contributes into the :class:`~skyport.registry.Registry`.

Hooks are called plugin by plugin. An item of the wrong type, a duplicate
scope or terminal name, or a hook that raises marks the plugin failed; at the
end every failed plugin's contributions are dropped, so a plugin is either
wholly in or wholly out.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar.controller import Controller
from litestar.handlers import BaseRouteHandler

from skyport.auth.keys import derive_key, plugin_key
from skyport.config import plugin_settings
from skyport.context import CoreServices, PluginContext
from skyport.plugins import PluginManager
from skyport.types import (
    DashboardPanel,
    Deployer,
    MarketplaceSource,
    MetricsCollector,
    Permission,
    TerminalProvider,
)


class Contexts(dict[str, PluginContext]):
    """Plugin name -> its context, built on first use."""

    def __init__(
        self, services: CoreServices, config_types: dict[str, type], master_key: bytes
    ) -> None:
        super().__init__()
        self.services = services
        self.config_types = config_types
        self._master_key = master_key

    def __missing__(self, name: str) -> PluginContext:
        settings_type = self.config_types.get(name)
        settings = (
            plugin_settings(self.services.settings, name, settings_type) if settings_type else None
        )
        context = PluginContext(
            name,
            settings,
            self.services,
            logging.getLogger(f"skyport.{name}"),
            key=plugin_key(self._master_key, name),
            # 0.1.0 sealed plugin secrets with this key: still readable, resealed on use
            previous_secrets_keys=(derive_key(self._master_key, f"secrets:{name}"),),
        )
        self[name] = context
        return context


def migration_folders(manager: PluginManager) -> dict[str, Path]:
    """``plugin -> folder of its revisions``, from each active plugin's ``register_migrations``.

    A plugin that answers something other than a folder is recorded as failed.
    """
    folders = {}
    for name, folder in manager.call_each("register_migrations"):
        if isinstance(folder, (str, os.PathLike)) and Path(folder).is_dir():
            folders[name] = Path(folder)
        else:
            manager.fail(name, f"register_migrations returned {folder!r}, not a folder")
    return folders


def gather_contributions(
    manager: PluginManager, services: CoreServices, master_key: bytes
) -> Contexts:
    """Call every registration hook; fill ``services.registry``; return the contexts
    (each with its plugin's own key, derived from ``master_key``)."""
    config_types = {}
    for name, settings_type in manager.call_each("register_config"):
        if isinstance(settings_type, type):
            config_types[name] = settings_type
        else:
            manager.fail(name, f"register_config returned {settings_type!r}, not a class")
    contexts = Contexts(services, config_types, master_key)
    for name in manager.active:
        contexts[name]  # validate every plugin's settings now: bad config stops start-up
    registry = services.registry
    registry.migrations = migration_folders(manager)
    gathered: dict[str, dict[str, list[Any]]] = {}

    def take(hook: str, kind: type | tuple[type, ...], with_context: bool = True) -> None:
        context_for: Callable[[str], PluginContext] | None = (
            contexts.__getitem__ if with_context else None
        )
        for name, items in manager.call_each(hook, context_for):
            items = list(items) if isinstance(items, (list, tuple)) else [items]
            wrong = [i for i in items if not isinstance(i, kind)]
            if wrong:
                manager.fail(name, f"{hook} returned {wrong[0]!r}, expected {_kind_name(kind)}")
                continue
            gathered.setdefault(name, {})[hook] = items

    take("register_permissions", Permission, with_context=False)
    take("register_routes", (BaseRouteHandler, type))
    take("register_metrics_collectors", MetricsCollector)
    take("register_marketplace_sources", MarketplaceSource)
    take("register_deployers", Deployer)
    take("register_terminals", TerminalProvider)
    take("register_dashboard_panels", DashboardPanel)
    _check_routes(manager, gathered)
    _check_unique(manager, gathered, "register_permissions", lambda p: p.name, "scope")
    _check_unique(manager, gathered, "register_terminals", lambda t: t.name, "terminal")
    _check_unique(manager, gathered, "register_metrics_collectors", lambda c: c.name, "collector")

    for name in manager.active:
        found = gathered.get(name, {})
        for permission in found.get("register_permissions", []):
            registry.permissions[permission.name] = permission
        if found.get("register_routes"):
            registry.routes[name] = found["register_routes"]
        registry.collectors += found.get("register_metrics_collectors", [])
        registry.marketplace_sources += found.get("register_marketplace_sources", [])
        registry.deployers += found.get("register_deployers", [])
        for terminal in found.get("register_terminals", []):
            registry.terminals[terminal.name] = terminal
        registry.panels += [
            p if p.plugin else _with_plugin(p, name)
            for p in found.get("register_dashboard_panels", [])
        ]
        for items in found.values():
            for item in items:
                registry.owners[id(item)] = name
    return contexts


def _check_routes(manager: PluginManager, gathered: dict[str, dict[str, list[Any]]]) -> None:
    for name, found in gathered.items():
        for item in found.get("register_routes", []):
            if isinstance(item, type) and not issubclass(item, Controller):
                manager.fail(
                    name, f"register_routes returned {item!r}, not a handler or Controller"
                )
                break


def _check_unique(
    manager: PluginManager,
    gathered: dict[str, dict[str, list[Any]]],
    hook: str,
    key: Callable[[Any], str],
    what: str,
) -> None:
    owners: dict[str, str] = {}
    for name in manager.active:
        for item in gathered.get(name, {}).get(hook, []):
            other = owners.setdefault(key(item), name)
            if other != name:
                manager.fail(name, f"{what} {key(item)!r} is already declared by plugin {other!r}")
                break


def _with_plugin(panel: DashboardPanel, plugin: str) -> DashboardPanel:
    import msgspec

    return msgspec.structs.replace(panel, plugin=plugin)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)
