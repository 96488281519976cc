"""Engines as a way out (issue 10): what the server fetches for whom, and what it repeats.

A plain HTTP server on 127.0.0.1 stands for an internal service an engine
address could point at; its pages carry a secret that must never reach an
answer. Engines stored with odd settings answer 400 naming ``engine``.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, bearer, login

from .conftest import user_token

SECRET = "internal-secret-4f1a"


class InternalService(http.server.BaseHTTPRequestHandler):
    """Answers /version as an engine would (so a client connects), anything else with the secret;
    ``/containers/json`` with JSON that is not a container list."""

    engine_like = True

    def do_GET(self) -> None:
        if self.path == "/version" and self.engine_like:
            self._send(200, "application/json", json.dumps({"ApiVersion": "1.41"}))
        elif "/containers/json" in self.path:
            self._send(200, "application/json", json.dumps({"secret": SECRET}))
        else:
            self._send(404, "text/html", f"<h1>{SECRET}</h1>")

    def _send(self, status: int, kind: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Website(InternalService):
    """A web page at every path, /version too."""

    engine_like = False


@contextlib.contextmanager
def serving(handler: type[InternalService]) -> Iterator[str]:
    """``tcp://127.0.0.1:<port>`` of a server with ``handler``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def internal() -> Iterator[str]:
    with serving(InternalService) as url:
        yield url


@pytest.fixture
def website() -> Iterator[str]:
    with serving(Website) as url:
        yield url


@pytest.fixture
def app(make_settings: Callable[..., Settings], internal: str, website: str) -> Litestar:
    from skyport_docker import plugin

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="docker")
    engines = {
        "odd": {"url": "tcp://127.0.0.1:99999"},
        "notls": {"url": internal},
        "site": {"url": website},
    }
    return create_app(make_settings(docker={"engines": engines}), plugins=manager)


@pytest.fixture
def admin(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client


def test_plain_tcp_needs_insecure_and_says_so(admin: TestClient[Litestar], internal: str) -> None:
    body = {"name": "plain", "url": internal, "check": False}
    refused = admin.post("/api/docker/engines", json=body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["extra"]["field"] == "insecure"
    added = admin.post("/api/docker/engines", json={**body, "insecure": True})
    assert added.status_code == 201, added.text
    assert added.json()["insecure"] is True
    listed = {e["name"]: e for e in admin.get("/api/docker/engines").json()}
    assert listed["plain"]["insecure"] and listed["notls"]["insecure"]
    assert not listed["local"]["insecure"]


def test_an_address_that_is_not_one_is_refused_naming_url(admin: TestClient[Litestar]) -> None:
    for url in ("tcp://127.0.0.1:99999", "tcp://host:abc", "http://[::1", "tcp://"):
        body = {"name": "bad", "url": url, "insecure": True, "check": False}
        answer = admin.post("/api/docker/engines", json=body)
        assert answer.status_code == 400, (url, answer.text)
        assert answer.json()["extra"]["field"] == "url"


def test_what_another_server_says_is_never_repeated(admin: TestClient[Litestar]) -> None:
    viewer = bearer(user_token(admin, "viewer"))
    for headers in (viewer, {}):
        described = admin.get("/api/docker/engines/notls", headers=headers)
        assert described.status_code == 502, described.text
        assert "without the Engine API's error message" in described.json()["detail"]
        listed = admin.get("/api/docker/ps", params={"engine": "notls"}, headers=headers)
        assert listed.status_code == 400, listed.text
        assert listed.json()["extra"]["field"] == "engine"
        site = admin.get("/api/docker/ps", params={"engine": "site"}, headers=headers)
        assert site.status_code == 503, site.text
        assert "answered HTTP 404, not as a Docker engine does" in site.json()["detail"]
        checked = admin.get("/api/docker/engines", params={"check": True}, headers=headers)
        for answer in (described, listed, site, checked):
            assert SECRET not in answer.text


def test_an_engine_stored_with_an_odd_address_is_a_400_naming_engine(
    admin: TestClient[Litestar],
) -> None:
    for path in ("/api/docker/ps", "/api/docker/images", "/api/docker/stacks"):
        answer = admin.get(path, params={"engine": "odd"})
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["extra"]["field"] == "engine"
        assert "99999" in answer.json()["detail"]
