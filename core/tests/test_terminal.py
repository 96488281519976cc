"""``WS /ws/terminal`` with the built-in host shell on a real PTY, and the PTY helper."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from skyport import hookimpl
from skyport.app import create_app
from skyport.auth.principal import Principal
from skyport.config import Settings
from skyport.errors import BackendUnavailable
from skyport.plugins import PluginManager
from skyport.terminals.host import login_shell, shell_command, shell_environment
from skyport.terminals.pty_session import PtySession, get_window_size
from skyport.testing import TerminalProbe
from skyport.types import Permission, TerminalSize

from .conftest import ADMIN_PASSWORD, LiveServer, bearer, login

WAIT = 15.0


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(terminal={"host_shell": True, "shell": "/bin/sh"})


@pytest.fixture
def open_terminal(
    client: TestClient[Litestar], admin_token: str
) -> Iterator[Callable[..., TerminalProbe]]:
    sessions: list[WebSocketTestSession] = []

    def open_(query: str = "provider=host", token: str | None = None) -> TerminalProbe:
        headers = bearer(token or admin_token)
        ws = client.websocket_connect(f"/ws/terminal?{query}", headers=headers).__enter__()
        sessions.append(ws)
        return TerminalProbe(ws)

    yield open_
    for ws in sessions:
        ws.__exit__(None, None, None)


def test_typed_command_runs_and_prints(open_terminal: Callable[..., TerminalProbe]) -> None:
    term = open_terminal()
    term.type("echo hi\n")
    term.expect(b"echo hi\r\n")  # the terminal echoes what is typed
    term.expect(b"hi\r\n")  # then the shell runs it
    term.control(type="input", data="echo $((6 * 7))\r")
    term.expect(b"42\r\n")


def test_runs_on_a_controlling_terminal_of_the_requested_size(
    open_terminal: Callable[..., TerminalProbe],
) -> None:
    term = open_terminal("provider=host&cols=90&rows=30")
    term.type(": </dev/tty && echo ctty-$((1 + 1)); echo TERM=$TERM\n")
    term.expect(b"ctty-2\r\n")
    term.expect(b"TERM=xterm-256color\r\n")
    term.type("stty size\n")
    term.expect(b"30 90\r\n")


def test_resize_changes_the_terminal_size(open_terminal: Callable[..., TerminalProbe]) -> None:
    term = open_terminal()
    term.control(type="resize", cols=100, rows=40)
    term.type("stty size\n")
    term.expect(b"40 100\r\n")
    term.control(type="resize", cols=132, rows=50)
    term.type("stty size\n")
    term.expect(b"50 132\r\n")


def test_exit_reports_the_exit_code_and_closes(open_terminal: Callable[..., TerminalProbe]) -> None:
    term = open_terminal()
    term.type("exit\n")
    assert term.expect_control("exit") == {"type": "exit", "code": 0}
    assert term.expect_close().code == 1000
    term = open_terminal()
    term.type("exit 3\n")
    assert term.expect_control("exit")["code"] == 3


def test_close_message_hangs_up_the_shell(open_terminal: Callable[..., TerminalProbe]) -> None:
    term = open_terminal()
    term.type("echo ready-$((1 + 1))\n")
    term.expect(b"ready-2\r\n")
    term.control(type="close")
    exit_frame = term.expect_control("exit")
    assert exit_frame["code"] is not None and exit_frame["code"] != 0
    assert term.expect_close().code == 1000


def test_bad_control_message_is_reported_and_the_session_goes_on(
    open_terminal: Callable[..., TerminalProbe],
) -> None:
    term = open_terminal()
    term.control(type="resize", cols=0, rows=10)
    assert "invalid message" in term.expect_control("error")["message"]
    term.ws.send_text("not json")
    assert "invalid message" in term.expect_control("error")["message"]
    term.type("echo still-$((2 + 3))\n")
    term.expect(b"still-5\r\n")


def test_server_environment_secrets_do_not_reach_the_shell(
    open_terminal: Callable[..., TerminalProbe],
) -> None:
    term = open_terminal()  # conftest sets SKYPORT_ADMIN_PASSWORD for the server
    term.type('echo "[${SKYPORT_ADMIN_PASSWORD-unset}]"\n')
    term.expect(b"[unset]\r\n")


def test_unknown_provider_and_bad_size_are_refused(
    open_terminal: Callable[..., TerminalProbe],
) -> None:
    term = open_terminal("provider=nope")
    assert "unknown terminal provider 'nope'" in term.expect_control("error")["message"]
    assert term.expect_close().code == 4404
    term = open_terminal("provider=host&cols=wide")
    assert "cols must be" in term.expect_control("error")["message"]
    assert term.expect_close().code == 4400


def test_host_shell_is_off_by_default(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(), plugins=PluginManager(strict=True, use_entry_points=False))
    with TestClient(app) as client:
        token = client.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        ).json()["token"]
        assert client.get("/api/terminals", headers=bearer(token)).json() == []
        with client.websocket_connect("/ws/terminal?provider=host", headers=bearer(token)) as ws:
            term = TerminalProbe(ws)
            error = term.expect_control("error")
            assert error["message"] == "unknown terminal provider 'host' (available: none)"
            assert term.expect_close().code == 4404


def test_viewer_lacks_the_provider_scope(
    client: TestClient[Litestar],
    admin_token: str,
    make_user: Callable[[str, str], str],
    open_terminal: Callable[..., TerminalProbe],
) -> None:
    viewer = make_user("vera", "viewer")
    listed = {t["name"]: t for t in client.get("/api/terminals", headers=bearer(viewer)).json()}
    assert listed["host"] == {
        "name": "host",
        "description": listed["host"]["description"],
        "scope": "host:shell",
        "allowed": False,
        "plugin": "core",
    }
    assert listed["echo"]["allowed"] is True  # a read-level plugin scope: viewers have it
    as_admin = client.get("/api/terminals", headers=bearer(admin_token)).json()
    assert all(t["allowed"] for t in as_admin)
    term = open_terminal(token=viewer)
    assert term.expect_control("error")["message"] == "terminal 'host' needs scope host:shell"
    assert term.expect_close().code == 4403
    audit = client.get(
        "/api/audit", params={"action": "terminal.open"}, headers=bearer(admin_token)
    ).json()["items"]
    assert [(e["username"], e["result"]) for e in audit] == [
        ("vera", "denied (missing scope host:shell)")
    ]


def test_unauthenticated_connection_is_refused(client: TestClient[Litestar]) -> None:
    with pytest.raises(WebSocketDisconnect) as refused:  # noqa: SIM117 - the enter raises
        with client.websocket_connect("/ws/terminal?provider=host"):
            pass
    assert refused.value.code != 1000
    assert "authentication required" in str(refused.value.detail)
    bad = bearer("not-a-token")
    with pytest.raises(WebSocketDisconnect):  # noqa: SIM117
        with client.websocket_connect("/ws/terminal?provider=host", headers=bad):
            pass
    assert client.get("/api/terminals").status_code == 401


def test_sessions_are_audited(
    client: TestClient[Litestar], admin_token: str, open_terminal: Callable[..., TerminalProbe]
) -> None:
    term = open_terminal()
    term.type("exit 0\n")
    term.expect_control("exit")
    term.expect_close()
    deadline = time.monotonic() + WAIT
    while True:  # the close is recorded right after the exit frame is sent
        entries = client.get(
            "/api/audit", params={"action": "terminal."}, headers=bearer(admin_token)
        ).json()["items"]
        if len(entries) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    closed, opened = entries
    assert (opened["username"], opened["action"], opened["target"], opened["result"]) == (
        "admin",
        "terminal.open host",
        "host",
        "ok",
    )
    assert (closed["username"], closed["action"]) == ("admin", "terminal.close host")
    assert closed["result"].startswith("exit 0 after ") and closed["result"].endswith("s")


def test_over_a_real_server(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=WAIT) as http:
        token = login(http, "admin", ADMIN_PASSWORD)
    url = live_server.url.replace("http://", "ws://") + "/ws/terminal?provider=host&cols=77"
    with connect(url, additional_headers=bearer(token), open_timeout=WAIT) as ws:
        ws.send(b"stty size; exit 5\n")
        output, frames = b"", []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                message = ws.recv(timeout=WAIT)
                if isinstance(message, bytes):
                    output += message
                else:
                    frames.append(json.loads(message))
    assert b"24 77\r\n" in output
    assert frames == [{"type": "exit", "code": 5}]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


class EchoSession:
    """A terminal that is no process: it shouts back what it is sent."""

    def __init__(self, target: str, size: TerminalSize) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.queue.put_nowait(f"{target} {size.cols}x{size.rows}\n".encode())
        self.crash_on_read = target == "crash"

    async def read(self) -> bytes:
        data = await self.queue.get()
        if data == b"BOOM" and self.crash_on_read:
            raise RuntimeError("the backend went away")
        return data

    async def write(self, data: bytes) -> None:
        await self.queue.put(b"" if data == b"bye" else data.upper())

    async def resize(self, size: TerminalSize) -> None:
        await self.queue.put(f"now {size.cols}x{size.rows}\n".encode())

    async def close(self) -> None:
        self.queue.put_nowait(b"")


class EchoTerminal:
    name = "echo"
    scope = "echo:use"
    description = "Shouts back"

    async def open(self, target: str, size: TerminalSize, user: Principal) -> EchoSession:
        if target == "missing":
            raise BackendUnavailable("echo backend", "no such target")
        return EchoSession(target, size)


class EchoPlugin:
    @hookimpl
    def register_permissions(self) -> list[Permission]:
        return [Permission("echo:use", "Use the echo terminal")]

    @hookimpl
    def register_terminals(self) -> list[EchoTerminal]:
        return [EchoTerminal()]


@pytest.fixture
def plugin_manager() -> PluginManager:
    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(EchoPlugin(), name="echo")
    return manager


def test_plugin_terminal_through_the_bridge(
    client: TestClient[Litestar], admin_token: str, open_terminal: Callable[..., TerminalProbe]
) -> None:
    listed = client.get("/api/terminals", headers=bearer(admin_token)).json()
    assert [(t["name"], t["plugin"], t["allowed"]) for t in listed] == [
        ("echo", "echo", True),
        ("host", "core", True),
    ]
    term = open_terminal("provider=echo&target=box-1&cols=10&rows=5")
    term.expect(b"box-1 10x5\n")
    term.type("hello")
    term.expect(b"HELLO")
    term.control(type="input", data="ünïcode")
    term.expect("üNïCODE".encode())  # bytes.upper() leaves non-ASCII alone
    term.control(type="resize", cols=33, rows=11)
    term.expect(b"now 33x11\n")
    term.type("bye")  # the session ends; it has no exit code to report
    assert term.expect_control("exit") == {"type": "exit", "code": None}
    assert term.expect_close().code == 1000


def test_provider_failures_close_with_1011(
    client: TestClient[Litestar], admin_token: str, open_terminal: Callable[..., TerminalProbe]
) -> None:
    term = open_terminal("provider=echo&target=missing")
    assert term.expect_control("error")["message"] == (
        "cannot open terminal 'echo': echo backend is unavailable: no such target"
    )
    assert term.expect_close().code == 1011
    term = open_terminal("provider=echo&target=crash")
    term.type("boom")
    assert term.expect_control("error")["message"] == "terminal failed: the backend went away"
    assert term.expect_close().code == 1011
    entries = client.get(
        "/api/audit", params={"action": "terminal."}, headers=bearer(admin_token)
    ).json()["items"]
    results = [(e["action"], e["target"], e["result"]) for e in reversed(entries)]
    assert results[0] == (
        "terminal.open echo",
        "missing",
        "failed: cannot open terminal 'echo': echo backend is unavailable: no such target",
    )
    assert results[1] == ("terminal.open echo", "crash", "ok")
    assert results[2][:2] == ("terminal.close echo", "crash")
    assert results[2][2].startswith("failed: terminal failed: the backend went away, exit unknown")


def test_missing_shell_program_is_a_clear_error(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(terminal={"host_shell": True, "shell": "/no/such/shell -i"})
    app = create_app(settings, plugins=PluginManager(strict=True, use_entry_points=False))
    with TestClient(app) as client:
        token = login(client, "admin", ADMIN_PASSWORD)
        with client.websocket_connect("/ws/terminal?provider=host", headers=bearer(token)) as ws:
            term = TerminalProbe(ws)
            message = term.expect_control("error")["message"]
            assert message.startswith("cannot open terminal 'host': ")
            assert "/no/such/shell" in message
            assert term.expect_close().code == 1011


# --------------------------------------------------------------------------
# The PTY helper and the host shell's choices, without the server
# --------------------------------------------------------------------------


async def _read_until(session: PtySession, needle: bytes) -> bytes:
    output = b""
    async with asyncio.timeout(WAIT):
        while needle not in output:
            chunk = await session.read()
            assert chunk, f"ended early; output: {output!r}"
            output += chunk
    return output


async def test_pty_session_reads_writes_and_reports_the_exit() -> None:
    session = await PtySession.spawn(
        ["sh", "-c", 'printf "go\\n"; read line; echo "got:$line"; exit 7'], TerminalSize(81, 25)
    )
    assert get_window_size(session._fd) == TerminalSize(81, 25)
    await _read_until(session, b"go")
    await session.write(b"abc\n")
    await _read_until(session, b"got:abc")
    async with asyncio.timeout(WAIT):
        while await session.read():
            pass
    assert session.exit_code == 7
    await session.close()
    assert await session.read() == b""


async def test_pty_session_close_kills_what_ignores_the_hangup() -> None:
    session = await PtySession.spawn(
        ["sh", "-c", "trap '' HUP; sleep 60 & echo started:$!.; wait"], grace=0.5
    )
    output = await _read_until(session, b".")
    sleeper = int(output.split(b"started:")[1].split(b".")[0])
    async with asyncio.timeout(WAIT):
        await session.close()
    assert session.exit_code == 128 + 9
    assert _dies(sleeper), "the background job in the shell's group survived"


def _dies(pid: int) -> bool:
    """Whether ``pid`` stops running (a zombie counts: a container may lack an init)."""
    deadline = time.monotonic() + WAIT  # SIGKILL is sent; the kernel finishes it shortly
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


async def test_pty_session_missing_program_raises() -> None:
    with pytest.raises(FileNotFoundError):
        await PtySession.spawn(["/no/such/shell"])


def test_shell_choice() -> None:
    assert shell_command("/bin/bash --norc -i") == ["/bin/bash", "--norc", "-i"]
    assert shell_command("", {"SHELL": "/bin/sh"}) == ["/bin/sh"]
    assert login_shell({"SHELL": "/usr/sbin/nologin"}) != "/usr/sbin/nologin"
    assert login_shell({"SHELL": "relative/sh"}) != "relative/sh"
    env = shell_environment({"PATH": "/bin", "SKYPORT_SECRET": "x", "TERM": "dumb"})
    assert env == {"PATH": "/bin", "TERM": "xterm-256color", "COLORTERM": "truecolor"}
