"""Public types exchanged between the core and plugins through the hooks.

Data travels as msgspec Structs (validated, encodable, documented in the
OpenAPI schema); behaviour is described by Protocols that a plugin implements
with any class it likes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import msgspec

if TYPE_CHECKING:
    from skyport.auth.principal import Principal

# --------------------------------------------------------------------------
# Permissions
# --------------------------------------------------------------------------

PermissionLevel = Literal["read", "write", "admin"]


class Permission(msgspec.Struct, frozen=True):
    """A scope a plugin defines, such as ``docker:read``.

    ``level`` decides which built-in roles receive it: ``viewer`` gets every
    ``read`` scope, ``operator`` every ``read`` and ``write`` scope, ``admin``
    everything. Use ``admin`` for root-equivalent powers (a shell, exec).
    """

    name: str
    description: str
    level: PermissionLevel = "read"


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------

CollectFunction = Callable[[], Any] | Callable[[], Awaitable[Any]]


class MetricsCollector(msgspec.Struct, frozen=True):
    """A source of live metrics sampled by the metrics hub.

    ``collect`` returns a msgspec Struct (or a plain mapping) of the current
    values. A plain function runs in a worker thread; an ``async def`` runs on
    the event loop and must not block. ``interval`` (seconds) overrides the
    hub's default sampling interval for this collector. The snapshot appears
    at ``GET /api/metrics`` under ``name``, on the WebSocket topic
    ``metrics``, and every numeric field in ``GET /metrics`` (Prometheus).
    """

    name: str
    collect: CollectFunction
    interval: float | None = None
    description: str = ""


# --------------------------------------------------------------------------
# Marketplace
# --------------------------------------------------------------------------

TemplateKind = Literal["container", "compose", "node"]


class TemplateEnv(msgspec.Struct, frozen=True):
    """A setting the user fills in when installing an app template."""

    name: str
    label: str = ""
    default: str = ""
    description: str = ""
    secret: bool = False
    required: bool = False


class TemplatePort(msgspec.Struct, frozen=True):
    """A port the app publishes: ``host`` on the machine, ``container`` inside."""

    container: int
    host: int | None = None
    protocol: Literal["tcp", "udp"] = "tcp"


class AppTemplate(msgspec.Struct, frozen=True):
    """One installable application in a marketplace catalog."""

    id: str
    title: str
    kind: TemplateKind
    source: str = ""
    description: str = ""
    categories: tuple[str, ...] = ()
    logo: str = ""
    image: str = ""
    compose: str = ""
    command: str = ""
    ports: tuple[TemplatePort, ...] = ()
    env: tuple[TemplateEnv, ...] = ()
    volumes: tuple[str, ...] = ()
    website: str = ""


@runtime_checkable
class MarketplaceSource(Protocol):
    """A catalog of app templates (a Portainer template file, an app store …)."""

    name: str

    async def fetch(self) -> list[AppTemplate]:
        """Return every template the catalog holds right now."""
        ...


class DeployResult(msgspec.Struct, frozen=True):
    """What a deployer created, so it can be shown and removed later."""

    deployer: str
    resource_id: str
    message: str = ""


ProgressCallback = Callable[[str], None]


@runtime_checkable
class Deployer(Protocol):
    """A deploy target for templates of some ``kinds`` (a container, a stack …)."""

    name: str
    kinds: frozenset[str]

    async def deploy(
        self, template: AppTemplate, values: Mapping[str, str], progress: ProgressCallback
    ) -> DeployResult:
        """Install ``template`` with the user's ``values``; report steps to ``progress``."""
        ...

    async def remove(self, resource_id: str) -> None:
        """Remove what :meth:`deploy` created."""
        ...


# --------------------------------------------------------------------------
# Terminals
# --------------------------------------------------------------------------


class TerminalSize(msgspec.Struct, frozen=True):
    """A terminal's size in character cells."""

    cols: int = 80
    rows: int = 24


@runtime_checkable
class TerminalSession(Protocol):
    """One open pseudo-terminal. ``read`` returns ``b""`` once it has ended."""

    async def read(self) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def resize(self, size: TerminalSize) -> None: ...

    async def close(self) -> None: ...


@runtime_checkable
class TerminalProvider(Protocol):
    """Opens interactive terminals (a host shell, ``docker exec``, an SSH shell).

    ``scope`` is checked before :meth:`open` is called; ``target`` is the
    provider's own notion of where to open it (a container id, a server name);
    ``user`` is who asks, for per-resource checks
    (``await skyport.grants.allows(user, "vps", target)``).
    """

    name: str
    scope: str
    description: str

    async def open(self, target: str, size: TerminalSize, user: Principal) -> TerminalSession: ...


# --------------------------------------------------------------------------
# Dashboard panels
# --------------------------------------------------------------------------


class PanelColumn(msgspec.Struct, frozen=True):
    """One column of a table panel: ``field`` of each row, shown as ``title``."""

    field: str
    title: str
    format: Literal["text", "bytes", "percent", "duration", "datetime", "status"] = "text"


class PanelAction(msgspec.Struct, frozen=True):
    """A button on each row of a table panel.

    ``path`` is an API path template under ``/api``; ``{field}`` placeholders
    are filled from the row. ``scope`` hides the button from users without it.
    """

    id: str
    title: str
    method: Literal["POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = ""
    scope: str = ""
    confirm: str = ""


class DashboardPanel(msgspec.Struct, frozen=True):
    """A declarative dashboard panel for plugins without a page of their own.

    ``kind="table"`` lists rows fetched from ``source`` (an API path under
    ``/api``); ``kind="chart"`` plots numeric ``fields`` of a metrics
    collector named by ``source``; ``kind="stat"`` shows one value.
    """

    id: str
    title: str
    kind: Literal["table", "chart", "stat"]
    source: str
    columns: tuple[PanelColumn, ...] = ()
    actions: tuple[PanelAction, ...] = ()
    fields: tuple[str, ...] = ()
    scope: str = ""
    plugin: str = ""


# --------------------------------------------------------------------------
# Database migrations
# --------------------------------------------------------------------------


class Migration(msgspec.Struct, frozen=True):
    """One schema change a plugin owns, applied once, in order, at start-up.

    ``upgrade`` receives a synchronous SQLAlchemy ``Connection`` inside a
    transaction. ``id`` must never change once released; append new
    migrations, never edit old ones.
    """

    id: str
    upgrade: Callable[[Any], None]
    description: str = ""
