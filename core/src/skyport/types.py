"""Public types exchanged between the core and plugins through the hooks.

Data travels as msgspec Structs (validated, encodable, documented in the
OpenAPI schema); behaviour is described by Protocols that a plugin implements
with any class it likes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import msgspec

if TYPE_CHECKING:
    from pathlib import Path

    from skyport.auth.principal import Principal
    from skyport.metrics.demand import Demand

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
    ``metrics``, and in ``GET /metrics`` (Prometheus): through ``prometheus``
    when given, else every numeric field as a gauge.

    ``details`` (a :class:`skyport.metrics.demand.Demand`) says when ``collect``
    should also read its costly part: while a client follows the topic
    ``metrics.details:<name>``, or just after ``GET /api/metrics?details=<name>``.
    ``prometheus(data)`` yields ``prometheus_client`` metric families for one
    sample (as plain builtins), for names and types of its own choosing.

    A collector whose samples describe resources that grants limit (servers)
    names the grant ``kind`` and gives ``restrict(data, allowed)``: the part
    of a sample (as plain builtins) a user limited to the ``allowed`` names of
    that kind may see. Every way out of the hub applies it.
    """

    name: str
    collect: CollectFunction
    interval: float | None = None
    description: str = ""
    details: Demand | None = None
    prometheus: Callable[[Any], Iterable[Any]] | None = None
    grant_kind: str = ""
    restrict: Callable[[Any, frozenset[str]], Any] | None = None


# --------------------------------------------------------------------------
# Marketplace: app templates, catalog formats, deployers
# --------------------------------------------------------------------------

TemplateKind = Literal["container", "stack", "node"]
"""A single container, a Compose stack, or a Node.js app run by PM2."""


class EnvChoice(msgspec.Struct, frozen=True):
    """One allowed value of a setting that offers a list."""

    value: str
    label: str = ""


class TemplateEnv(msgspec.Struct, frozen=True):
    """A setting the user fills in when installing: an environment variable of the app."""

    name: str
    label: str = ""
    description: str = ""
    default: str = ""
    choices: tuple[EnvChoice, ...] = ()
    """When given, the value must be one of these ``value`` s."""
    hidden: bool = False
    """A fixed value (``default``) the user is neither asked for nor may change."""
    required: bool = False
    """An install without a value (and without a ``default``) is refused."""
    secret: bool = False
    """A password or key: stored encrypted, never shown back."""


class TemplatePort(msgspec.Struct, frozen=True):
    """A port the app listens on: ``container`` inside, published as ``host`` (if given)."""

    container: int
    host: int | None = None
    protocol: Literal["tcp", "udp"] = "tcp"
    label: str = ""


class TemplateVolume(msgspec.Struct, frozen=True):
    """Where the app keeps data: ``container`` path, bound to ``host`` or a volume of its own."""

    container: str
    host: str = ""
    """A path on the host to bind; empty: a named volume the install creates and owns."""
    read_only: bool = False
    label: str = ""


class ContainerSpec(msgspec.Struct, frozen=True):
    """How to run a ``container`` template."""

    image: str
    command: str = ""
    restart: str = ""
    """``no``, ``always``, ``unless-stopped``, ``on-failure``; empty: the engine's default."""
    network_mode: str = ""
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    """``/dev/x[:/dev/y]`` as ``docker run --device`` takes them."""
    sysctls: dict[str, str] = msgspec.field(default_factory=dict)
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    hostname: str = ""
    interactive: bool = False
    """Keep standard input open and give it a terminal (``-it``)."""


class StackSpec(msgspec.Struct, frozen=True):
    """Where a ``stack`` template's Compose file is: given, at a URL, or in a git repository."""

    compose: str = ""
    """The Compose file itself (YAML)."""
    compose_url: str = ""
    """Fetched at install when ``compose`` is empty: ``https://``, ``file://`` or a path."""
    repository: str = ""
    """Else a git repository (URL or local folder) holding ``stackfile``."""
    stackfile: str = ""
    main_service: str = ""
    """The service whose port is the app's front door."""


class NodeSpec(msgspec.Struct, frozen=True):
    """How to run a ``node`` template: its source, how to install it, what to start."""

    repository: str
    """A git URL, or a folder on the server, holding the app."""
    start: str
    """The script PM2 starts, relative to the app's folder (``server.js``)."""
    install: str = ""
    """A shell command run in the app's folder first (``npm ci --omit=dev``)."""
    ref: str = ""
    """A git branch or tag (default: the repository's own)."""
    instances: int = 1
    """More than one runs the app in PM2's cluster mode."""
    args: tuple[str, ...] = ()


class AppTemplate(msgspec.Struct, frozen=True):
    """One installable application, normalized from any catalog format.

    ``kind`` says which of ``container``, ``stack`` or ``node`` describes how
    to run it. ``description`` and ``note`` are HTML already sanitized: safe to
    show as is.
    """

    id: str
    title: str
    kind: TemplateKind
    source: str = ""
    description: str = ""
    note: str = ""
    categories: tuple[str, ...] = ()
    logo: str = ""
    website: str = ""
    env: tuple[TemplateEnv, ...] = ()
    ports: tuple[TemplatePort, ...] = ()
    volumes: tuple[TemplateVolume, ...] = ()
    container: ContainerSpec | None = None
    stack: StackSpec | None = None
    node: NodeSpec | None = None


class CatalogFiles(msgspec.Struct, frozen=True):
    """A catalog as read from its location: one file (a JSON document) or a whole tree.

    ``files`` maps each file's path (``/``-separated, relative to the catalog's
    root; a single document under its own name) to its bytes.
    """

    location: str
    files: dict[str, bytes]


class SkippedTemplate(msgspec.Struct, frozen=True):
    """An entry of a catalog that could not be made a template, and why."""

    item: str
    """Which entry: ``templates[12] "Foo"``, ``Apps/Foo/docker-compose.yml`` …"""
    reason: str


class CatalogParse(msgspec.Struct, frozen=True):
    """What a catalog format made of a catalog: templates, and the entries it skipped."""

    templates: list[AppTemplate]
    skipped: list[SkippedTemplate] = msgspec.field(default_factory=list)


@runtime_checkable
class MarketplaceSource(Protocol):
    """A catalog format (Portainer templates, a CasaOS store …) the marketplace can read.

    Sources of this ``type`` are configured by URL or path; the marketplace
    fetches them (caching, ETag, zip files, folders) and hands the files to
    :meth:`parse`, in a worker thread.
    """

    type: str
    description: str

    def parse(self, catalog: CatalogFiles) -> CatalogParse:
        """Every template of the catalog, each with an ``id`` unique and stable within it.

        Entries that cannot be used are skipped with a reason; nothing raises
        for one bad entry. Raise ``ValueError`` when the files are not this
        format at all.
        """
        ...


class Requirement(msgspec.Struct, frozen=True):
    """A scope a user needs to install a template, and why (shown before installing)."""

    scope: str
    reason: str


@dataclass(frozen=True)
class ImageBuild:
    """Build a ``container`` template's image (its ``image`` is the tag) instead of pulling it."""

    context: Path
    """The folder sent to the engine as the build context: the calling plugin's own copy of
    the app's files (an upload it unpacked, a checkout it made), never a path a user named."""
    dockerfile: str = "Dockerfile"
    """The Dockerfile's path inside ``context``."""


@dataclass(frozen=True)
class DeployRequest:
    """One install (or update) of a template, as a deployer receives it."""

    name: str
    """What the user called the install: the container's, stack's or process's name."""
    template: AppTemplate
    values: Mapping[str, str]
    """Every ``env`` setting's value, checked against the template (hidden ones included)."""
    user: Principal
    """Who installs: deployers apply their backend's policies for this user."""
    build: ImageBuild | None = None
    """Set by the calling plugin (never from a catalog): build the image from these files."""


class DeployResult(msgspec.Struct, frozen=True):
    """What a deployer created; ``resource_id`` is what its other methods receive later."""

    deployer: str
    resource_id: str
    message: str = ""


AppState = Literal["running", "stopped", "partial", "missing"]


class AppStatus(msgspec.Struct, frozen=True):
    """An installed app's live state: ``partial`` when only some of it runs."""

    state: AppState
    detail: str = ""


class ProgressCallback(Protocol):
    """Reports a step of a deploy: ``progress("pulling nginx", 0.4)`` (fraction optional)."""

    def __call__(self, step: str, fraction: float | None = None) -> None: ...


@runtime_checkable
class Deployer(Protocol):
    """Installs templates of some ``kinds`` on a backend (a container, a stack, a PM2 app).

    Every method may raise Litestar HTTP exceptions (a 403 from a policy, a
    503 when the backend is down); :meth:`deploy` and :meth:`update` leave
    nothing behind when they fail.
    """

    name: str
    kinds: frozenset[str]

    def requirements(self, template: AppTemplate) -> list[Requirement]:
        """The scopes installing ``template`` needs beyond ``marketplace:install``, and why."""
        ...

    async def deploy(self, request: DeployRequest, progress: ProgressCallback) -> DeployResult:
        """Install the template; report steps to ``progress``; undo it all on failure."""
        ...

    async def update(
        self, request: DeployRequest, resource_id: str, progress: ProgressCallback
    ) -> DeployResult:
        """Fetch the newest image or code and recreate, keeping the app's data."""
        ...

    async def status(self, resource_id: str) -> AppStatus: ...

    async def start(self, resource_id: str) -> AppStatus: ...

    async def stop(self, resource_id: str) -> AppStatus: ...

    async def remove(self, resource_id: str, *, keep_data: bool = True) -> None:
        """Remove exactly what :meth:`deploy` created (its data too unless ``keep_data``)."""
        ...


@runtime_checkable
class DeployerLogs(Protocol):
    """A :class:`Deployer` that can also show what an app printed (optional: check with
    ``isinstance(deployer, DeployerLogs)``)."""

    async def logs(self, resource_id: str, lines: int) -> list[str]:
        """The last ``lines`` lines the app wrote (its output and errors), oldest first."""
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
