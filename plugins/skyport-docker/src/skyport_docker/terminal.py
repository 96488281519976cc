"""``docker exec -it`` as a SkyPort terminal: ``/ws/terminal?provider=docker&target=<container>``.

The target is a container's id or name on the default engine, or
``<engine>/<container>`` on another one. The shell is ``bash`` when the
container has it, else ``sh``, on a TTY the engine allocates; the session
talks to the engine's hijacked exec socket directly (unix, TCP/TLS or an
SSH channel), so nothing but the engine's API is needed.

Closing a session hangs the shell up. The engine leaves an exec running
when its client goes away, so the shell first reports its pid (inside the
container) in an escape sequence that the session strips from the output;
on close, a second exec sends that pid ``SIGHUP`` (the shell's foreground
job gets it too, as from a real terminal), then ``SIGKILL`` if it lingers.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from typing import Any

from litestar.exceptions import ClientException

from skyport.api import OutputHandover, PluginContext, Principal, TerminalSize
from skyport_docker.engines import Engine
from skyport_docker.state import docker_state

PID_MARK = b"\x1b]skyport-pid;"
"""The shell's first output: ``ESC ] skyport-pid ; <pid> BEL`` (an OSC terminals ignore)."""
SHELL = [
    "/bin/sh",
    "-c",
    'printf "\\033]skyport-pid;%s\\007" "$$"; '
    "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi",
]
ENVIRONMENT = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}
READ_CHUNK = 65536
HANGUP_GRACE = 2.0
"""Seconds between SIGHUP and SIGKILL when a session is closed."""
REPORT_WAIT = 10.0
"""Seconds to wait for the shell's pid report when opening."""
EXIT_WAIT = 3.0
"""Seconds to wait for the engine to report the exit status."""


class DockerExecTerminal:
    """The ``docker`` terminal provider (scope ``docker:exec``: root in the container)."""

    name = "docker"
    scope = "docker:exec"
    description = (
        "Shell inside a container (docker exec -it); target: container or engine/container"
    )

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport

    def resolve(self, target: str) -> tuple[Engine, str]:
        """The engine and container a target names: ``container`` or ``engine/container``."""
        target = target.strip().lstrip("/")
        engines = docker_state(self.skyport).engines
        engine_name, sep, container = target.rpartition("/")
        if not container:
            raise ClientException("target: name a container (or engine/container)")
        return engines.get(engine_name if sep else None), container

    async def open(self, target: str, size: TerminalSize, user: Principal) -> DockerExecSession:
        engine, container = self.resolve(target)
        session = await asyncio.to_thread(DockerExecSession.start, engine, container)
        session.begin(asyncio.get_running_loop())
        # Nothing may be typed before the shell's pid report: the TTY would echo it first.
        await asyncio.to_thread(session._reported.wait, REPORT_WAIT)
        await session.resize(size)
        return session


class DockerExecSession:
    """One exec with a TTY; ``read`` returns ``b""`` once it has ended."""

    def __init__(self, engine: Engine, container: str, exec_id: str, sock: Any) -> None:
        self.engine = engine
        self.container = container
        self.exec_id = exec_id
        self.sock = sock
        self.raw: Any = getattr(sock, "_sock", sock) if isinstance(sock, socket.SocketIO) else sock
        self.exit_code: int | None = None
        self.pid: int | None = None
        """The shell's pid inside the container, once it has said it."""
        self._output: OutputHandover | None = None
        self._reported = threading.Event()
        """Set once the shell's pid report has been read (or cannot come)."""
        self._closed = False
        self._reader = threading.Thread(
            target=self._pump, name=f"docker-exec-{exec_id[:12]}", daemon=True
        )

    @classmethod
    def start(cls, engine: Engine, container: str) -> DockerExecSession:
        """Create the exec and attach to it (blocking)."""

        def attach(client: Any) -> tuple[str, str, Any]:
            container_id = client.inspect_container(container)["Id"]
            created = client.exec_create(
                container_id, SHELL, stdin=True, tty=True, environment=ENVIRONMENT
            )
            sock = client.exec_start(created["Id"], tty=True, socket=True)
            return container_id, created["Id"], sock

        container_id, exec_id, sock = engine.call(attach)
        return cls(engine, container_id, exec_id, sock)

    def begin(self, loop: asyncio.AbstractEventLoop) -> None:
        self._output = OutputHandover(loop)
        self._reader.start()

    # -- the TerminalSession protocol -----------------------------------------

    async def read(self) -> bytes:
        assert self._output is not None
        return await self._output.get()

    async def write(self, data: bytes) -> None:
        if data and not self._closed:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self.raw.sendall, data)

    async def resize(self, size: TerminalSize) -> None:
        def resize(client: Any) -> None:
            client.exec_resize(self.exec_id, height=size.rows, width=size.cols)

        with contextlib.suppress(Exception):  # the process may just have ended
            await asyncio.to_thread(self.engine.call, resize)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._output is not None:
            self._output.close()
        await asyncio.to_thread(self._finish)

    # -- the engine's side --------------------------------------------------

    def _pump(self) -> None:
        """Move output from the exec socket to the queue (waiting when it is full)."""
        pending: bytes | None = b""  # output held until the pid report has been read
        while True:
            try:
                data = self.raw.recv(READ_CHUNK)
            except OSError:
                data = b""
            if pending is not None:
                if data:
                    pending += data
                    if _partial_mark(pending):
                        continue
                    data, pending = self._take_pid(pending), None
                    self._reported.set()
                    if not data:  # nothing but the report so far
                        continue
                else:
                    self._reported.set()
                    if pending and not self._hand_over(pending):
                        return
                    pending = None
            if not self._hand_over(data) or not data:
                return

    def _take_pid(self, head: bytes) -> bytes:
        """Read the pid report off the start of the output; the rest of the output."""
        if not head.startswith(PID_MARK):
            return head
        end = head.find(b"\x07")
        number = head[len(PID_MARK) : end]
        if number.isdigit():
            self.pid = int(number)
        return head[end + 1 :]

    def _hand_over(self, data: bytes) -> bool:
        assert self._output is not None
        return self._output.put(data)

    def _finish(self) -> None:
        """Hang the process up if it still runs, drop the socket, learn the exit status."""
        if self._running():
            self._hang_up()
        with contextlib.suppress(OSError):
            self.raw.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self.sock.close()
        with contextlib.suppress(Exception):
            self.raw.close()
        self.exit_code = self._exit_code()

    def _inspect(self) -> dict[str, Any] | None:
        try:
            return self.engine.call(lambda c: c.exec_inspect(self.exec_id))
        except Exception:
            return None

    def _running(self) -> bool:
        state = self._inspect()
        return bool(state and state.get("Running"))

    def _hang_up(self) -> None:
        if self.pid is None:
            return
        for signal_name in ("HUP", "KILL"):
            with contextlib.suppress(Exception):
                self._kill(signal_name)
            if self._wait_exit(HANGUP_GRACE):
                return

    def _kill(self, signal_name: str) -> None:
        """``kill -<signal> <pid>`` in a second exec (the shell's builtin: no binary needed)."""
        command = ["/bin/sh", "-c", f"kill -{signal_name} {self.pid}"]

        def run(client: Any) -> None:
            created = client.exec_create(self.container, command, stdout=True, stderr=True)
            client.exec_start(created["Id"])

        self.engine.call(run)

    def _wait_exit(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self._running():
                return True
            time.sleep(0.05)
        return False

    def _exit_code(self) -> int | None:
        deadline = time.monotonic() + EXIT_WAIT
        while True:
            state = self._inspect()
            if state is None:
                return None
            if not state.get("Running"):
                code = state.get("ExitCode")
                return code if isinstance(code, int) else None
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)


def _partial_mark(head: bytes) -> bool:
    """Whether ``head`` is (the start of) a pid report still waiting for its end."""
    if len(head) < len(PID_MARK):
        return PID_MARK.startswith(head)
    return head.startswith(PID_MARK) and b"\x07" not in head and len(head) < 64
