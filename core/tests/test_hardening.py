"""Limits and private files: the data dir is 0700 and its files 0600 (also after an older
install left them open), headers are capped, numbers too big for a column are a 400, and
password changes are rate limited and hashed off the event loop."""

from __future__ import annotations

import contextlib
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.server import uvicorn_options

from .conftest import ADMIN_PASSWORD, LiveServer, bearer, login


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _start_and_stop(settings: Settings) -> None:
    with TestClient(create_app(settings, plugins=PluginManager(use_entry_points=False))) as client:
        login(client, "admin", ADMIN_PASSWORD)  # writes to the database: WAL files exist


def test_a_new_data_dir_and_its_database_files_are_private(settings: Settings) -> None:
    _start_and_stop(settings)
    data = settings.data_path
    assert _mode(data) == 0o700
    files = sorted(p.name for p in data.iterdir())
    assert {"skyport.db", "secret.key"} <= set(files)
    assert {p.name: _mode(p) for p in data.iterdir()} == dict.fromkeys(files, 0o600)


def test_start_up_closes_what_an_older_install_left_open(settings: Settings) -> None:
    _start_and_stop(settings)
    data = settings.data_path
    data.chmod(0o755)
    for path in data.iterdir():
        path.chmod(0o644)
    _start_and_stop(settings)
    assert _mode(data) == 0o700
    assert all(_mode(p) == 0o600 for p in data.iterdir())


def test_numbers_beyond_a_database_integer_are_a_400_naming_the_field(
    admin: TestClient[Litestar],
) -> None:
    huge = "99999999999999999999999"
    for response, field in (
        (admin.get(f"/api/audit?offset={huge}"), "offset"),
        (admin.delete(f"/api/grants/{huge}"), "grant_id"),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["extra"][0]["key"] == field


def _raw_request(port: int, head: bytes) -> bytes:
    """Send ``head``; the server's answer, which may come before all of it was sent."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with contextlib.suppress(OSError):  # the server answered and closed meanwhile
            sock.sendall(head)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


def test_oversized_request_headers_are_refused_and_the_server_stays_up(
    live_server: LiveServer,
) -> None:
    padding = b"x" * (1024 * 1024)
    answer = _raw_request(
        live_server.port,
        b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + padding + b"\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert httpx.get(f"{live_server.url}/api/health").status_code == 200


@pytest.mark.parametrize(("configured", "logged"), [({}, False), ({"access_log": True}, True)])
def test_the_access_log_is_off_unless_configured(
    make_settings: Callable[..., Settings], configured: dict[str, bool], logged: bool
) -> None:
    server = make_settings(server=configured).server

    assert uvicorn.Config(Litestar(), **uvicorn_options(server)).access_log is logged


def test_large_bodies_and_headers_under_the_cap_pass(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:  # one kept-alive connection
        near_cap = http.get("/api/health", headers={"X-Pad": "x" * (60 * 1024)})
        assert near_cap.status_code == 200
        big_body = http.post(
            "/api/auth/login", json={"username": "admin", "password": "x" * (512 * 1024)}
        )
        assert big_body.status_code == 400, big_body.text  # the password's length, not a 431
        assert http.get("/api/health").status_code == 200


def test_password_changes_are_rate_limited(
    client: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    token = make_user("ivy", "viewer")
    wrong = {"current_password": "not-it-at-all", "new_password": "ivy-new-password"}
    answers = [
        client.post("/api/auth/password", json=wrong, headers=bearer(token)).status_code
        for _ in range(6)
    ]
    assert answers == [403] * 5 + [429]


def test_password_hashing_runs_off_the_event_loop(
    client: TestClient[Litestar],
    make_user: Callable[[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from skyport.auth import passwords, service, users

    token = make_user("jon", "viewer")
    loop_thread = client.blocking_portal.call(lambda: threading.current_thread().name)
    seen: list[str] = []

    def recorded(function: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object) -> object:
            seen.append(threading.current_thread().name)
            return function(*args)

        return call

    monkeypatch.setattr(service, "verify_password", recorded(passwords.verify_password))
    monkeypatch.setattr(users, "hash_password", recorded(passwords.hash_password))
    changed = client.post(
        "/api/auth/password",
        json={"current_password": "jon-password", "new_password": "jon-new-password"},
        headers=bearer(token),
    )
    assert changed.status_code == 204
    assert len(seen) == 2 and loop_thread not in seen
