"""A local program on a pseudo-terminal, as a :class:`~skyport.types.TerminalSession`.

Plugins whose terminal is a local process (``docker exec -it``, ``ssh -t``,
``kubectl exec``) can reuse it::

    session = await PtySession.spawn(["docker", "exec", "-it", cid, "sh"], size)

The program runs in a new session with the PTY as its controlling terminal,
so job control, ``SIGWINCH`` on resize and ``SIGHUP`` on close behave as in
a real terminal emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import functools
import os
import signal
import struct
import termios
from collections.abc import Mapping, Sequence

from skyport.types import TerminalSize

TERMINAL_TYPE = "xterm-256color"
READ_CHUNK = 65536
CLOSE_GRACE = 2.0
"""Seconds between SIGHUP and SIGKILL when a session is closed."""
EOF_REAP_WAIT = 2.0
"""Seconds to wait for the exit status once the PTY reports end of file."""


def set_window_size(fd: int, size: TerminalSize) -> None:
    """Tell the terminal on ``fd`` its size (the foreground job gets ``SIGWINCH``)."""
    rows, cols = _clamp(size.rows), _clamp(size.cols)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def get_window_size(fd: int) -> TerminalSize:
    """Read the size of the terminal on ``fd``."""
    rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(8)))
    return TerminalSize(cols=cols, rows=rows)


def _clamp(value: int) -> int:
    return max(1, min(int(value), 0xFFFF))


def _take_controlling_tty(tty_name: str) -> None:  # runs in the child between fork and exec
    # Open the PTY by name rather than using fd 0: uvloop runs this hook before
    # it wires up the child's standard descriptors.
    os.setsid()
    fd = os.open(tty_name, os.O_RDWR)
    fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
    os.close(fd)


def exit_status(returncode: int | None) -> int | None:
    """A process's exit status the way a shell reports it (killed by signal N -> 128+N)."""
    if returncode is None:
        return None
    return 128 - returncode if returncode < 0 else returncode


class PtySession:
    """A local process whose stdin, stdout and stderr are one PTY.

    ``read`` returns output as it arrives and ``b""`` once the program has
    exited (after the remaining output). ``exit_code`` is its exit status
    (128+N when killed by signal N), None while it runs.
    """

    def __init__(
        self, process: asyncio.subprocess.Process, master_fd: int, *, grace: float = CLOSE_GRACE
    ) -> None:
        self.process = process
        self.pid = process.pid
        self.grace = grace
        self._fd = master_fd
        self._closed = False
        self._exited = asyncio.ensure_future(process.wait())
        os.set_blocking(master_fd, False)

    @classmethod
    async def spawn(
        cls,
        argv: Sequence[str],
        size: TerminalSize | None = None,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        executable: str | None = None,
        grace: float = CLOSE_GRACE,
    ) -> PtySession:
        """Start ``argv`` on a new PTY of ``size`` (default 80x24).

        ``env`` replaces the server's environment; ``TERM`` is
        ``xterm-256color`` unless ``env`` sets it. ``executable`` runs a
        program other than ``argv[0]`` (``argv[0]="-bash"`` makes a login shell).
        """
        environment = {**os.environ, "TERM": TERMINAL_TYPE} if env is None else dict(env)
        environment.setdefault("TERM", TERMINAL_TYPE)
        master, slave = os.openpty()
        try:
            set_window_size(slave, size or TerminalSize())
            process = await asyncio.create_subprocess_exec(
                *argv,
                executable=executable,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=environment,
                cwd=cwd,
                preexec_fn=functools.partial(_take_controlling_tty, os.ttyname(slave)),
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)  # the child holds its copies; EOF arrives when they close
        return cls(process, master, grace=grace)

    @property
    def exit_code(self) -> int | None:
        return exit_status(self.process.returncode)

    @property
    def closed(self) -> bool:
        return self._closed

    async def read(self) -> bytes:
        """The next chunk of output; ``b""`` once the program has ended."""
        while not self._closed:
            try:
                data = os.read(self._fd, READ_CHUNK)
            except BlockingIOError:
                if self.process.returncode is not None:
                    return b""  # exited and drained (orphans may still hold the PTY)
                await self._readable_or_exited()
                continue
            except OSError as exc:
                if exc.errno != errno.EIO:  # EIO: every slave descriptor is closed
                    raise
                data = b""
            if not data:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._exited), EOF_REAP_WAIT)
            return data
        return b""

    async def write(self, data: bytes) -> None:
        """Type ``data`` into the terminal (waits while the PTY's input buffer is full)."""
        view = memoryview(data)
        while view and not self._closed:
            try:
                written = os.write(self._fd, view)
            except BlockingIOError:
                await self._writable()
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:
                    return  # the program has gone; nothing will read it
                raise
            view = view[written:]

    async def resize(self, size: TerminalSize) -> None:
        if not self._closed:
            set_window_size(self._fd, size)

    async def close(self) -> None:
        """Hang up: SIGHUP to the process group, SIGKILL after ``grace``; reap it."""
        if not self._closed:
            self._closed = True
            self._signal(signal.SIGHUP)
            self._signal(signal.SIGCONT)  # a stopped job must wake up to see the hangup
            os.close(self._fd)  # the kernel hangs up the terminal's session too
        if self.process.returncode is None:
            try:
                await asyncio.wait_for(asyncio.shield(self._exited), self.grace)
            except TimeoutError:
                self._signal(signal.SIGKILL)
                await self._exited

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    async def _readable_or_exited(self) -> None:
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        loop.add_reader(self._fd, _settle, readable)
        try:
            await asyncio.wait({readable, self._exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            loop.remove_reader(self._fd)
            readable.cancel()

    async def _writable(self) -> None:
        loop = asyncio.get_running_loop()
        writable = loop.create_future()
        loop.add_writer(self._fd, _settle, writable)
        try:
            await asyncio.wait({writable, self._exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            loop.remove_writer(self._fd)
            writable.cancel()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
