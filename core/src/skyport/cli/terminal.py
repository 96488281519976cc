"""Bridge this process's terminal to a SkyPort terminal (``WS /ws/terminal``).

Used by every command that opens an interactive terminal: ``skyport docker
exec -it``, ``skyport vps ssh`` … The terminal's output is written to standard
output as it comes. When standard input is a terminal it is put in raw mode
(every key, Ctrl-C included, goes to the remote program) and window size
changes are sent as ``resize`` messages; otherwise standard input is piped
in, and its end is typed as Ctrl-D. The session's exit code is returned.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import queue
import secrets
import select
import shlex
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from skyport.cli.output import CliError
from skyport.client import Client, TerminalLink

CTRL_D = "\x04"
TYPED_WAIT = 10.0
"""Seconds to wait for the shell to run a typed command before showing all and going on."""
_STOP = object()


def open_terminal(
    client: Client, provider: str, target: str = "", command: list[str] | None = None
) -> int:
    """Bridge this terminal (or pipe) to ``provider``'s terminal on ``target``; the exit code.

    The remote terminal starts at this terminal's size. See :func:`run_terminal`.
    """
    size = shutil.get_terminal_size()
    query = urlencode(
        {"provider": provider, "target": target, "cols": size.columns, "rows": size.lines}
    )
    return run_terminal(client, query, command)


def run_terminal(client: Client, query: str, command: list[str] | None = None) -> int:
    """Bridge this terminal (or pipe) to ``/ws/terminal?<query>``; the exit code.

    The terminal opens a shell. A ``command`` is typed into it
    as ``exec COMMAND``, after a line that prints a marker: what comes
    before the marker (banner, prompt, the typed line) is not shown, and
    standard input is held until it, so nothing typed ahead reaches the
    shell's line editor instead of the command.
    """
    link = client.terminal(query)
    outbox: queue.Queue[Any] = queue.Queue()
    ready = threading.Event()
    marker = b""
    if command:
        head, tail = secrets.token_hex(4), secrets.token_hex(4)
        marker = f"skyport-{head}{tail}".encode()
        line = f"printf '%s%s\\n' skyport-{head} {tail}; exec {shlex.join(command)}\n"
        outbox.put({"type": "input", "data": line})
    else:
        ready.set()
    sender = threading.Thread(target=_send_all, args=(link, outbox), daemon=True)
    sender.start()
    stdin_fd = _fileno(sys.stdin)
    is_tty = stdin_fd is not None and os.isatty(stdin_fd)
    # Written to when the session ends: the reader stops waiting for standard input, so
    # no key typed afterwards is taken from the program that goes on (``skyport tui``).
    done, ended = os.pipe()
    reader = threading.Thread(
        target=_read_stdin, args=(outbox, stdin_fd, is_tty, ready, done), daemon=True
    )
    try:
        with _raw_mode(stdin_fd if is_tty else None), _resizes(outbox, is_tty):
            reader.start()
            return _pump_output(link, ready, marker)
    finally:
        with contextlib.suppress(OSError):  # the reader is gone already (its input ended)
            os.write(ended, b"x")
        os.close(ended)
        if not reader.is_alive() and reader.ident is None:
            os.close(done)  # never started: nobody else will
        outbox.put(_STOP)
        sender.join(timeout=5)
        link.close()


def _pump_output(link: TerminalLink, ready: threading.Event, marker: bytes) -> int:
    """Write the terminal's output (from the marker's line on); the exit code."""
    held = b""
    deadline = time.monotonic() + TYPED_WAIT
    error: str | None = None
    code: int | None = None
    ended = False
    for frame in link.frames():
        if isinstance(frame, bytes):
            if ready.is_set():
                _write(frame)
                continue
            held += frame
            at = held.find(marker)
            newline = held.find(b"\n", at) if at >= 0 else -1
            if newline >= 0 or time.monotonic() > deadline:
                ready.set()
                _write(held[newline + 1 :] if newline >= 0 else held)
            continue
        try:
            message = json.loads(frame)
        except ValueError:
            continue
        if message.get("type") == "exit":
            code, ended = message.get("code"), True
        elif message.get("type") == "error":
            error = str(message.get("message") or "terminal error")
    if not ready.is_set():  # ended before the command ran: show why
        _write(held)
    if error is not None:
        raise CliError(error)
    if not ended:
        raise CliError("the terminal's connection ended before its program did")
    return code if isinstance(code, int) else 0


def _write(data: bytes) -> None:
    out = getattr(sys.stdout, "buffer", None)
    if out is not None:
        out.write(data)
    else:
        sys.stdout.write(data.decode(errors="replace"))
    sys.stdout.flush()


def _send_all(link: TerminalLink, outbox: queue.Queue[Any]) -> None:
    while (message := outbox.get()) is not _STOP:
        try:
            link.send(message)
        except Exception:  # the session ended while we were typing
            return


def _read_stdin(
    outbox: queue.Queue[Any], fd: int | None, is_tty: bool, ready: threading.Event, done: int
) -> None:
    """Type standard input into the terminal; a pipe's end becomes Ctrl-D.

    Stops, reading nothing more, once ``done`` (a pipe) is readable: the session ended.
    """
    try:
        _type_input(outbox, fd, is_tty, ready, done)
    finally:
        os.close(done)


def _type_input(
    outbox: queue.Queue[Any], fd: int | None, is_tty: bool, ready: threading.Event, done: int
) -> None:
    ready.wait(TYPED_WAIT)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    last = "\n"
    while True:
        if fd is not None and done in select.select([fd, done], [], [])[0]:
            return
        try:
            data: bytes | str = os.read(fd, 4096) if fd is not None else sys.stdin.read(4096)
        except (OSError, ValueError):
            data = b""
        if not data:
            if not is_tty:  # Ctrl-D ends the input at the start of a line
                outbox.put({"type": "input", "data": CTRL_D if last == "\n" else CTRL_D * 2})
            return
        chunk = decoder.decode(data) if isinstance(data, bytes) else data
        if chunk:
            outbox.put({"type": "input", "data": chunk})
            last = chunk[-1]


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None


@contextlib.contextmanager
def _raw_mode(fd: int | None) -> Iterator[None]:
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
def _resizes(outbox: queue.Queue[Any], enabled: bool) -> Iterator[None]:
    """Send the new size when the window changes (SIGWINCH), on a terminal only."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def changed(_signum: int, _frame: Any) -> None:
        size = shutil.get_terminal_size()
        outbox.put({"type": "resize", "cols": size.columns, "rows": size.lines})

    previous = signal.signal(signal.SIGWINCH, changed)
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)
