"""The audit log records refusals and reaching-out reads too, and folds floods of
failures into one row per kind and minute, so nobody can grow the database by failing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from skyport import hookimpl
from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.types import Permission

from .conftest import ADMIN_PASSWORD, bearer, login

# The audit log is rows: every test runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.every_database


def _entries(admin: TestClient[Litestar], **query: Any) -> list[dict[str, Any]]:
    page = admin.get("/api/audit", params={"limit": 500, **query})
    assert page.status_code == 200, page.text
    return list(page.json()["items"])


def _flush(client: TestClient[Litestar], app: Litestar) -> None:
    """End every repeat window now (as shutting down does)."""
    client.blocking_portal.call(lambda: app.state.audit.flush(everything=True))


def test_scope_denials_are_recorded(
    admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    viewer = make_user("vic", "viewer")
    assert admin.get("/api/users", headers=bearer(viewer)).status_code == 403
    assert admin.post("/api/users", json={}, headers=bearer(viewer)).status_code == 403
    denied = [(e["action"], e["result"]) for e in _entries(admin, username="vic")]
    assert ("GET /api/users", "denied (missing scope users:admin)") in denied
    assert ("POST /api/users", "denied (missing scope users:admin)") in denied


def test_topic_denials_are_recorded(
    admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    admin.post("/api/roles", json={"name": "nobody", "scopes": ["auth:self"]})
    nina = make_user("nina", "nobody")
    with admin.websocket_connect("/ws", headers=bearer(nina)) as ws:
        ws.send_json({"type": "subscribe", "topics": ["metrics"]})
        assert ws.receive_json(timeout=5)["type"] == "error"
    entries = _entries(admin, username="nina", action="ws.subscribe")
    assert [(e["target"], e["result"]) for e in entries] == [
        ("metrics", "denied (missing scope metrics:read)")
    ]


def test_repeated_denials_become_one_row_and_a_count(
    app: Litestar, admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    viewer = make_user("vic", "viewer")
    for _ in range(25):
        admin.delete("/api/users/admin", headers=bearer(viewer))
    assert len(_entries(admin, username="vic", action="DELETE")) == 1
    _flush(admin, app)
    results = [e["result"] for e in _entries(admin, username="vic", action="DELETE")]
    assert results == [
        "denied (missing scope users:admin) (and 24 more like it within 60 s)",
        "denied (missing scope users:admin)",
    ]


def test_failed_and_rate_limited_logins_do_not_write_a_row_each(
    app: Litestar, client: TestClient[Litestar]
) -> None:
    for i in range(60):
        client.post("/api/auth/login", json={"username": f"u{i % 3}", "password": "wrong-guess"})
    token = login(client, "admin", ADMIN_PASSWORD)
    client.headers.update(bearer(token))
    written = [e for e in _entries(client, action="auth.login") if e["result"] != "ok"]
    assert len(written) <= 4  # a first failure per user name tried, one rate-limited row
    _flush(client, app)
    after = [e["result"] for e in _entries(client, action="auth.login") if e["result"] != "ok"]
    assert len(after) <= 8
    counted = sum(
        int(r.split("(and ")[1].split(" ")[0]) for r in after if "more like it" in r
    ) + len(written)
    assert counted == 60


class Prober:
    """A plugin with a read that reaches out (audited) and a plain one (not)."""

    @hookimpl
    def register_permissions(self) -> list[Permission]:
        return [Permission("prober:read", "Probe")]

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/probe", opt={"scope": "prober:read", "audit": True})
        async def probe() -> str:
            return "probed"

        @get("/plain", opt={"scope": "prober:read"})
        async def plain() -> str:
            return "read"

        return [probe, plain]


def test_reads_that_reach_out_are_audited(settings: Settings) -> None:
    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(Prober(), name="prober")
    with TestClient(create_app(settings, plugins=manager)) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        assert client.get("/api/prober/probe").status_code == 200
        assert client.get("/api/prober/plain").status_code == 200
        actions = [e["action"] for e in _entries(client, action="/api/prober")]
    assert actions == ["GET /api/prober/probe"]
