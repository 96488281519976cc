"""Revocation reaches live connections: an open ``/ws`` or terminal ends within seconds
of a logout, a disabled or deleted account, a password or role change — also when the
change is made on another server sharing the database — and every subscribe checks the
user's current scopes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from skyport.app import create_app
from skyport.auth.live import CLOSE_CHANGED, CLOSE_REVOKED
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import wait_for

from .conftest import ADMIN_PASSWORD, LiveServer, bearer

WAIT = 10.0
"""Seconds a revocation may take to reach a connection (checks run every second here)."""


@contextmanager
def _server(settings: Settings) -> Iterator[tuple[LiveServer, httpx.Client]]:
    app = create_app(settings, plugins=PluginManager(strict=True, use_entry_points=False))
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=WAIT) as admin:
        admin.headers.update(bearer(_login(admin, "admin", ADMIN_PASSWORD)))
        yield server, admin


@pytest.fixture
def node(make_settings: Callable[..., Settings]) -> Iterator[tuple[LiveServer, httpx.Client]]:
    with _server(
        make_settings(
            auth={"revocation_check_seconds": 1},
            terminal={"host_shell": True, "shell": "/bin/sh"},
        )
    ) as running:
        yield running


def _login(http: httpx.Client, username: str, password: str) -> str:
    response = http.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    http.cookies.clear()
    return str(response.json()["token"])


def _user(admin: httpx.Client, username: str, role: str = "operator") -> str:
    created = admin.post(
        "/api/users", json={"username": username, "password": f"{username}-pw-1", "role": role}
    )
    assert created.status_code == 201, created.text
    return _login(admin, username, f"{username}-pw-1")


def _socket(server: LiveServer, token: str, path: str = "/ws") -> ClientConnection:
    url = server.url.replace("http://", "ws://") + path
    return connect(url, additional_headers=bearer(token), open_timeout=WAIT)


def _subscribe(ws: ClientConnection, *topics: str) -> list[dict[str, Any]]:
    ws.send(json.dumps({"type": "subscribe", "topics": list(topics)}))
    replies = []
    while not any(r.get("type") in ("subscribed", "error") for r in replies):
        replies.append(json.loads(ws.recv(timeout=WAIT)))
    return replies


def _close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes; the close code it sent."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=WAIT)
    return closed.value.rcvd.code if closed.value.rcvd else None


@contextmanager
def _metrics_socket(server: LiveServer, token: str) -> Iterator[ClientConnection]:
    with _socket(server, token) as ws:
        assert {"type": "subscribed", "topics": ["metrics"]} in _subscribe(ws, "metrics")
        yield ws


REVOCATIONS: dict[str, Callable[[httpx.Client, str], httpx.Response]] = {
    "logout": lambda admin, token: admin.post("/api/auth/logout", headers=bearer(token)),
    "disable": lambda admin, _: admin.patch("/api/users/kim", json={"disabled": True}),
    "delete": lambda admin, _: admin.delete("/api/users/kim"),
    "password reset": lambda admin, _: admin.patch(
        "/api/users/kim", json={"password": "another-password"}
    ),
    "own password change": lambda admin, token: admin.post(
        "/api/auth/password",
        json={"current_password": "kim-pw-1", "new_password": "kim-new-password"},
        headers=bearer(token),
    ),
    "role change": lambda admin, _: admin.patch("/api/users/kim", json={"role": "viewer"}),
}


@pytest.mark.parametrize("revocation", REVOCATIONS)
def test_revocation_closes_an_open_websocket(
    node: tuple[LiveServer, httpx.Client], revocation: str
) -> None:
    server, admin = node
    token = _user(admin, "kim")
    with _metrics_socket(server, token) as ws:
        assert REVOCATIONS[revocation](admin, token).status_code in (200, 204)
        assert _close_code(ws) == CLOSE_REVOKED


def test_revoking_an_api_token_closes_its_websocket(
    node: tuple[LiveServer, httpx.Client],
) -> None:
    server, admin = node
    scopes = ["auth:self", "metrics:read"]
    created = admin.post("/api/auth/tokens", json={"name": "watch", "scopes": scopes})
    token = created.json()
    with _metrics_socket(server, token["token"]) as ws:
        admin.delete(f"/api/auth/tokens/{token['info']['id']}")
        assert _close_code(ws) == CLOSE_REVOKED


def test_losing_a_scope_closes_the_websocket(node: tuple[LiveServer, httpx.Client]) -> None:
    server, admin = node
    role = {"name": "watcher", "scopes": ["auth:self", "metrics:read"]}
    assert admin.post("/api/roles", json=role).status_code == 201
    token = _user(admin, "wes", role="watcher")
    with _metrics_socket(server, token) as ws:
        admin.put("/api/roles/watcher", json={"scopes": ["auth:self"]})
        assert _close_code(ws) == CLOSE_CHANGED


def test_a_revoked_terminal_stops_running_commands(
    node: tuple[LiveServer, httpx.Client],
) -> None:
    server, admin = node
    token = _user(admin, "root2", role="admin")
    with _socket(server, token, "/ws/terminal?provider=host") as term:
        term.send(b"echo alive-$((40 + 2))\n")
        output = b""
        while b"alive-42" not in output:
            frame = term.recv(timeout=WAIT)
            output += frame if isinstance(frame, bytes) else b""
        admin.post("/api/auth/logout", headers=bearer(token))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                frame = term.recv(timeout=WAIT)
                if isinstance(frame, str):
                    assert "session ended" in json.loads(frame)["message"]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_REVOKED
    closes = admin.get("/api/audit", params={"action": "terminal.close"}).json()["items"]
    assert closes[0]["result"].startswith("ended by revocation")


@pytest.mark.every_database
def test_a_revocation_on_another_server_reaches_the_socket(
    database_url: str, make_settings: Callable[..., Settings]
) -> None:
    shared = {"database": {"url": database_url}, "auth": {"revocation_check_seconds": 1}}
    with (
        _server(make_settings(**shared)) as (_, admin),
        _server(make_settings(**shared)) as (
            other,
            _,
        ),
    ):
        token = _user(admin, "kim")
        with _metrics_socket(other, token) as ws:
            assert admin.post("/api/auth/logout", headers=bearer(token)).status_code == 204
            assert _close_code(ws) == CLOSE_REVOKED


def test_credentials_cached_by_another_server_stop_working_at_its_next_check(
    make_settings: Callable[..., Settings],
) -> None:
    """Two servers share a SQLite file (no NOTIFY between them): the other one's cached
    principals are read again every ``revocation_check_seconds``."""
    database = {"url": f"sqlite+aiosqlite:///{make_settings().data_path / 'shared.db'}"}
    shared = {"database": database, "auth": {"revocation_check_seconds": 1}}
    with (
        _server(make_settings(**shared)) as (_, admin),
        _server(make_settings(**shared)) as (other, _),
        httpx.Client(base_url=other.url, timeout=WAIT) as http,
    ):
        token = _user(admin, "kim")
        assert http.get("/api/auth/me", headers=bearer(token)).status_code == 200  # cached
        assert admin.post("/api/auth/logout", headers=bearer(token)).status_code == 204
        wait_for(
            lambda: http.get("/api/auth/me", headers=bearer(token)).status_code == 401,
            "the other server to refuse the ended session",
            timeout=WAIT,
        )


def test_a_cached_api_token_still_records_its_last_use(
    node: tuple[LiveServer, httpx.Client],
) -> None:
    _, admin = node
    created = admin.post("/api/auth/tokens", json={"name": "ci", "scopes": ["status:read"]})
    token, token_id = created.json()["token"], created.json()["info"]["id"]

    def last_used() -> float:
        listed = admin.get("/api/auth/tokens").json()
        return next(t["last_used_at"] or 0.0 for t in listed if t["id"] == token_id)

    assert admin.get("/api/status", headers=bearer(token)).status_code == 200
    first = last_used()
    assert first > 0

    def used_again() -> bool:  # answered from the cache; recorded at the next check
        assert admin.get("/api/status", headers=bearer(token)).status_code == 200
        return last_used() > first

    wait_for(used_again, "the token's later use to be recorded", timeout=WAIT, every=0.3)


def test_every_subscribe_checks_the_current_scopes(
    make_settings: Callable[..., Settings],
) -> None:
    """The other server checks only once a minute here: the subscribe itself must notice."""
    database = {"url": f"sqlite+aiosqlite:///{make_settings().data_path / 'shared.db'}"}
    slow = {"database": database, "auth": {"revocation_check_seconds": 60}}
    with (
        _server(make_settings(**slow)) as (_, admin),
        _server(make_settings(**slow)) as (
            other,
            _,
        ),
    ):
        role = {"name": "watcher", "scopes": ["auth:self", "metrics:read"]}
        assert admin.post("/api/roles", json=role).status_code == 201
        token = _user(admin, "wes", role="watcher")
        with _socket(other, token) as ws:
            assert _subscribe(ws, "metrics")[-1]["type"] == "subscribed"
            admin.put("/api/roles/watcher", json={"scopes": ["auth:self"]})
            ws.send(json.dumps({"type": "subscribe", "topics": ["metrics"]}))
            assert _close_code(ws) == CLOSE_CHANGED
