"""Engine events on ``WS /ws`` (topic ``docker.events``) and the ``docker`` exec terminal."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession

from skyport.testing import TerminalProbe, bearer, login

WAIT = 20.0


def next_event(
    ws: WebSocketTestSession, wanted: Callable[[dict[str, Any]], bool], timeout: float = WAIT
) -> dict[str, Any]:
    """The first ``docker.events`` message that ``wanted`` accepts (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            message = ws.receive_json(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError("no such docker event in time") from None
        data = message.get("data")
        if message.get("topic") == "docker.events" and isinstance(data, dict) and wanted(data):
            return data


@pytest.fixture
def events(api: TestClient[Litestar]) -> Iterator[WebSocketTestSession]:
    with api.websocket_connect("/ws", headers=dict(api.headers)) as ws:
        ws.send_json({"type": "subscribe", "topics": ["docker.events"]})
        assert ws.receive_json(timeout=WAIT) == {"type": "subscribed", "topics": ["docker.events"]}
        yield ws


def test_container_events_are_published_with_the_engine_name(
    events: WebSocketTestSession,
    make_container: Callable[..., dict[str, Any]],
    engine: docker.APIClient,
) -> None:
    container = make_container("sleep 3600")
    cid = container["Id"]
    started = next_event(events, lambda e: e.get("id") == cid and e.get("Action") == "start")
    assert started["engine"] == "local"
    assert started["Type"] == "container"
    assert started["Actor"]["Attributes"]["name"] == container["Name"].lstrip("/")
    engine.kill(cid)
    died = next_event(events, lambda e: e.get("id") == cid and e.get("Action") == "die")
    assert died["engine"] == "local"


def test_events_need_the_read_scope(api: TestClient[Litestar]) -> None:
    created = api.post(
        "/api/users", json={"username": "nobody", "password": "nobody-password", "role": "viewer"}
    )
    assert created.status_code == 201
    assert (
        api.post("/api/roles", json={"name": "empty", "scopes": ["auth:self"]}).status_code == 201
    )
    assert api.patch("/api/users/nobody", json={"role": "empty"}).status_code == 200
    token = login(api, "nobody", "nobody-password")
    with api.websocket_connect("/ws", headers=bearer(token)) as ws:
        ws.send_json({"type": "subscribe", "topics": ["docker.events"]})
        answer = ws.receive_json(timeout=WAIT)
        assert answer["type"] == "error"


# -- the exec terminal ----------------------------------------------------------------


@pytest.fixture
def open_terminal(api: TestClient[Litestar]) -> Iterator[Callable[..., TerminalProbe]]:
    sessions: list[WebSocketTestSession] = []

    def open_(query: str, headers: dict[str, str] | None = None) -> TerminalProbe:
        ws = api.websocket_connect(
            f"/ws/terminal?{query}", headers=headers or dict(api.headers)
        ).__enter__()
        sessions.append(ws)
        return TerminalProbe(ws)

    yield open_
    for ws in sessions:
        ws.__exit__(None, None, None)


def test_exec_terminal_runs_typed_commands(
    open_terminal: Callable[..., TerminalProbe], make_container: Callable[..., dict[str, Any]]
) -> None:
    container = make_container("sleep 3600")
    term = open_terminal(f"provider=docker&target={container['Name'].lstrip('/')}&cols=90&rows=30")
    term.type("echo hi\n")
    term.expect(b"echo hi\r\n")  # the TTY echoes what is typed
    term.expect(b"hi\r\n")  # then the shell runs it
    term.type("echo TERM=$TERM; busybox stty size\n")
    term.expect(b"TERM=xterm-256color\r\n")
    term.expect(b"30 90\r\n")
    term.control(type="resize", cols=120, rows=40)
    term.control(type="input", data="busybox stty size\n")
    term.expect(b"40 120\r\n")
    term.type("exit 3\n")
    assert term.expect_control("exit")["code"] == 3
    assert b"skyport-pid" not in term.seen  # the shell's pid report is not shown


def test_target_may_name_the_engine(
    open_terminal: Callable[..., TerminalProbe], make_container: Callable[..., dict[str, Any]]
) -> None:
    container = make_container("sleep 3600")
    term = open_terminal(f"provider=docker&target=local/{container['Id'][:12]}")
    term.type("hostname\n")
    term.expect(container["Config"]["Hostname"].encode() + b"\r\n")
    term.control(type="close")
    assert term.expect_control("exit")["code"] is not None


def test_closing_the_terminal_ends_what_runs_in_it(
    open_terminal: Callable[..., TerminalProbe],
    make_container: Callable[..., dict[str, Any]],
    engine: docker.APIClient,
) -> None:
    container = make_container("sleep 3600")
    term = open_terminal(f"provider=docker&target={container['Id']}")
    term.type("sleep 4242\n")
    deadline = time.monotonic() + WAIT
    while not any("sleep 4242" in " ".join(p) for p in engine.top(container["Id"])["Processes"]):
        assert time.monotonic() < deadline, "the command did not start"
        time.sleep(0.1)
    term.control(type="close")
    assert term.expect_control("exit")["code"] is not None
    deadline = time.monotonic() + WAIT
    while True:
        commands = [" ".join(p) for p in engine.top(container["Id"])["Processes"]]
        if not any("sleep 4242" in c or c.endswith(" sh") for c in commands):
            break
        assert time.monotonic() < deadline, f"still running: {commands}"
        time.sleep(0.1)


def test_terminal_failures_are_reported(
    open_terminal: Callable[..., TerminalProbe],
    make_container: Callable[..., dict[str, Any]],
    unique: Callable[[str], str],
) -> None:
    missing = unique("missing")
    term = open_terminal(f"provider=docker&target={missing}")
    error = term.expect_control("error")
    assert missing in error["message"]

    stopped = make_container("sleep 3600", start=False)
    term = open_terminal(f"provider=docker&target={stopped['Id']}")
    assert "not running" in term.expect_control("error")["message"]

    term = open_terminal("provider=docker&target=elsewhere/web")
    assert "elsewhere" in term.expect_control("error")["message"]


def test_the_terminal_needs_docker_exec(
    api: TestClient[Litestar],
    open_terminal: Callable[..., TerminalProbe],
    make_container: Callable[..., dict[str, Any]],
) -> None:
    """Operators may change containers but not run commands in them: exec is root-equivalent."""
    created = api.post(
        "/api/users", json={"username": "otto", "password": "otto-password", "role": "operator"}
    )
    assert created.status_code == 201
    token = login(api, "otto", "otto-password")
    container = make_container("sleep 3600")
    term = open_terminal(f"provider=docker&target={container['Id']}", headers=bearer(token))
    assert "docker:exec" in term.expect_control("error")["message"]
    listed = {t["name"]: t for t in api.get("/api/terminals").json()}
    assert listed["docker"]["scope"] == "docker:exec"
