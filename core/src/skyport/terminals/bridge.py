"""``WS /ws/terminal`` and ``GET /api/terminals``: interactive terminals over a WebSocket.

Connect to ``/ws/terminal?provider=<name>&target=<where>&cols=<N>&rows=<M>``
as a logged-in user (Bearer token or session cookie). ``provider`` names a
terminal from ``GET /api/terminals``; ``target`` is that provider's notion
of where to open it (a container, a server; ignored by ``host``); ``cols``
and ``rows`` default to 80x24. The provider's own scope (``host:shell`` …)
is checked after the connection is accepted.

Protocol, once connected:

- server -> client, binary frame: terminal output bytes.
- client -> server, binary frame: bytes typed into the terminal (stdin).
- client -> server, text frame, JSON control message:
  ``{"type": "input", "data": "ls\\n"}`` types text (UTF-8);
  ``{"type": "resize", "cols": 120, "rows": 40}`` resizes the terminal;
  ``{"type": "close"}`` ends the session (the program is hung up).
- server -> client, text frame ``{"type": "exit", "code": 0}`` when the
  session ends (``code``: the exit status, 128+N if killed by signal N,
  null if unknown); the server then closes the WebSocket with code 1000.
- server -> client, text frame ``{"type": "error", "message": "..."}``.
  A malformed control message gets one and the session goes on; a failure
  gets one followed by a close: 4400 bad query parameters, 4404 unknown
  provider, 4403 missing scope, 1011 the provider could not open the
  terminal or failed during the session; 4401 the session or token was
  revoked, 4403 the user lost scopes meanwhile (see :mod:`skyport.auth.live`:
  the program is hung up within seconds). Unauthenticated connections are
  refused before they are accepted.

Every session is audited: ``terminal.open <provider>`` when it starts (or
is refused for a missing scope, or fails to open) and
``terminal.close <provider>`` with the exit status and duration when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Annotated, Any

import msgspec
from litestar import Request, WebSocket, get, websocket
from litestar.exceptions import HTTPException, WebSocketDisconnect

from skyport.auth.live import LiveConnection
from skyport.auth.middleware import client_address
from skyport.auth.principal import Principal
from skyport.types import TerminalProvider, TerminalSession, TerminalSize

log = logging.getLogger("skyport.terminals")

CLOSE_NORMAL = 1000
CLOSE_FAILED = 1011
CLOSE_BAD_REQUEST = 4400
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
OPEN_TIMEOUT = 30.0
"""Seconds a provider may take to open a terminal."""
CLOSE_TIMEOUT = 15.0
"""Seconds a session may take to close."""
MAX_CELLS = 65535

Cells = Annotated[int, msgspec.Meta(ge=1, le=MAX_CELLS)]


class TerminalInfo(msgspec.Struct, frozen=True):
    """A terminal provider as ``GET /api/terminals`` lists it."""

    name: str
    description: str
    scope: str
    allowed: bool
    """Whether the current user holds ``scope``."""
    plugin: str = ""


class InputMessage(msgspec.Struct, tag="input", tag_field="type"):
    data: str


class ResizeMessage(msgspec.Struct, tag="resize", tag_field="type"):
    cols: Cells
    rows: Cells


class CloseMessage(msgspec.Struct, tag="close", tag_field="type"):
    pass


ControlMessage = InputMessage | ResizeMessage | CloseMessage

_decoder = msgspec.json.Decoder(ControlMessage)
_encoder = msgspec.json.Encoder()


class Refused(Exception):
    """The terminal cannot be opened: tell the client and close with ``code``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@get("/api/terminals", opt={"scope": "auth:self"}, tags=["terminals"])
async def list_terminals(request: Request[Principal, Any, Any]) -> list[TerminalInfo]:
    """Every terminal provider, and whether you may open it."""
    registry = request.app.state.services.registry
    return [
        TerminalInfo(
            name=name,
            description=provider.description,
            scope=provider.scope,
            allowed=request.user.has_scope(provider.scope),
            plugin=registry.owner(provider),
        )
        for name, provider in sorted(registry.terminals.items())
    ]


ROUTES = [list_terminals]


@websocket("/ws/terminal", opt={"scope": "auth:self"})
async def terminal_socket(socket: WebSocket[Principal, Any, Any]) -> None:
    """An interactive terminal; see the module documentation for the protocol."""
    await socket.accept()
    principal = socket.user
    query = socket.query_params
    name = query.get("provider", "")
    target = query.get("target", "")
    audit = _Auditor(socket, principal, name, target)
    try:
        size = TerminalSize(cols=_cells(query, "cols", 80), rows=_cells(query, "rows", 24))
        provider = _provider(socket, name)
        if not principal.has_scope(provider.scope):
            await audit.record("open", f"denied (missing scope {provider.scope})")
            raise Refused(CLOSE_FORBIDDEN, f"terminal {name!r} needs scope {provider.scope}")
        session = await _open(provider, target, size, principal, audit)
    except Refused as refusal:
        await _refuse(socket, refusal)
        return
    await audit.record("open", "ok")
    started = time.monotonic()
    outcome, failure = "exit", None
    try:
        with socket.app.state.live_sessions.track(principal) as connection:
            outcome = await _bridge(socket, session, connection)
    except Exception as exc:
        log.exception("terminal %r failed", name)
        failure = Refused(CLOSE_FAILED, f"terminal failed: {_describe(exc)}")
    finally:
        code = await _close_session(session)
        duration = time.monotonic() - started
        await audit.record("close", _close_result(outcome, failure, code, duration))
    if outcome == "revoked":
        failure = Refused(connection.code, connection.reason)
    if failure:
        await _refuse(socket, failure)
    elif outcome != "disconnect":
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await socket.send_text(_message("exit", code=code))
            await socket.close(CLOSE_NORMAL)


class _Auditor:
    """Records this connection's terminal events in the audit log."""

    def __init__(
        self, socket: WebSocket[Any, Any, Any], principal: Principal, name: str, target: str
    ) -> None:
        self.log = socket.app.state.audit
        self.username = principal.username
        self.name = name
        self.target = target or name
        self.client = client_address(socket)

    async def record(self, event: str, result: str) -> None:
        try:
            await self.log.record(
                self.username, f"terminal.{event} {self.name}", self.target, result, self.client
            )
        except Exception:  # the audit database is gone (shutdown): keep closing cleanly
            log.exception("cannot audit terminal.%s for %s", event, self.username)


def _cells(query: Any, key: str, default: int) -> int:
    raw = query.get(key)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_CELLS:
        raise Refused(CLOSE_BAD_REQUEST, f"{key} must be a whole number from 1 to {MAX_CELLS}")
    return value


def _provider(socket: WebSocket[Any, Any, Any], name: str) -> TerminalProvider:
    terminals: dict[str, TerminalProvider] = socket.app.state.services.registry.terminals
    if not name:
        raise Refused(CLOSE_BAD_REQUEST, "the provider query parameter is required")
    provider = terminals.get(name)
    if provider is None:
        known = ", ".join(sorted(terminals)) or "none"
        raise Refused(CLOSE_NOT_FOUND, f"unknown terminal provider {name!r} (available: {known})")
    return provider


async def _open(
    provider: TerminalProvider,
    target: str,
    size: TerminalSize,
    principal: Principal,
    audit: _Auditor,
) -> TerminalSession:
    try:
        return await asyncio.wait_for(provider.open(target, size, principal), OPEN_TIMEOUT)
    except TimeoutError:
        message = f"terminal {provider.name!r} did not open within {OPEN_TIMEOUT:g} s"
    except Exception as exc:
        log.warning("terminal %r cannot open %r: %s", provider.name, target, exc, exc_info=True)
        message = f"cannot open terminal {provider.name!r}: {_describe(exc)}"
    await audit.record("open", f"failed: {message}")
    raise Refused(CLOSE_FAILED, message)


async def _bridge(
    socket: WebSocket[Any, Any, Any], session: TerminalSession, connection: LiveConnection
) -> str:
    """Pump both ways until one side ends or the user's session is revoked: ``"exit"``,
    ``"close"``, ``"disconnect"`` or ``"revoked"``."""
    sending = asyncio.Lock()
    output = asyncio.create_task(_pump_output(socket, session, sending))
    requests = asyncio.create_task(_pump_input(socket, session, sending))
    revoked = asyncio.create_task(connection.ended.wait())
    try:
        await asyncio.wait({output, requests, revoked}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (output, requests, revoked):
            task.cancel()
        await asyncio.gather(output, requests, revoked, return_exceptions=True)
    if connection.ended.is_set():
        return "revoked"
    first = output if output.done() and not output.cancelled() else requests
    return first.result()


async def _pump_output(
    socket: WebSocket[Any, Any, Any], session: TerminalSession, sending: asyncio.Lock
) -> str:
    while data := await session.read():
        try:
            async with sending:
                await socket.send_bytes(data)
        except (WebSocketDisconnect, RuntimeError):
            return "disconnect"
    return "exit"


async def _pump_input(
    socket: WebSocket[Any, Any, Any], session: TerminalSession, sending: asyncio.Lock
) -> str:
    while True:
        try:
            message = await socket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return "disconnect"
        if message["type"] != "websocket.receive":
            return "disconnect"
        if (data := message.get("bytes")) is not None:
            await session.write(data)
            continue
        try:
            request = _decoder.decode(message.get("text") or "")
        except msgspec.DecodeError as exc:
            try:
                async with sending:
                    await socket.send_text(_message("error", message=f"invalid message: {exc}"))
            except (WebSocketDisconnect, RuntimeError):
                return "disconnect"
            continue
        if isinstance(request, InputMessage):
            await session.write(request.data.encode())
        elif isinstance(request, ResizeMessage):
            await session.resize(TerminalSize(cols=request.cols, rows=request.rows))
        else:
            return "close"


async def _close_session(session: TerminalSession) -> int | None:
    try:
        await asyncio.wait_for(session.close(), CLOSE_TIMEOUT)
    except Exception:
        log.exception("closing a terminal session failed")
    code = getattr(session, "exit_code", None)
    return code if isinstance(code, int) else None


def _close_result(outcome: str, failure: Refused | None, code: int | None, seconds: float) -> str:
    how = {
        "exit": "",
        "close": "closed by client, ",
        "disconnect": "client disconnected, ",
        "revoked": "ended by revocation, ",
    }
    status = f"exit {code}" if code is not None else "exit unknown"
    if failure:
        return f"failed: {failure.message}, {status} after {seconds:.1f}s"[:255]
    return f"{how.get(outcome, '')}{status} after {seconds:.1f}s"


async def _refuse(socket: WebSocket[Any, Any, Any], refusal: Refused) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await socket.send_text(_message("error", message=refusal.message))
        await socket.close(refusal.code, _close_reason(refusal.message))


def _close_reason(message: str) -> str:
    """A WebSocket close reason: at most 123 bytes of UTF-8."""
    return message.encode()[:123].decode(errors="ignore")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HTTPException):
        return exc.detail
    return str(exc) or type(exc).__name__


def _message(kind: str, **fields: Any) -> str:
    return _encoder.encode({"type": kind, **fields}).decode()
