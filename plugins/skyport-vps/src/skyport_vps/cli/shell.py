"""``skyport vps ssh NAME``: an interactive shell through SkyPort's ``/ws/terminal``.

The shell runs on the server's side of SkyPort's pooled SSH connection; this
command only carries keys and output. On a terminal, standard input is put
in raw mode (Ctrl-C goes to the remote program) and window size changes are
sent along; from a pipe, the input is typed in and its end is a Ctrl-D.
The exit code is the shell's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from skyport.cli.common import api
from skyport.cli.output import CliError
from skyport_vps.cli.base import app

CTRL_D = b"\x04"


class _Socket:
    """``/ws/terminal`` of the server (websockets) or of the in-process app."""

    def __init__(self, client: Any, query: str) -> None:
        self.local = client.mode == "local"
        path = "/ws/terminal?" + query
        if self.local:
            from skyport.client import _LocalSocket

            self._ws: Any = _LocalSocket(client.http, dict(client.http.headers), path)
            self._ws.__enter__()
            return
        from websockets.sync.client import connect

        from skyport.client import ServerUnreachable, tls_context

        url = "ws" + client.url.removeprefix("http") + path
        try:
            self._ws = connect(
                url,
                additional_headers={"Authorization": f"Bearer {client.token}"},
                ssl=tls_context() if url.startswith("wss:") else None,
                open_timeout=30,
            )
        except Exception as exc:
            raise ServerUnreachable(client.url, str(exc) or type(exc).__name__) from None

    def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        if self.local:
            self._ws.send_text(text)
        else:
            self._ws.send(text)

    def frames(self) -> Iterator[bytes | str]:
        if self.local:
            while (message := self._ws.receive())["type"] != "websocket.close":
                yield message["bytes"] if message.get("bytes") is not None else message["text"]
            return
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            while True:
                yield self._ws.recv()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.local:
                self._ws.__exit__(None, None, None)
            else:
                self._ws.close()


@app.command
def ssh(name: str, /) -> int:
    """Open an interactive shell on a server (needs the scope vps:shell).

    Parameters
    ----------
    name
        The server.
    """
    size = shutil.get_terminal_size()
    query = urlencode({"provider": "vps", "target": name, "cols": size.columns, "rows": size.lines})
    with api() as client:
        socket = _Socket(client, query)
        try:
            return _bridge(socket)
        finally:
            socket.close()


def _bridge(socket: _Socket) -> int:
    fd = _fileno(sys.stdin)
    tty = fd is not None and os.isatty(fd)
    threading.Thread(target=_type_input, args=(socket, fd, tty), daemon=True).start()
    with _raw(fd if tty else None), _window_changes(socket, tty):
        return _show_output(socket)


def _show_output(socket: _Socket) -> int:
    out = getattr(sys.stdout, "buffer", None)
    for frame in socket.frames():
        if isinstance(frame, bytes):
            if out is not None:
                out.write(frame)
            else:
                sys.stdout.write(frame.decode(errors="replace"))
            sys.stdout.flush()
            continue
        message = json.loads(frame)
        if message.get("type") == "exit":
            code = message.get("code")
            return code if isinstance(code, int) else 0
        if message.get("type") == "error":
            raise CliError(str(message.get("message") or "terminal error"))
    raise CliError("the terminal's connection ended before the shell did")


def _type_input(socket: _Socket, fd: int | None, tty: bool) -> None:
    """Send what is typed (or piped); the end of a pipe becomes Ctrl-D."""
    while True:
        try:
            data = os.read(fd, 4096) if fd is not None else sys.stdin.read(4096).encode()
        except (OSError, ValueError):
            data = b""
        try:
            if not data:
                if not tty:
                    socket.send({"type": "input", "data": CTRL_D.decode()})
                return
            socket.send({"type": "input", "data": data.decode(errors="replace")})
        except Exception:  # the session has ended
            return


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None


@contextlib.contextmanager
def _raw(fd: int | None) -> Iterator[None]:
    if fd is None:
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def _window_changes(socket: _Socket, enabled: bool) -> Iterator[None]:
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def changed(_signum: int, _frame: Any) -> None:
        size = shutil.get_terminal_size()
        with contextlib.suppress(Exception):
            socket.send({"type": "resize", "cols": size.columns, "rows": size.lines})

    previous = signal.signal(signal.SIGWINCH, changed)
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)
