"""Running a command on servers: one server in a worker thread, many at once.

The command is handed to the server's SSH daemon as given: the remote user's
shell runs it (``$SHELL -c COMMAND``), so quoting, pipes and variables mean
what they mean in that shell. SkyPort never builds a command from other
fields. Each server gets its own deadline; one slow or dead server never
holds up another's result, which is reported (and streamed) as soon as it
is known. Results are keyed by SkyPort's server name.
"""

from __future__ import annotations

import asyncio
import codecs
import select
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import TypeVar

import msgspec
import paramiko

from skyport_vps import errors
from skyport_vps.inventory import Server
from skyport_vps.pool import Pool

T = TypeVar("T")
READ_CHUNK = 65536

OutputSink = Callable[[str, str, str], None]
"""``sink(server, stream, text)``: live output, ``stream`` being ``stdout`` or ``stderr``."""


class HostResult(msgspec.Struct, kw_only=True):
    """What one server did: exit code and output, or why it could not."""

    server: str
    ok: bool
    """True when the command ran and exited 0."""
    exit_code: int | None = None
    """-1 when the command was killed by a signal; None when it did not end."""
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    """Seconds from the start of this server's work to its result."""
    error: str | None = None
    reason: str | None = None
    """Why it failed before exiting: ``timeout``, ``refused``, ``auth_failed`` …"""
    truncated: bool = False
    """Output beyond ``max_output`` bytes per stream was cut."""


class _Capture:
    """One output stream: decoded as UTF-8, kept (and streamed) up to a limit of characters."""

    def __init__(self, limit: int, emit: Callable[[str], None] | None) -> None:
        self.limit = limit
        self.emit = emit
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes, final: bool = False) -> None:
        text = self.decoder.decode(data, final)
        room = self.limit - self.size
        if len(text) > room:
            self.truncated = True
            text = text[:room]
        if not text:
            return
        self.parts.append(text)
        self.size += len(text)
        if self.emit is not None:
            self.emit(text)

    def text(self) -> str:
        self.feed(b"", final=True)
        return "".join(self.parts)


def run_command(
    pool: Pool,
    server: Server,
    command: str,
    timeout: float,
    max_output: int,
    sink: OutputSink | None = None,
) -> HostResult:
    """Run ``command`` on one server (blocking); never raises for the server's failures."""
    started = time.monotonic()
    deadline = started + timeout

    def emitter(stream: str) -> Callable[[str], None] | None:
        return None if sink is None else lambda text: sink(server.name, stream, text)

    out = _Capture(max_output, emitter("stdout"))
    err = _Capture(max_output, emitter("stderr"))
    try:
        with pool.channel(server, min(timeout, pool.settings.connect_timeout)) as chan:
            chan.exec_command(command)
            code = _pump(server, chan, out, err, deadline)
        if code is None:
            raise errors.CommandTimeout(server.name, f"the command ran longer than {timeout:g} s")
    except errors.ServerError as exc:
        return HostResult(
            server=server.name,
            ok=False,
            stdout=out.text(),
            stderr=err.text(),
            duration=time.monotonic() - started,
            error=exc.message,
            reason=exc.reason,
            truncated=out.truncated or err.truncated,
        )
    except Exception as exc:  # paramiko's own failures mid-command
        pool.discard(server.name)
        return HostResult(
            server=server.name,
            ok=False,
            duration=time.monotonic() - started,
            error=f"the connection failed: {exc or type(exc).__name__}",
            reason="ssh_error",
        )
    return HostResult(
        server=server.name,
        ok=code == 0,
        exit_code=code,
        stdout=out.text(),
        stderr=err.text(),
        duration=time.monotonic() - started,
        truncated=out.truncated or err.truncated,
    )


def _pump(
    server: Server, chan: paramiko.Channel, out: _Capture, err: _Capture, deadline: float
) -> int | None:
    """Read both streams until the command exits; its exit code, or None at the deadline."""
    while True:
        while chan.recv_ready():
            out.feed(chan.recv(READ_CHUNK))
        while chan.recv_stderr_ready():
            err.feed(chan.recv_stderr(READ_CHUNK))
        if (chan.eof_received or chan.closed) and not (
            chan.recv_ready() or chan.recv_stderr_ready()
        ):
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        _wait_readable(chan, remaining)
    if not chan.status_event.wait(max(0.0, deadline - time.monotonic())):
        return None
    code = chan.recv_exit_status()
    transport = chan.get_transport()
    if code == -1 and (transport is None or not transport.is_active()):  # no exit status
        raise errors.Unreachable(server.name, "the connection was lost before the command ended")
    return code


def _wait_readable(chan: paramiko.Channel, seconds: float) -> None:
    """Sleep until the channel has data, EOF or close (poll: no 1024-descriptor limit)."""
    poller = select.poll()
    poller.register(chan.fileno(), select.POLLIN)
    poller.poll(max(1, int(seconds * 1000)))


async def fan_out(
    servers: Sequence[Server],
    work: Callable[[Server], T],
    executor: Executor,
    parallel: int,
    done: Callable[[T], None] | None = None,
) -> list[T]:
    """``work(server)`` for every server in worker threads, at most ``parallel`` at once.

    ``done(result)`` is called as each finishes (in completion order); the
    results come back in the order of ``servers``.
    """
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(max(1, parallel))

    async def one(server: Server) -> T:
        async with gate:
            result = await loop.run_in_executor(executor, work, server)
        if done is not None:
            done(result)
        return result

    return list(await asyncio.gather(*(one(s) for s in servers)))
