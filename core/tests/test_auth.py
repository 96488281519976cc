"""Authentication and authorisation, walked across every route the app has."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from skyport.auth.middleware import CSRF_COOKIE, SESSION_COOKIE, required_scope

from .conftest import ADMIN_PASSWORD, bearer, login

# Users, sessions, tokens, grants and audit are rows: every test runs on both databases.
pytestmark = pytest.mark.every_database

# The dashboard's hashed JS and CSS are public too: they hold no data (the app asks the API).
PUBLIC = {
    ("GET", "/api/health"),
    ("GET", "/api/health/ready"),  # the load balancer's readiness probe
    ("POST", "/api/auth/login"),
    ("GET", "/assets/x"),
    ("GET", "/schema/swagger-ui/x"),  # Swagger UI's own files; the reference itself needs a login
}


def _routes(app: Litestar) -> list[tuple[str, str, str | None]]:
    """(method, concrete path, required scope) for every HTTP route."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"{[^}:]+:int}", "1", route.path)
        path = re.sub(r"{[^}]+}", "x", path)
        for method, entry in route.route_handler_map.items():
            if method in ("HEAD", "OPTIONS"):
                continue
            handler = entry[0] if isinstance(entry, tuple) else entry
            found.append((method, path, required_scope(handler)))
    return found


def test_every_schema_path_is_a_walked_route(app: Litestar, admin: TestClient[Litestar]) -> None:
    schema = admin.get("/schema/openapi.json").json()
    walked = {re.sub(r"{[^}]+}", "{}", r.path) for r in app.routes}
    for path in schema["paths"]:
        assert re.sub(r"{[^}]+}", "{}", path) in walked


def test_every_route_refuses_anonymous_requests(
    app: Litestar, client: TestClient[Litestar]
) -> None:
    for method, path, _ in _routes(app):
        if (method, path) in PUBLIC:
            continue
        response = client.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.text)


def test_every_route_refuses_a_token_without_its_scope(
    app: Litestar, admin: TestClient[Litestar]
) -> None:
    every_scope = [r["scopes"] for r in admin.get("/api/roles").json() if r["name"] == "operator"]
    all_scopes = sorted({p for p in app.state.services.registry.permissions} | set(every_scope[0]))
    tokens: dict[str, str] = {}
    checked = 0
    for method, path, scope in _routes(app):
        if (method, path) in PUBLIC:
            continue
        assert scope is not None, f"{method} {path} declares no scope"
        if scope not in tokens:
            created = admin.post(
                "/api/auth/tokens",
                json={"name": f"without {scope}", "scopes": [s for s in all_scopes if s != scope]},
            )
            assert created.status_code == 201, created.text
            tokens[scope] = created.json()["token"]
        response = admin.request(method, path, json={}, headers=bearer(tokens[scope]))
        assert response.status_code == 403, (method, path, response.text)
        assert scope in response.json()["detail"]
        checked += 1
    assert checked > 15


def test_login_returns_token_user_and_sets_http_only_strict_cookie(
    client: TestClient[Litestar],
) -> None:
    response = client.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {
        "username": "admin",
        "role": "admin",
        "scopes": ["*"],
        "method": "session",
    }
    assert body["expires_at"] > 0 and body["token"].count(".") == 2
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v
    )
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()


def test_wrong_user_and_wrong_password_look_the_same(client: TestClient[Litestar]) -> None:
    wrong_password = client.post(
        "/api/auth/login", json={"username": "admin", "password": "nope-nope"}
    )
    no_user = client.post("/api/auth/login", json={"username": "ghost", "password": "nope-nope"})
    assert wrong_password.status_code == no_user.status_code == 401
    assert wrong_password.json() == no_user.json()


def test_logout_revokes_the_session_at_once(client: TestClient[Litestar], admin_token: str) -> None:
    assert client.get("/api/auth/me", headers=bearer(admin_token)).status_code == 200
    assert client.post("/api/auth/logout", headers=bearer(admin_token)).status_code == 204
    response = client.get("/api/auth/me", headers=bearer(admin_token))
    assert response.status_code == 401
    assert "log in again" in response.json()["detail"]


def test_api_token_is_limited_to_its_scopes_and_can_be_revoked(
    admin: TestClient[Litestar],
) -> None:
    created = admin.post(
        "/api/auth/tokens", json={"name": "ci", "scopes": ["status:read"], "expires_in_days": 30}
    )
    assert created.status_code == 201
    secret, token_id = created.json()["token"], created.json()["info"]["id"]
    assert admin.get("/api/status", headers=bearer(secret)).status_code == 200
    denied = admin.get("/api/users", headers=bearer(secret))
    assert denied.status_code == 403 and denied.json()["extra"]["missing_scope"] == "users:admin"
    listed = admin.get("/api/auth/tokens").json()
    assert [t["name"] for t in listed] == ["ci"] and "token" not in listed[0]
    assert admin.delete(f"/api/auth/tokens/{token_id}").status_code == 204
    assert admin.get("/api/status", headers=bearer(secret)).status_code == 401


def test_a_user_cannot_mint_a_token_with_scopes_they_lack(
    client: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    viewer = make_user("vera", "viewer")
    response = client.post(
        "/api/auth/tokens", json={"name": "x", "scopes": ["users:admin"]}, headers=bearer(viewer)
    )
    assert response.status_code == 403
    assert "users:admin" in response.json()["detail"]


def test_roles_give_viewer_read_and_operator_write_scopes(
    admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    viewer = make_user("vic", "viewer")
    assert admin.get("/api/status", headers=bearer(viewer)).status_code == 200
    assert admin.get("/api/users", headers=bearer(viewer)).status_code == 403
    roles = {r["name"]: r for r in admin.get("/api/roles").json()}
    assert "metrics:read" in roles["viewer"]["scopes"]
    assert "users:admin" not in roles["operator"]["scopes"]
    assert "host:shell" not in roles["operator"]["scopes"]


def test_custom_role_with_chosen_scopes(
    admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    created = admin.post(
        "/api/roles", json={"name": "auditor", "scopes": ["auth:self", "audit:read"]}
    )
    assert created.status_code == 201, created.text
    auditor = make_user("ann", "auditor")
    assert admin.get("/api/audit", headers=bearer(auditor)).status_code == 200
    assert admin.get("/api/metrics", headers=bearer(auditor)).status_code == 403
    unknown = admin.post("/api/roles", json={"name": "bad", "scopes": ["nope:never"]})
    assert unknown.status_code == 400 and "nope:never" in unknown.json()["detail"]


def test_login_is_rate_limited_per_user_with_retry_after(client: TestClient[Litestar]) -> None:
    for _ in range(5):
        assert (
            client.post(
                "/api/auth/login", json={"username": "admin", "password": "wrong-guess"}
            ).status_code
            == 401
        )
    limited = client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1


def test_login_is_rate_limited_per_client_address(client: TestClient[Litestar]) -> None:
    for i in range(20):
        client.post("/api/auth/login", json={"username": f"user{i}", "password": "wrong-guess"})
    limited = client.post("/api/auth/login", json={"username": "someone", "password": "x" * 9})
    assert limited.status_code == 429


def test_cookie_requests_that_change_things_need_the_csrf_header(
    client: TestClient[Litestar],
) -> None:
    response = client.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    csrf = response.json()["csrf_token"]
    assert client.cookies.get(CSRF_COOKIE) == csrf
    assert client.get("/api/auth/me").status_code == 200  # reading needs no CSRF token
    new_user = {"username": "carol", "password": "carol-password", "role": "viewer"}
    refused = client.post("/api/users", json=new_user)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    accepted = client.post("/api/users", json=new_user, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201


def test_websocket_without_auth_is_refused(client: TestClient[Litestar]) -> None:
    from litestar.exceptions import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws") as ws:
        ws.receive_text()


def test_mutating_requests_land_in_the_audit_log(admin: TestClient[Litestar]) -> None:
    admin.post("/api/users", json={"username": "dave", "password": "dave-password"})
    admin.post("/api/users", json={"username": "dave", "password": "dave-password"})
    items = admin.get("/api/audit", params={"limit": 10}).json()["items"]
    creates = [i for i in items if i["action"] == "POST /api/users"]
    assert [c["result"] for c in creates] == ["failed (409)", "ok (201)"]
    assert all(c["username"] == "admin" for c in creates)


def test_audit_log_is_paginated(admin: TestClient[Litestar]) -> None:
    for i in range(4):
        admin.post("/api/roles", json={"name": f"r{i}", "scopes": ["auth:self"]})
    page = admin.get("/api/audit", params={"limit": 2, "offset": 1}).json()
    assert page["limit"] == 2 and page["offset"] == 1 and len(page["items"]) == 2
    assert page["total"] >= 5


def test_the_last_admin_cannot_be_removed_or_demoted(admin: TestClient[Litestar]) -> None:
    assert admin.delete("/api/users/admin").status_code == 409
    assert admin.patch("/api/users/admin", json={"role": "viewer"}).status_code == 409


def test_password_change_ends_other_sessions(
    client: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    token = make_user("erin", "operator")
    other = login(client, "erin", "erin-password")
    changed = client.post(
        "/api/auth/password",
        json={"current_password": "erin-password", "new_password": "erin-new-password"},
        headers=bearer(token),
    )
    assert changed.status_code == 204
    assert client.get("/api/auth/me", headers=bearer(other)).status_code == 401
    assert login(client, "erin", "erin-new-password")


def test_resource_grants_limit_a_user_to_named_resources(
    app: Litestar, admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    make_user("gus", "operator")
    grant = admin.post("/api/grants", json={"username": "gus", "kind": "vps", "resource": "web-1"})
    assert grant.status_code == 201
    assert [g["resource"] for g in admin.get("/api/grants", params={"username": "gus"}).json()] == [
        "web-1"
    ]
    grants = app.state.services.grants
    token = login(admin, "gus", "gus-password")

    async def check() -> tuple[list[str], list[str]]:
        principal = await app.state.auth.authenticate(token)
        return (
            await grants.visible(principal, "vps", ["web-1", "db-1"]),
            await grants.visible(principal, "docker", ["a", "b"]),
        )

    vps, docker = admin.blocking_portal.call(check)
    assert vps == ["web-1"]
    assert docker == ["a", "b"]
