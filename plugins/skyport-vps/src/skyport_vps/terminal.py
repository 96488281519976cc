"""An interactive shell on a server: ``/ws/terminal?provider=vps&target=<server>``.

The shell runs on a pseudo-terminal the server allocates (``xterm-256color``)
on a channel of the server's pooled connection; resizing sends the SSH
``window-change`` request. Closing the session closes the channel, which
hangs the shell up on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from contextlib import AbstractContextManager
from typing import Any

import paramiko

from skyport.api import OutputHandover, PluginContext, Principal, TerminalSize
from skyport_vps.api.common import allowed_server
from skyport_vps.state import vps_state

READ_CHUNK = 65536
TERM = "xterm-256color"
EXIT_WAIT = 3.0
"""Seconds to wait for the exit status once the shell's output has ended."""


class SshShellTerminal:
    """The ``vps`` terminal provider (scope ``vps:shell``: a login on the server)."""

    name = "vps"
    scope = "vps:shell"
    description = "A shell on a server over SSH; target: the server's name"

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport

    async def open(self, target: str, size: TerminalSize, user: Principal) -> SshShellSession:
        state = vps_state(self.skyport)
        server = await allowed_server(self.skyport, user, target.strip())

        def start() -> tuple[AbstractContextManager[paramiko.Channel], paramiko.Channel]:
            holder = state.pool.channel(server)
            chan = holder.__enter__()
            try:
                chan.get_pty(term=TERM, width=size.cols, height=size.rows)
                chan.invoke_shell()
            except BaseException:
                holder.__exit__(None, None, None)
                raise
            return holder, chan

        holder, chan = await asyncio.to_thread(start)
        session = SshShellSession(holder, chan)
        session.begin(asyncio.get_running_loop())
        return session


class SshShellSession:
    """One shell channel; ``read`` returns ``b""`` once the shell has ended."""

    def __init__(self, holder: AbstractContextManager[Any], chan: paramiko.Channel) -> None:
        self._holder = holder
        self.chan = chan
        self.exit_code: int | None = None
        self._output: OutputHandover | None = None
        self._closing = False
        self._reader = threading.Thread(target=self._pump, name="vps-shell", daemon=True)

    def begin(self, loop: asyncio.AbstractEventLoop) -> None:
        self._output = OutputHandover(loop)
        self._reader.start()

    async def read(self) -> bytes:
        assert self._output is not None
        return await self._output.get()

    async def write(self, data: bytes) -> None:
        if data and not self.chan.closed:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                await asyncio.to_thread(self.chan.sendall, data)

    async def resize(self, size: TerminalSize) -> None:
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
            await asyncio.to_thread(self.chan.resize_pty, width=size.cols, height=size.rows)

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._output is not None:
            self._output.close()
        await asyncio.to_thread(self._finish)

    def _finish(self) -> None:
        # The shell's end of output (EOF) may come before its exit status: wait for it.
        if self.chan.eof_received:
            self.chan.status_event.wait(EXIT_WAIT)
        if self.chan.exit_status_ready() and self.chan.exit_status >= 0:
            self.exit_code = self.chan.recv_exit_status()
        self._holder.__exit__(None, None, None)
        self._reader.join(timeout=5)

    def _pump(self) -> None:
        """Move output from the channel to the reader (waiting while it is behind)."""
        assert self._output is not None
        while True:
            try:
                data = self.chan.recv(READ_CHUNK)
            except (OSError, EOFError, paramiko.SSHException):
                data = b""
            if not self._output.put(data) or not data:
                return
