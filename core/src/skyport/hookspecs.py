"""The plugin contract: every hook a SkyPort plugin can implement.

A plugin is a module (found through the ``skyport`` entry-point group) whose
functions are decorated with ``@skyport.hookimpl`` and named after a hook
below. The entry point's name is the plugin's name: its URL prefix
(``/api/<name>``), its CLI command (``skyport <name>``) and its config section.

Hooks that need the running system take one argument, ``skyport``: a
:class:`skyport.context.PluginContext` bound to the calling plugin (its
settings, the database, the event publisher, a logger, resource grants, the
audit log). An implementation may accept fewer arguments than the spec
offers. Each hook is called one plugin at a time: a plugin whose hook raises
is recorded as failed and left out, and the rest keep working.

This module is documented hook by hook in ``docs/plugins.md``; a test keeps
the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from skyport import hookspec

if TYPE_CHECKING:
    import os

    import cyclopts

    from skyport.context import PluginContext
    from skyport.types import (
        DashboardPanel,
        Deployer,
        MarketplaceSource,
        MetricsCollector,
        Permission,
        TerminalProvider,
    )

# ---------------------------------------------------------------------------
# Configuration and schema: called before anything runs
# ---------------------------------------------------------------------------


@hookspec
def register_config() -> type | None:
    """Declare the type of the plugin's settings section.

    Return a msgspec Struct class whose fields all have defaults. The section
    named after the plugin in the config file (and ``SKYPORT_<NAME>__<KEY>``
    environment variables) is validated against it; the instance is handed to
    the plugin as ``skyport.settings``.

    Called: once, first of all, when the application is assembled (server
    start, or the CLI's in-process mode).

    Example::

        class DockerSettings(msgspec.Struct):
            socket: str = "unix:///var/run/docker.sock"

        @hookimpl
        def register_config():
            return DockerSettings
    """


@hookspec
def register_migrations() -> str | os.PathLike[str] | None:
    """Name the folder of the plugin's Alembic revision scripts (its schema history).

    The first revision has ``down_revision = None`` and ``branch_labels =
    ("<plugin name>",)``; start the ``revision`` ids with the plugin's name,
    as its table names do. Each revision's DDL is frozen: a later change is a
    new revision (``op.add_column``, or ``op.batch_alter_table`` for SQLite),
    never an edit of an old one. Revisions are applied once, at start-up (or
    by ``skyport db upgrade``), under a lock shared by every server on the
    database; a plugin whose revision fails is left out, the rest keeps working.

    Called: once per start-up, before ``startup``.

    Example::

        # skyport_notes/migrations/notes_0001_items.py (its docstring: the description)
        import sqlalchemy as sa
        from alembic import op

        revision = "notes_0001"
        down_revision = None
        branch_labels = ("notes",)

        def upgrade():
            op.create_table("notes_items", sa.Column("id", sa.Integer, primary_key=True))

        # skyport_notes/plugin.py
        @hookimpl
        def register_migrations():
            return Path(__file__).parent / "migrations"
    """


@hookspec
def register_permissions() -> Sequence[Permission] | None:
    """Declare the scopes the plugin defines, e.g. ``docker:read``.

    Built-in roles receive scopes by their ``level``: ``viewer`` every
    ``read`` scope, ``operator`` also every ``write`` scope, ``admin`` all.
    Routes and terminals name the scope they require.

    Called: once, when the application is assembled.

    Example::

        @hookimpl
        def register_permissions():
            return [Permission("docker:read", "List containers and images"),
                    Permission("docker:write", "Change containers", level="write")]
    """


# ---------------------------------------------------------------------------
# Application assembly: called by create_app(), plugin by plugin
# ---------------------------------------------------------------------------


@hookspec
def register_routes(skyport: PluginContext) -> Sequence[Any] | None:
    """Contribute HTTP and WebSocket handlers (Litestar handlers or Controllers).

    They are mounted under ``/api/<plugin>`` behind authentication. Each
    handler names the scope it needs with ``opt={"scope": "docker:write"}``;
    without one, reading (GET) needs ``<plugin>:read`` and anything else
    ``<plugin>:write``. Every non-GET request is recorded in the audit log.

    Called: once, when the application is assembled.

    Example::

        @get("/ps", opt={"scope": "docker:read"})
        async def ps() -> list[ContainerSummary]: ...

        @hookimpl
        def register_routes(skyport):
            return [ps]
    """


@hookspec
def register_metrics_collectors(skyport: PluginContext) -> Sequence[MetricsCollector] | None:
    """Contribute live metrics sources sampled by the metrics hub.

    Called: once, when the application is assembled.

    Example::

        @hookimpl
        def register_metrics_collectors(skyport):
            return [MetricsCollector(name="containers", collect=sample_containers)]
    """


@hookspec
def register_marketplace_sources(skyport: PluginContext) -> Sequence[MarketplaceSource] | None:
    """Contribute catalog formats the marketplace can read (Portainer templates, app stores …).

    Each :class:`~skyport.types.MarketplaceSource` has a ``type`` (what a
    source names in ``{"type": …}``) and ``parse(catalog)``, which turns the
    catalog's files into :class:`~skyport.types.AppTemplate` s and skips, with
    a reason, what it cannot use. Fetching, caching and refreshing are the
    marketplace's.

    Called: once, when the application is assembled; the marketplace plugin
    reads them through ``skyport.registry.marketplace_sources``.

    Example::

        class TeamCatalog:
            type = "team"
            description = "our team's app list"

            def parse(self, catalog):
                (body,) = catalog.files.values()
                return CatalogParse([AppTemplate(**a) for a in json.loads(body)])

        @hookimpl
        def register_marketplace_sources(skyport):
            return [TeamCatalog()]
    """


@hookspec
def register_deployers(skyport: PluginContext) -> Sequence[Deployer] | None:
    """Contribute deploy targets for app templates (a container, a compose stack, a PM2 app).

    A :class:`~skyport.types.Deployer` installs templates of its ``kinds``:
    ``deploy(request, progress)`` with a :class:`~skyport.types.DeployRequest`
    (name, template, checked values, and the user, whose policies apply),
    then ``status``, ``start``, ``stop``, ``update`` and ``remove`` of what it
    made; ``requirements(template)`` says which scopes an install needs.

    Called: once, when the application is assembled; the marketplace plugin
    reads them through ``skyport.registry.deployers``.

    Example::

        @hookimpl
        def register_deployers(skyport):
            return [ContainerDeployer(skyport)]
    """


@hookspec
def register_terminals(skyport: PluginContext) -> Sequence[TerminalProvider] | None:
    """Contribute interactive terminal providers for ``WS /ws/terminal``.

    The provider's ``scope`` is checked before it opens a terminal and every
    session is audited.

    Called: once, when the application is assembled.

    Example::

        @hookimpl
        def register_terminals(skyport):
            return [DockerExecTerminal(skyport)]
    """


@hookspec
def register_dashboard_panels(skyport: PluginContext) -> Sequence[DashboardPanel] | None:
    """Contribute declarative dashboard panels (tables, charts, stats).

    Served at ``GET /api/dashboard/panels``, filtered by the user's scopes.

    Called: once, when the application is assembled.

    Example::

        @hookimpl
        def register_dashboard_panels(skyport):
            return [DashboardPanel(id="containers", title="Containers", kind="table",
                                   source="/docker/ps")]
    """


# ---------------------------------------------------------------------------
# Command line: called only when the plugin's command runs
# ---------------------------------------------------------------------------


@hookspec
def register_commands() -> cyclopts.App | str | None:
    """Contribute the plugin's command group, ``skyport <plugin> …``.

    Return a cyclopts ``App`` or a lazy ``"module:attr"`` path to one. The
    root CLI lists the group from the entry point alone, so ``skyport --help``
    imports no plugin code; this hook is called only when the group runs.
    Commands reach the server through :class:`skyport.client.Client`.

    Example::

        @hookimpl
        def register_commands():
            return "skyport_docker.cli:app"
    """


# ---------------------------------------------------------------------------
# Lifecycle: called by the server's lifespan
# ---------------------------------------------------------------------------


@hookspec
async def startup(skyport: PluginContext) -> None:
    """Set up long-lived resources (connections, background tasks).

    May be a coroutine function. A plugin whose startup raises is recorded
    as failed; the server still starts.

    Called: once when the server starts, after migrations, before requests.

    Example::

        @hookimpl
        async def startup(skyport):
            skyport.state["client"] = await connect(skyport.settings.url)
    """


@hookspec
async def shutdown(skyport: PluginContext) -> None:
    """Release what ``startup`` created. May be a coroutine function.

    Called: once when the server stops.

    Example::

        @hookimpl
        async def shutdown(skyport):
            await skyport.state["client"].close()
    """
