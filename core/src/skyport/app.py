"""``create_app()``: the Litestar application, assembled from the core and plugins."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from litestar import Litestar, Router
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.status_codes import HTTP_404_NOT_FOUND, HTTP_500_INTERNAL_SERVER_ERROR

from skyport import dashboard, openapi
from skyport.assembly import gather_contributions
from skyport.audit import AuditLog
from skyport.auth import admin_routes
from skyport.auth import routes as auth_routes
from skyport.auth.grants import ResourceGrants
from skyport.auth.keys import derive_key, load_master_key
from skyport.auth.live import LiveSessions
from skyport.auth.middleware import AuditMiddleware, SkyportAuthMiddleware
from skyport.auth.passwords import password_problem
from skyport.auth.roles import RoleBook
from skyport.auth.service import AuthService
from skyport.auth.users import UserBook
from skyport.broker import Broker
from skyport.cluster import routes as cluster_routes
from skyport.cluster.leader import Leadership
from skyport.cluster.member import ClusterMember, advertised_url, asyncpg_dsn, node_name
from skyport.cluster.nodes import NodeBook
from skyport.cluster.routing import NodeRouter, NodeTrust
from skyport.cluster.routing import Router as NodeForwarder
from skyport.config import ConfigError, Settings, load_settings
from skyport.context import CoreServices, PluginContext
from skyport.datadir import prepare_data_dir
from skyport.errors import unexpected_error
from skyport.metrics import DETAILS_TOPIC
from skyport.metrics.grants import MetricsGrants
from skyport.metrics.history import MetricsHistory
from skyport.metrics.hub import MetricsHub
from skyport.plugins import PluginManager
from skyport.realtime import live
from skyport.registry import Registry
from skyport.routes import core_routes
from skyport.store import Database
from skyport.store.database import unavailable_database
from skyport.terminals import bridge as terminal_routes

log = logging.getLogger("skyport")


def create_app(
    settings: Settings | None = None,
    *,
    plugins: PluginManager | None = None,
    logging_config: LoggingConfig | None = None,
    node: bool = False,
) -> Litestar:
    """Build the application: core routes, every active plugin's routes, lifecycle.

    ``logging_config`` replaces Litestar's (the CLI's in-process server logs
    one-line warnings, see :data:`CLI_LOGGING`). ``node``: this is a server of the
    cluster (``skyport serve``): it registers, heartbeats and joins the others.
    """
    settings = settings or load_settings()
    manager = plugins or PluginManager(
        disabled=settings.plugins.disabled, strict=settings.plugins.strict
    )
    manager.load()
    if (first_password := os.environ.get("SKYPORT_ADMIN_PASSWORD")) and (
        problem := password_problem(first_password)
    ):
        raise ConfigError(f"SKYPORT_ADMIN_PASSWORD: {problem}")
    prepare_data_dir(settings.data_path, settings.database_url)
    database = Database(settings.database_url)
    name = node_name(settings)
    broker = Broker(node=name if node else "")
    registry = Registry()
    master_key = load_master_key(settings.data_path)
    dsn = asyncpg_dsn(settings.database_url) if node else None
    leadership = Leadership(dsn, retry=settings.cluster.heartbeat_seconds)
    services = CoreServices(
        settings,
        database,
        broker,
        ResourceGrants(database),
        AuditLog(database, publish=broker.publish),
        registry,
        leadership,
    )
    contexts = gather_contributions(manager, services, master_key)
    context_for: Callable[[str], PluginContext] = contexts.__getitem__
    users = UserBook(database)
    auth = AuthService(
        database, settings.auth, derive_key(master_key, "jwt"), users, RoleBook(database, registry)
    )
    live_sessions = LiveSessions(auth, settings.auth.revocation_check_seconds)
    nodes = NodeBook(database, name, advertised_url(settings), settings.cluster.down_after_seconds)
    router = NodeForwarder(nodes, derive_key(master_key, "cluster"))
    member = (
        ClusterMember(
            settings,
            database,
            nodes,
            broker,
            auth,
            live_sessions,
            leadership,
            services.node_resources,
        )
        if node
        else None
    )
    history = (
        MetricsHistory(interval=settings.metrics.interval) if settings.metrics.history else None
    )
    hub = MetricsHub(
        registry.collectors,
        interval=settings.metrics.interval,
        history=history,
        publish=broker.publish,
        keep_sampling=settings.metrics.history,
    )
    metrics_grants = MetricsGrants(registry.collectors, services.grants)
    # Metrics are this node's own: they stay with its clients (tagged with its name).
    broker.add_topic(
        "metrics",
        scope="metrics:read",
        starter=hub.listen,
        view=metrics_grants.topic_view,
        cluster=False,
    )
    broker.add_topic(DETAILS_TOPIC, scope="metrics:read", starter=hub.listen_details, cluster=False)
    broker.add_topic("audit", scope="audit:read")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        broker.bind(asyncio.get_running_loop())
        applied = await database.migrate(
            registry.migrations,
            on_failure=lambda name, exc: manager.fail(name, str(exc), exc),
        )
        if applied:
            log.info("database schema: applied %s", ", ".join(applied))
        generated = await users.bootstrap_admin(os.environ.get("SKYPORT_ADMIN_PASSWORD"))
        if generated:
            _announce_admin_password(generated)
        await manager.call_each_async("startup", context_for)
        for name, record in manager.records.items():
            if record.status == "failed":  # its migration or startup failed: leave it all out
                for collector in registry.withdraw(name):
                    hub.remove(collector.name)
                broker.remove_topics(name)
        await hub.start()
        if member is not None:
            await member.join(manager.active)
        background = [
            asyncio.create_task(live_sessions.run()),
            asyncio.create_task(services.audit.keep_flushing()),
            asyncio.create_task(leadership.run()),
        ]
        if member is not None:
            background.append(asyncio.create_task(member.run()))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if member is not None:
                await member.leave()
            await router.close()
            await services.audit.flush(everything=True)
            await hub.stop()
            await manager.call_each_async("shutdown", context_for)
            await broker.close()
            await database.dispose()

    plugin_routers = [
        Router(
            path=f"/api/{name}",
            route_handlers=handlers,
            opt={"plugin": name},
            tags=[name],
            dependencies={"skyport": _provide(contexts[name])},
        )
        for name, handlers in registry.routes.items()
    ]
    app = Litestar(
        logging_config=logging_config or LoggingConfig(),
        route_handlers=[
            *core_routes(settings),
            *cluster_routes.ROUTES,
            Router(path="/api/auth", route_handlers=auth_routes.ROUTES, tags=["auth"]),
            *admin_routes.ROUTES,
            live,
            terminal_routes.terminal_socket,
            *terminal_routes.ROUTES,
            *plugin_routers,
            *dashboard.asset_routes(),
            openapi.swagger_assets(),
        ],
        middleware=[
            *_trusted_proxies(settings),
            NodeTrust,
            SkyportAuthMiddleware,
            NodeRouter,
            AuditMiddleware,
        ],
        lifespan=[lifespan],
        openapi_config=openapi.openapi_config(),
        plugins=[openapi.DocumentedErrors()],
        exception_handlers={
            HTTP_404_NOT_FOUND: dashboard.page_or_not_found(),
            HTTP_500_INTERNAL_SERVER_ERROR: unexpected_error,
            sa.exc.DBAPIError: unavailable_database,
        },
        debug=False,
    )
    app.state.update(
        settings=settings,
        services=services,
        plugins=manager,
        contexts=contexts,
        broker=broker,
        auth=auth,
        live_sessions=live_sessions,
        audit=services.audit,
        hub=hub,
        metrics_grants=metrics_grants,
        history=history,
        started_at=time.time(),
        secure_cookies=_secure_cookies(settings),
        node_name=name,
        nodes=nodes,
        router=router,
        cluster_key=derive_key(master_key, "cluster"),
        member=member,
    )
    return app


def create_node_app() -> Litestar:
    """The application ``skyport serve --reload`` runs: a node, settings from the environment."""
    return create_app(node=True)


CLI_LOGGING = LoggingConfig(
    formatters={"cli": {"format": "skyport: %(levelname)s: %(message)s"}},
    handlers={"cli": {"class": "logging.StreamHandler", "formatter": "cli"}},
    root={"handlers": ["cli"], "level": "WARNING"},
    loggers={"litestar": {"level": "WARNING", "handlers": ["cli"], "propagate": False}},
)
"""Logging for the server the CLI runs in-process: warnings and errors, one line each."""


def _provide(context: PluginContext) -> Provide:
    """Plugin handlers may take a ``skyport: PluginContext`` parameter."""

    def plugin_context() -> PluginContext:
        return context

    return Provide(plugin_context, use_cache=True, sync_to_thread=False)


def _trusted_proxies(settings: Settings) -> list[DefineMiddleware]:
    """Behind the reverse proxies of ``server.forwarded_allow_ips``, the client is the
    address their ``X-Forwarded-For`` gives (anyone else's header is ignored)."""
    if not settings.server.forwarded_allow_ips:
        return []
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    proxies: Any = ProxyHeadersMiddleware  # a plain ASGI middleware: typed for uvicorn's ASGI
    return [DefineMiddleware(proxies, trusted_hosts=list(settings.server.forwarded_allow_ips))]


def _secure_cookies(settings: Settings) -> bool:
    if settings.auth.secure_cookie is not None:
        return settings.auth.secure_cookie
    return bool(settings.server.certfile)


def _announce_admin_password(password: str) -> None:
    # Printed once to the console on purpose, never logged: the log may be shipped elsewhere.
    print(
        "\n"
        "  SkyPort created the first user.\n"
        f"    username: admin\n    password: {password}\n"
        "  It is shown only this once: log in and change it (skyport users passwd admin).\n",
        file=sys.stderr,
        flush=True,
    )
