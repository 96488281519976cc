"""Failed logins slow down and stop the client that makes them, never the account's owner;
behind a trusted reverse proxy the client is the one X-Forwarded-For names."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from litestar import Litestar

from skyport.app import create_app
from skyport.auth.ratelimit import LoginLimiter
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.store import Database

from .conftest import ADMIN_PASSWORD, LiveServer

# Login limits are rows: every test runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.every_database

ATTACKER, OWNER = "203.0.113.5", "198.51.100.7"
WRONG = {"username": "admin", "password": "wrong-guess"}
RIGHT = {"username": "admin", "password": ADMIN_PASSWORD}


def _app(make_settings: Callable[..., Settings], proxies: list[str]) -> Litestar:
    settings = make_settings(server={"forwarded_allow_ips": proxies})
    return create_app(settings, plugins=PluginManager(use_entry_points=False))


def _login(server: LiveServer, body: dict[str, str], forwarded_for: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/auth/login",
        json=body,
        headers={"X-Forwarded-For": forwarded_for},
        timeout=20,
    )


def test_failures_from_one_client_do_not_lock_the_owner_out(
    make_settings: Callable[..., Settings],
) -> None:
    with LiveServer(_app(make_settings, ["127.0.0.1"])) as server:
        answers = [_login(server, WRONG, ATTACKER).status_code for _ in range(6)]
        assert answers == [401] * 5 + [429]
        assert _login(server, RIGHT, ATTACKER).status_code == 429
        assert _login(server, RIGHT, OWNER).status_code == 200
        audit = httpx.get(
            f"{server.url}/api/audit",
            params={"action": "auth.login"},
            headers={"Authorization": f"Bearer {_login(server, RIGHT, OWNER).json()['token']}"},
        ).json()["items"]
    assert {i["client"] for i in audit if i["result"] != "ok"} == {ATTACKER}


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    make_settings: Callable[..., Settings],
) -> None:
    with LiveServer(_app(make_settings, [])) as server:
        for i in range(5):
            assert _login(server, WRONG, f"192.0.2.{i}").status_code == 401
        assert _login(server, RIGHT, OWNER).status_code == 429  # the same client: 127.0.0.1


def test_many_clients_failing_slow_the_account_down_without_locking_it(
    make_settings: Callable[..., Settings],
) -> None:
    app = _app(make_settings, ["127.0.0.0/8"])
    with LiveServer(app) as server:
        for i in range(7):
            assert _login(server, WRONG, f"192.0.2.{i}").status_code == 401
        # The owner's next try waits, as any server on this database counts it.
        assert asyncio.run(_backoff(app.state.settings, "admin", OWNER)) > 0
        assert _login(server, RIGHT, OWNER).status_code == 200


async def _backoff(settings: Settings, username: str, client: str) -> float:
    """The wait a login of ``username`` from ``client`` gets, counted by another limiter
    on the same database (as another server of a cluster counts it)."""
    database = Database(settings.database_url)
    auth = settings.auth
    limiter = LoginLimiter(
        database, "login", auth.login_attempts_per_user, auth.login_attempts_per_client, 60
    )
    try:
        return await limiter.check(username, client)
    finally:
        await database.dispose()
