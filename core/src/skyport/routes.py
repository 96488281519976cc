"""The core's own HTTP routes: health, status, plugins, panels and metrics."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, QueryParameter

from skyport import __version__
from skyport.auth.principal import Principal
from skyport.config import Settings, shown_settings
from skyport.metrics.history import HistoryPoint
from skyport.metrics.prometheus import broker_families, render_prometheus
from skyport.plugins import PluginRecord
from skyport.store.database import DatabaseUnavailable
from skyport.types import DashboardPanel

READY_TIMEOUT = 3.0
"""Seconds the readiness probe waits for the database."""

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4"
"""Prometheus text format (Litestar adds ``; charset=utf-8`` to text types)."""


class Health(msgspec.Struct, frozen=True):
    status: str


class FailedPlugin(msgspec.Struct, frozen=True):
    name: str
    error: str


class PluginSummary(msgspec.Struct, frozen=True):
    loaded: list[str]
    failed: list[FailedPlugin]
    disabled: list[str]


class Status(msgspec.Struct, frozen=True):
    version: str
    hostname: str
    uptime_seconds: float
    started_at: float
    plugins: PluginSummary


class History(msgspec.Struct, frozen=True):
    collector: str
    minutes: float
    interval: float
    points: list[HistoryPoint]


@get("/api/health", exclude_from_auth=True, tags=["status"], cache_control=None)
async def health() -> Health:
    """Liveness probe: answers while the server runs. Needs no login. (Like every
    answer, it names the node that gave it in ``X-Skyport-Node``.)"""
    return Health("ok")


@get(
    "/api/health/ready",
    exclude_from_auth=True,
    tags=["status"],
    cache_control=None,
)
async def ready(request: Request[Any, Any, Any]) -> Health:
    """Readiness probe (for load balancers): answers 200 while the database answers too,
    else 503 naming it. Needs no login."""
    database = request.app.state.services.database
    try:
        async with database.connect() as conn:
            await asyncio.wait_for(conn.execute(sa.text("SELECT 1")), READY_TIMEOUT)
    except TimeoutError as exc:
        raise DatabaseUnavailable(database.url, exc) from None
    return Health("ok")


@get("/api/status", opt={"scope": "status:read"}, tags=["status"])
async def status(request: Request[Any, Any, Any]) -> Status:
    started: float = request.app.state.started_at
    records: dict[str, PluginRecord] = request.app.state.plugins.records
    summary = PluginSummary(
        loaded=[n for n, r in records.items() if r.status == "loaded"],
        failed=[FailedPlugin(n, r.error or "") for n, r in records.items() if r.status == "failed"],
        disabled=[n for n, r in records.items() if r.status == "disabled"],
    )
    return Status(__version__, socket.gethostname(), time.time() - started, started, summary)


@get("/api/plugins", opt={"scope": "status:read"}, tags=["status"])
async def plugins(request: Request[Any, Any, Any]) -> list[PluginRecord]:
    return list(request.app.state.plugins.records.values())


@get("/api/settings", opt={"scope": "settings:read"}, tags=["status"])
async def effective_settings(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The server's effective settings, as ``skyport config show`` prints them (secrets hidden)."""
    return shown_settings(request.app.state.settings)


@get("/api/dashboard/panels", opt={"scope": "status:read"}, tags=["status"])
async def panels(request: Request[Principal, Any, Any]) -> list[DashboardPanel]:
    """Declarative panels contributed by plugins, those the user may see."""
    registry = request.app.state.services.registry
    active = set(request.app.state.plugins.active)
    return [
        p
        for p in registry.panels
        if p.plugin in active and (not p.scope or request.user.has_scope(p.scope))
    ]


@get("/api/metrics", opt={"scope": "metrics:read"}, tags=["metrics"])
async def metrics(
    request: Request[Any, Any, Any],
    details: Annotated[
        list[str] | None,
        QueryParameter(
            description="Collectors whose costly details to include (host: the top processes)"
        ),
    ] = None,
) -> dict[str, Any]:
    """The latest snapshot of every metrics collector (served from memory)."""
    try:
        snapshot = await request.app.state.hub.snapshot(details or ())
    except LookupError as exc:
        raise ValidationException(str(exc)) from None
    return await request.app.state.metrics_grants.snapshot(snapshot, request.user)


@get("/api/metrics/history", opt={"scope": "metrics:read"}, tags=["metrics"])
async def metrics_history(
    request: Request[Any, Any, Any],
    collector: FromQuery[str] = "host",
    minutes: Annotated[float, QueryParameter(gt=0, le=1440)] = 10,
) -> History:
    """Past samples of one collector: the last hour at full rate, 24 h per minute."""
    history, hub = request.app.state.history, request.app.state.hub
    if collector not in hub.collectors:
        raise NotFoundException(f"no metrics collector {collector!r}")
    if history is None:
        raise NotFoundException("metrics history is off (metrics.history: false)")
    interval = next(c["interval"] for c in hub.describe() if c["name"] == collector)
    restrict = await request.app.state.metrics_grants.restrictor(request.user)
    if restrict is None:
        return History(collector, minutes, interval, history.query(collector, minutes, raw=True))
    points = [
        HistoryPoint(p.ts, restrict(collector, p.data)) for p in history.query(collector, minutes)
    ]
    return History(collector, minutes, interval, points)


def prometheus_route(public: bool) -> Any:
    """``GET /metrics``: scope ``metrics:read``, or no login when ``public``."""

    @get(
        "/metrics",
        exclude_from_auth=public,
        opt={"scope": "metrics:read"},
        tags=["metrics"],
        # The route's own media type stays JSON, which its error answers are.
        responses={
            200: ResponseSpec(
                str, description="Prometheus text exposition", media_type=PROMETHEUS_CONTENT_TYPE
            )
        },
    )
    async def prometheus(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Every numeric metric of every collector in Prometheus text format."""
        hub = request.app.state.hub
        user = request.scope.get("user")  # none when public
        snapshot = await request.app.state.metrics_grants.snapshot(await hub.snapshot(), user)
        fan_out = broker_families(request.app.state.broker.stats())
        body = render_prometheus(snapshot, hub.expositions, fan_out)
        return Response(body, media_type=PROMETHEUS_CONTENT_TYPE)

    return prometheus


def core_routes(settings: Settings) -> list[Any]:
    return [
        health,
        ready,
        status,
        plugins,
        effective_settings,
        panels,
        metrics,
        metrics_history,
        prometheus_route(settings.metrics.public_prometheus),
    ]
