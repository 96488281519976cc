"""Everything the plugins contributed, gathered once when the app is assembled."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skyport.types import (
    DashboardPanel,
    Deployer,
    MarketplaceSource,
    MetricsCollector,
    Permission,
    TerminalProvider,
)


@dataclass
class Registry:
    """Contributions by kind; each list keeps the plugin that contributed the item."""

    permissions: dict[str, Permission] = field(default_factory=dict)
    collectors: list[MetricsCollector] = field(default_factory=list)
    marketplace_sources: list[MarketplaceSource] = field(default_factory=list)
    deployers: list[Deployer] = field(default_factory=list)
    terminals: dict[str, TerminalProvider] = field(default_factory=dict)
    panels: list[DashboardPanel] = field(default_factory=list)
    routes: dict[str, list[Any]] = field(default_factory=dict)
    migrations: dict[str, Path] = field(default_factory=dict)
    """``plugin name -> folder of its Alembic revisions``."""
    owners: dict[int, str] = field(default_factory=dict)
    """``id(item) -> plugin name`` for every contributed item."""

    def owner(self, item: object) -> str:
        return self.owners.get(id(item), "")

    def withdraw(self, plugin: str) -> list[MetricsCollector]:
        """Take out what ``plugin`` contributed that the running system uses: collectors,
        marketplace sources, deployers, terminals, panels. Returns its collectors."""
        mine = self.owners.get
        gone = [c for c in self.collectors if mine(id(c)) == plugin]
        self.collectors[:] = [c for c in self.collectors if mine(id(c)) != plugin]
        self.marketplace_sources[:] = [s for s in self.marketplace_sources if mine(id(s)) != plugin]
        self.deployers[:] = [d for d in self.deployers if mine(id(d)) != plugin]
        self.panels[:] = [p for p in self.panels if p.plugin != plugin]
        for name, terminal in list(self.terminals.items()):
            if mine(id(terminal)) == plugin:
                del self.terminals[name]
        return gone

    def scopes_at(self, *levels: str) -> frozenset[str]:
        """Every declared scope whose level is one of ``levels``."""
        return frozenset(p.name for p in self.permissions.values() if p.level in levels)
