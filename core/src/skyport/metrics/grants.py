"""What a user may see of the metrics: samples of collectors limited by resource grants.

A collector declaring a ``grant_kind`` and ``restrict`` (say the vps one,
one row per server) is shown to a user limited by grants of that kind as
``restrict(data, allowed)``: in ``GET /api/metrics``, its history,
``GET /metrics`` and on the WebSocket topic ``metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from skyport.auth.grants import ResourceGrants
from skyport.auth.principal import Principal
from skyport.broker import TopicView
from skyport.types import MetricsCollector

Restrictor = Callable[[str, Any], Any]
"""``(collector name, data) -> the data a user may see``."""


class MetricsGrants:
    def __init__(self, collectors: Iterable[MetricsCollector], grants: ResourceGrants) -> None:
        self.grants = grants
        self._limited = {c.name: c for c in collectors if c.grant_kind and c.restrict}

    async def restrictor(self, principal: Principal) -> Restrictor | None:
        """The restriction for ``principal``; None when no grant hides anything from them."""
        allowed_by_kind: dict[str, frozenset[str] | None] = {}
        limits: dict[str, tuple[Callable[[Any, frozenset[str]], Any], frozenset[str]]] = {}
        for name, collector in self._limited.items():
            kind = collector.grant_kind
            if kind not in allowed_by_kind:
                allowed_by_kind[kind] = await self.grants.allowed(principal, kind)
            allowed = allowed_by_kind[kind]
            if allowed is not None and collector.restrict is not None:
                limits[name] = (collector.restrict, allowed)
        if not limits:
            return None

        def restrict(name: str, data: Any) -> Any:
            limit = limits.get(name)
            return data if limit is None or data is None else limit[0](data, limit[1])

        return restrict

    async def snapshot(self, snapshot: Mapping[str, Any], principal: Any) -> dict[str, Any]:
        """A hub snapshot as ``principal`` may see it (anonymous: as it is)."""
        restrict = await self.restrictor(principal) if isinstance(principal, Principal) else None
        if restrict is None:
            return dict(snapshot)
        collectors = {name: restrict(name, data) for name, data in snapshot["collectors"].items()}
        return {**snapshot, "collectors": collectors}

    async def topic_view(self, principal: Principal) -> TopicView | None:
        """The view of the ``metrics`` topic's messages (``{"collector", "ts", "data"}``)."""
        restrict = await self.restrictor(principal)
        if restrict is None:
            return None
        return lambda message: {**message, "data": restrict(message["collector"], message["data"])}
