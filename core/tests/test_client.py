"""``skyport.client``: local (in-process) and remote (real uvicorn) modes, errors, /ws."""

from __future__ import annotations

import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import get

from skyport import hookimpl
from skyport.app import create_app
from skyport.cli import credentials
from skyport.client import (
    LOCAL_URL,
    ApiError,
    BackendDown,
    Client,
    Forbidden,
    NotLoggedIn,
    ServerUnreachable,
    connect,
    error_for,
    normalize_url,
)
from skyport.config import Settings, load_settings
from skyport.errors import BackendUnavailable
from skyport.plugins import PluginManager
from skyport.testing import wait_for

from .conftest import ADMIN_PASSWORD, LiveServer, free_port


@pytest.fixture
def local(settings: Settings) -> Iterator[Client]:
    with Client.local(settings) as client:
        yield client


@pytest.fixture
def remote_admin(live_server: LiveServer) -> Iterator[Client]:
    with Client.remote(live_server.url) as anonymous:
        token = anonymous.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )["token"]
    with Client.remote(live_server.url, token) as client:
        yield client


def remote_as(server: LiveServer, admin: Client, username: str, role: str) -> Client:
    password = f"{username}-password"
    admin.post("/api/users", json={"username": username, "password": password, "role": role})
    with Client.remote(server.url) as anonymous:
        token = anonymous.post(
            "/api/auth/login", json={"username": username, "password": password}
        )["token"]
    return Client.remote(server.url, token)


def first_host_sample(messages: Iterator[dict[str, Any]]) -> dict[str, Any]:
    """The first ``metrics`` message of the ``host`` collector (plugins may add others)."""
    for message in messages:
        if message.get("topic") == "metrics" and message["data"]["collector"] == "host":
            return message
    raise AssertionError("the stream ended before a host sample")


# -- import cost ------------------------------------------------------------------


def test_importing_the_client_imports_neither_litestar_nor_httpx() -> None:
    code = (
        "import sys, skyport.client\n"
        "heavy = [m for m in ('litestar', 'httpx', 'sqlalchemy', 'uvicorn', 'websockets')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


# -- local mode -----------------------------------------------------------------------


def test_local_mode_runs_the_app_in_process_as_admin(local: Client) -> None:
    assert local.mode == "local" and local.url == LOCAL_URL
    assert local.get("/api/auth/me")["role"] == "admin"
    status = local.get("/api/status")
    assert status["plugins"]["loaded"][0] == "core"


def test_local_mode_has_the_same_validation_and_errors(local: Client) -> None:
    created = local.post(
        "/api/users", json={"username": "carol", "password": "carol-password", "role": "viewer"}
    )
    assert created["username"] == "carol"
    assert local.delete("/api/users/carol") is None  # 204 → None
    with pytest.raises(ApiError) as missing:
        local.get("/api/users/carol")
    assert missing.value.status == 404 and "carol" in missing.value.detail
    with pytest.raises(ApiError) as invalid:
        local.post("/api/auth/tokens", json={"name": "x", "scopes": []})
    assert invalid.value.status == 400
    assert "scopes" in str(invalid.value)  # the validation message names the field
    assert "\n" not in str(invalid.value)


def test_local_mode_streams_metrics_over_ws(local: Client) -> None:
    messages = local.subscribe(["metrics"])
    sample = first_host_sample(messages)
    messages.close()  # type: ignore[attr-defined]
    assert sample["data"]["collector"] == "host"
    assert sample["data"]["data"]["memory"]["total"] > 0


def test_local_subscription_to_an_unknown_topic_raises(local: Client) -> None:
    with pytest.raises(ApiError, match="unknown topic"):
        next(iter(local.subscribe(["no-such-topic"])))


def test_closing_a_local_client_ends_its_session(settings: Settings) -> None:
    client = Client.local(settings)
    token = client.token
    client.close()
    with Client.local(settings) as other:
        other.http.headers["Authorization"] = f"Bearer {token}"
        with pytest.raises(NotLoggedIn):
            other.get("/api/auth/me")


def test_from_settings_picks_local_mode_when_nothing_is_configured(settings: Settings) -> None:
    with connect(settings) as client:
        assert client.mode == "local"


# -- remote mode --------------------------------------------------------------------


def test_remote_mode_calls_the_real_server(remote_admin: Client, live_server: LiveServer) -> None:
    assert remote_admin.mode == "remote" and remote_admin.url == live_server.url
    assert remote_admin.get("/api/status")["plugins"]["loaded"] == ["core"]
    token = remote_admin.post("/api/auth/tokens", json={"name": "ci", "scopes": ["status:read"]})
    assert token["token"].startswith("skp_")
    assert remote_admin.delete(f"/api/auth/tokens/{token['info']['id']}") is None


def test_remote_subscribe_yields_the_ack_then_samples(remote_admin: Client) -> None:
    messages = remote_admin.subscribe(["metrics"])
    first = next(iter(messages))
    sample = first_host_sample(messages)
    messages.close()  # type: ignore[attr-defined]
    assert first == {"type": "subscribed", "topics": ["metrics"]}
    assert sample["data"]["collector"] == "host"


@pytest.mark.parametrize("mode", ["remote", "local"])
def test_a_feed_changes_topics_and_is_closed_from_another_thread(
    mode: str, request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue("remote_admin" if mode == "remote" else "local")
    feed = client.feed(["no-such-topic"])
    messages = iter(feed)
    assert next(messages)["type"] == "error"  # not strict: errors are messages
    feed.subscribe(["metrics"])
    assert next(messages) == {"type": "subscribed", "topics": ["metrics"]}
    first_host_sample(messages)
    feed.unsubscribe(["metrics"])
    seen: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: seen.extend(messages))
    reader.start()
    wait_for(lambda: {"type": "unsubscribed", "topics": ["metrics"]} in seen, "unsubscribed")
    feed.close()
    reader.join(timeout=15)
    assert not reader.is_alive()  # the loop ended quietly, with no error


def test_forbidden_names_the_missing_scope(remote_admin: Client, live_server: LiveServer) -> None:
    viewer = remote_as(live_server, remote_admin, "vera", "viewer")
    with viewer, pytest.raises(Forbidden) as refused:
        viewer.get("/api/users")
    assert refused.value.status == 403 and refused.value.scope == "users:admin"
    assert str(refused.value) == "permission denied: missing scope users:admin"


def test_ws_topic_without_its_scope_is_forbidden(
    remote_admin: Client, live_server: LiveServer
) -> None:
    secret = remote_admin.post(
        "/api/auth/tokens", json={"name": "status-only", "scopes": ["status:read", "auth:self"]}
    )["token"]
    with Client.remote(live_server.url, secret) as limited, pytest.raises(Forbidden) as refused:
        next(iter(limited.subscribe(["metrics"])))
    assert refused.value.scope == "metrics:read"


def test_ws_refused_at_the_handshake_is_explained(
    remote_admin: Client, live_server: LiveServer
) -> None:
    secret = remote_admin.post(
        "/api/auth/tokens", json={"name": "no-self", "scopes": ["status:read"]}
    )["token"]
    with Client.remote(live_server.url, secret) as limited, pytest.raises(Forbidden) as refused:
        next(iter(limited.subscribe(["metrics"])))
    assert refused.value.scope == "auth:self"


def test_a_revoked_session_is_not_logged_in(remote_admin: Client, live_server: LiveServer) -> None:
    remote_admin.post("/api/auth/logout")
    with pytest.raises(NotLoggedIn) as expired:
        remote_admin.get("/api/status")
    assert f"skyport login {live_server.url}" in str(expired.value)
    with pytest.raises(NotLoggedIn):
        next(iter(remote_admin.subscribe(["metrics"])))


def test_unreachable_server_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Client.remote(url, "token") as client:
        with pytest.raises(ServerUnreachable) as down:
            client.get("/api/status")
        assert down.value.url == url and url in str(down.value)
        with pytest.raises(ServerUnreachable):
            next(iter(client.subscribe(["metrics"])))


def test_a_backend_outage_is_backend_down(settings: Settings) -> None:
    @get("/boom", opt={"scope": "status:read"})
    async def boom() -> None:
        raise BackendUnavailable("fakeengine", "socket /run/fake.sock missing")

    class Flaky:
        @hookimpl
        def register_routes(self) -> list[Any]:
            return [boom]

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(Flaky(), "flaky")
    with LiveServer(create_app(settings, plugins=manager)) as server:
        with Client.remote(server.url) as anonymous:
            token = anonymous.post(
                "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            )["token"]
        with Client.remote(server.url, token) as client, pytest.raises(BackendDown) as down:
            client.get("/api/flaky/boom")
    assert down.value.status == 503 and down.value.backend == "fakeengine"
    assert "fakeengine is unavailable" in str(down.value)


def test_from_settings_uses_the_configured_url_and_needs_a_token(
    monkeypatch: pytest.MonkeyPatch, live_server: LiveServer
) -> None:
    monkeypatch.setenv("SKYPORT_URL", live_server.url + "/")
    with pytest.raises(NotLoggedIn, match=f"skyport login {live_server.url}`"):
        connect(load_settings())
    with Client.remote(live_server.url) as anonymous:
        token = anonymous.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )["token"]
    monkeypatch.setenv("SKYPORT_TOKEN", token)
    with connect(load_settings()) as client:
        assert client.mode == "remote" and client.url == live_server.url
        assert client.get("/api/auth/me")["username"] == "admin"


def test_from_settings_uses_the_stored_login(live_server: LiveServer) -> None:
    with Client.remote(live_server.url) as anonymous:
        answer = anonymous.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
    where = credentials.save(live_server.url, answer["token"], "admin", answer["expires_at"])
    assert where == str(credentials.path())  # no keyring backend in tests: the 0600 file
    assert stat.S_IMODE(credentials.path().stat().st_mode) == 0o600
    with connect(load_settings()) as client:
        assert client.url == live_server.url
        assert client.get("/api/auth/me")["username"] == "admin"
    credentials.forget(live_server.url)
    with pytest.raises(NotLoggedIn):
        connect(load_settings())
    credentials.forget(live_server.url, server=True)
    assert credentials.current_url() is None


# -- pure helpers -------------------------------------------------------------------


def test_error_for_maps_statuses_to_exception_types() -> None:
    body = {"status_code": 403, "detail": "missing scope x:y", "extra": {"missing_scope": "x:y"}}
    assert isinstance(error_for(403, body, "http://h"), Forbidden)
    assert isinstance(error_for(401, {"detail": "invalid token"}, "http://h"), NotLoggedIn)
    down = error_for(503, {"detail": "pm2 is unavailable", "extra": {"backend": "pm2"}}, "u")
    assert isinstance(down, BackendDown) and down.backend == "pm2"
    plain = error_for(502, "<html>Bad gateway</html>", "http://h")
    assert isinstance(plain, ApiError) and plain.status == 502 and "Bad gateway" in str(plain)


def test_normalize_url() -> None:
    assert normalize_url("host:8080/") == "http://host:8080"
    assert normalize_url(" https://h.example ") == "https://h.example"


def test_local_mode_as_a_missing_user_is_not_logged_in(settings: Settings) -> None:
    with pytest.raises(NotLoggedIn, match="local mode cannot act as a user: no usable user"):
        Client.local(settings, username="nobody")
