"""Live data over ``WS /ws`` on a real server: ``pm2.events`` and ``pm2.logs:<name>``."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from websockets.sync.client import ClientConnection, connect

from skyport.testing import ADMIN_PASSWORD, LiveServer, bearer, login

from .conftest import WAIT, stop_daemon

SECRET = "live-secret-never-sent"


@pytest.fixture
def live(pm2_app: Litestar) -> Iterator[tuple[LiveServer, httpx.Client]]:
    with LiveServer(pm2_app) as server, httpx.Client(base_url=server.url, timeout=WAIT) as http:
        http.headers.update(bearer(login(http, "admin", ADMIN_PASSWORD)))
        yield server, http


@contextlib.contextmanager
def subscribe(live: tuple[LiveServer, httpx.Client], topic: str) -> Iterator[ClientConnection]:
    server, http = live
    url = server.url.replace("http", "ws", 1) + "/ws"
    auth = {"Authorization": http.headers["Authorization"]}
    with connect(url, additional_headers=auth) as ws:
        ws.send(json.dumps({"type": "subscribe", "topics": [topic]}))
        assert json.loads(ws.recv(timeout=WAIT)) == {"type": "subscribed", "topics": [topic]}
        yield ws


def receive(
    ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool], seen: list[str] | None = None
) -> dict[str, Any]:
    """The first message's data that ``wanted`` accepts; every raw frame goes to ``seen``."""
    deadline = time.monotonic() + WAIT
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("no such message in time")
        try:
            frame = ws.recv(timeout=remaining)
        except TimeoutError:
            raise AssertionError("no such message in time") from None
        if seen is not None:
            seen.append(str(frame))
        message = json.loads(frame)
        if "data" in message and wanted(message["data"]):
            return dict(message["data"])


def test_process_events_are_published_without_the_environment(
    live: tuple[LiveServer, httpx.Client], scripts: Path, unique: Callable[[str], str]
) -> None:
    _, http = live
    name = unique("events")
    frames: list[str] = []
    with subscribe(live, "pm2.events") as ws:
        body = {"script": str(scripts / "logger.js"), "name": name, "env": {"TOKEN": SECRET}}
        assert http.post("/api/pm2/start", json=body).status_code == 201
        online = receive(ws, lambda d: d.get("name") == name and d["event"] == "online", frames)
        assert isinstance(online["pm_id"], int) and online["manually"] is False
        assert http.post(f"/api/pm2/processes/{name}/stop").status_code == 200
        receive(ws, lambda d: d.get("name") == name and d["event"] == "exit", frames)
        stopped = receive(ws, lambda d: d.get("name") == name and d["event"] == "stop", frames)
        assert stopped["manually"] is True
        http.post(f"/api/pm2/processes/{name}/restart")
        receive(ws, lambda d: d.get("name") == name and d["event"] == "restart", frames)
    assert not any(SECRET in frame or "PATH" in frame for frame in frames)


def test_live_logs_follow_one_process_out_and_err(
    live: tuple[LiveServer, httpx.Client], scripts: Path, unique: Callable[[str], str]
) -> None:
    _, http = live
    name, other = unique("follow"), unique("other")
    for each in (name, other):
        body = {"script": str(scripts / "logger.js"), "name": each}
        assert http.post("/api/pm2/start", json=body).status_code == 201
    frames: list[str] = []
    with subscribe(live, f"pm2.logs:{name}") as ws:
        out = receive(ws, lambda d: d["stream"] == "out" and "tick" in d["data"], frames)
        err = receive(ws, lambda d: d["stream"] == "err" and "warn" in d["data"], frames)
    assert out["name"] == err["name"] == name and isinstance(out["at"], int)
    assert all(json.loads(f).get("data", {}).get("name") in (name, None) for f in frames)
    with subscribe(live, "pm2.logs:all") as ws:
        receive(ws, lambda d: d["name"] == other)


def test_events_survive_a_daemon_restart(
    live: tuple[LiveServer, httpx.Client],
    daemon: Path,
    scripts: Path,
    unique: Callable[[str], str],
) -> None:
    _, http = live
    http.get("/api/pm2/list")
    with subscribe(live, "pm2.events") as ws:
        stop_daemon(daemon)
        gone = receive(ws, lambda d: d["event"] == "daemon:disconnected")
        assert gone["error"]
        assert http.get("/api/pm2/list").json() == []  # the plugin starts a new daemon
        receive(ws, lambda d: d["event"] == "daemon:connected")
        name = unique("after")
        body = {"script": str(scripts / "logger.js"), "name": name}
        assert http.post("/api/pm2/start", json=body).status_code == 201
        receive(ws, lambda d: d.get("name") == name and d["event"] == "online")
