"""An asyncio client of the PM2 daemon's RPC socket (axon REQ/REP over ``$PM2_HOME/rpc.sock``).

A request is the AMP message ``j:{"type":"call","method":M,"args":[ARG]}``,
``s:<id>``; the daemon answers ``j:{"args":[result]}`` or
``j:{"error":…}`` with the same id, so any number of calls can be in flight
on one connection. The connection is opened on first use and again after
the daemon went away (it restarted, or was killed): a call made while it is
down fails fast with :class:`NotConnected`, one in flight when it dropped
with :class:`ConnectionLost`.

Always one argument: the daemon appends its callback to ``args``, so a
missing argument would put the callback where the method expects data.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from typing import Any

from skyport_pm2 import amp

READ_CHUNK = 256 * 1024


class RpcFailure(Exception):
    """Base of everything :meth:`RpcClient.call` raises."""


class NotConnected(RpcFailure):
    """The socket could not be opened: the request was not sent."""


class ConnectionLost(RpcFailure):
    """The connection dropped after the request was sent: it may or may not have run."""


class RpcTimeout(RpcFailure):
    """No answer in time."""


class RpcError(RpcFailure):
    """The daemon ran the method and reported an error (``"9999 : id unknown"``)."""


class RpcClient:
    """One connection to ``rpc.sock``, shared by every caller on the event loop."""

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._prefix = f"skyport-{os.getpid()}-{id(self):x}"
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._connecting = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self._open_writer() is not None

    def _open_writer(self) -> asyncio.StreamWriter | None:
        writer = self._writer
        return writer if writer is not None and not writer.is_closing() else None

    async def call(self, method: str, arg: Any = None, wait: float | None = None) -> Any:
        """Run ``method(arg)`` in the daemon; its result, or an :class:`RpcFailure`."""
        writer = await self._connection()
        message_id = f"{self._prefix}:{next(self._ids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        request = {"type": "call", "method": method, "args": [{} if arg is None else arg]}
        try:
            writer.write(amp.encode(request, message_id))
            limit = self.timeout if wait is None else wait
            reply = await asyncio.wait_for(future, limit)
        except TimeoutError:
            raise RpcTimeout(f"no answer to {method} within {limit:g} s") from None
        finally:
            self._pending.pop(message_id, None)
        if not isinstance(reply, dict):
            raise RpcError(f"unexpected answer to {method}: {reply!r:.200}")
        if "error" in reply:
            raise RpcError(_error_text(reply["error"]))
        args = reply.get("args") or [None]
        return args[0]

    async def close(self) -> None:
        """Close the connection; calls in flight fail with :class:`ConnectionLost`."""
        task, self._reader_task = self._reader_task, None
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._fail_pending("the connection was closed")

    async def _connection(self) -> asyncio.StreamWriter:
        if (open_writer := self._open_writer()) is not None:
            return open_writer
        async with self._connecting:
            if (open_writer := self._open_writer()) is not None:
                return open_writer
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_unix_connection(self.path, limit=READ_CHUNK), self.timeout
                )
            except (OSError, TimeoutError) as exc:
                raise NotConnected(f"cannot connect to {self.path}: {_os_reason(exc)}") from None
            self._writer = writer
            self._reader_task = asyncio.create_task(
                self._read_replies(reader, writer), name="pm2-rpc-reader"
            )
            return writer

    async def _read_replies(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        parser = amp.Parser()
        reason = "the PM2 daemon closed the connection"
        try:
            while data := await reader.read(READ_CHUNK):
                for message in parser.feed(data):
                    if len(message) >= 2:
                        future = self._pending.get(str(message[1]))
                        if future is not None and not future.done():
                            future.set_result(message[0])
        except (OSError, amp.FramingError, ValueError) as exc:
            reason = f"the connection to the PM2 daemon broke: {exc}"
        finally:
            if self._writer is writer:
                self._writer = None
                writer.close()
                self._fail_pending(reason)

    def _fail_pending(self, reason: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(reason))
        self._pending.clear()


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("msg") or error)
    return str(error)


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such socket (the daemon is not running)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (the daemon is not running)"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
