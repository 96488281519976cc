"""``GET /api/nodes``: the nodes sharing this database, up or down, and what each manages."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from skyport.cluster.nodes import NodeInfo


@get("/api/nodes", opt={"scope": "status:read"}, tags=["status"])
async def list_nodes(request: Request[Any, Any, Any]) -> list[NodeInfo]:
    """Every node that registered (``skyport serve`` on this database) with its state:
    ``down`` once its heartbeat is older than ``cluster.down_after_seconds``."""
    return await request.app.state.nodes.all()


ROUTES = [list_nodes]
