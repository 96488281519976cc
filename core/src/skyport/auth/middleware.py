"""Request authentication, CSRF protection, scope guards and the audit trail.

Credentials: ``Authorization: Bearer <session JWT | API token>`` (CLI, API
clients) or the dashboard's HttpOnly session cookie. A cookie-authenticated
request that changes something must repeat the session's CSRF token in the
``X-CSRF-Token`` header; a cookie-authenticated WebSocket must come from the
same origin. Handlers name the scope they need in ``opt["scope"]``; the middleware checks
it right after authenticating, for HTTP and WebSocket routes alike.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from skyport.auth.principal import Principal
from skyport.auth.service import Unauthenticated
from skyport.errors import BackendUnavailable

if TYPE_CHECKING:
    from skyport.auth.service import AuthService

SESSION_COOKIE = "skyport_session"
CSRF_COOKIE = "skyport_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "unknown"


class SkyportAuthMiddleware:
    """Turns a Bearer token or session cookie into a :class:`Principal` (``scope["user"]``)
    and checks the route's scope. A plain ASGI middleware: the Bearer header is read
    straight from the scope, no connection object is built on the common path.
    Routes whose ``opt`` says ``exclude_from_auth``, and ``OPTIONS`` requests, pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if (
            scope["type"] in _AUTHENTICATED
            and scope.get("method") != "OPTIONS"
            and not (handler is not None and handler.opt.get(EXCLUDE_FROM_AUTH))
        ):
            principal, how = await _authenticate(scope)
            scope["user"], scope["auth"] = principal, how
        await self.app(scope, receive, send)


EXCLUDE_FROM_AUTH = "exclude_from_auth"
"""A route handler's ``opt`` key: the route needs no login."""
_AUTHENTICATED = frozenset({"http", "websocket"})


async def _authenticate(scope: Scope) -> tuple[Principal, str]:
    """The request's principal and how it authenticated (``bearer`` or ``cookie``)."""
    auth: AuthService = scope["app"].state.auth
    credential = _bearer(scope)
    connection = None
    if credential is None:
        connection = ASGIConnection[Any, Any, Any, Any](scope)
        credential = connection.cookies.get(SESSION_COOKIE, "")
    if not credential:
        raise NotAuthorizedException("authentication required: log in or send a Bearer token")
    try:
        principal = await auth.authenticate(credential)
    except Unauthenticated as exc:
        raise NotAuthorizedException(str(exc)) from None
    try:
        if connection is not None:
            _check_cookie_request(connection, auth, principal)
        authorize(scope, scope["route_handler"], principal)
    except PermissionDeniedException as exc:
        await scope["app"].state.audit.record_repeated(
            principal.username,
            _action(scope),
            scope["path"],
            f"denied ({exc.detail})",
            (scope.get("client") or ("unknown",))[0],
        )
        raise
    return principal, "bearer" if connection is None else "cookie"


def _bearer(scope: Scope) -> str | None:
    """The credential of an ``Authorization: Bearer`` header, if there is one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credential.strip():
                return credential.strip()
            return None
    return None


def _check_cookie_request(
    connection: ASGIConnection[Any, Any, Any, Any], auth: AuthService, principal: Principal
) -> None:
    if connection.scope["type"] == "websocket":
        origin = connection.headers.get("origin")
        if origin and urlsplit(origin).netloc != connection.headers.get("host"):
            raise PermissionDeniedException("cross-origin WebSocket refused")
        return
    if connection.scope.get("method", "GET") in SAFE_METHODS:
        return
    expected = auth.csrf_token(principal.session_id or "")
    sent = connection.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent, expected):
        raise PermissionDeniedException(
            "missing or wrong X-CSRF-Token header (repeat the skyport_csrf cookie's value)"
        )


def authorize(scope: Scope, handler: BaseRouteHandler, principal: Principal) -> None:
    """The principal must hold the handler's ``opt["scope"]``.

    Plugin handlers without one need ``<plugin>:read`` to read and
    ``<plugin>:write`` for anything else. A core handler without a scope is
    refused: routes fail closed. (Checked here rather than in a Litestar
    guard, which costs a copy of the handler on every request.)
    """
    if plugin := handler.opt.get("plugin"):
        _require_active(scope, plugin)
    needed = required_scope(handler)
    if needed is None:
        raise PermissionDeniedException("this route declares no scope")
    if not principal.has_scope(needed):
        raise PermissionDeniedException(f"missing scope {needed}", extra={"missing_scope": needed})


def _require_active(scope: Scope, plugin: str) -> None:
    """A plugin that failed after its routes were mounted (in startup) answers 503."""
    record = scope["app"].state.plugins.records.get(plugin)
    if record is not None and record.status != "loaded":
        raise BackendUnavailable(f"plugin {plugin!r}", record.error or record.status)


def required_scope(handler: BaseRouteHandler) -> str | None:
    scope = handler.opt.get("scope")
    if scope is not None:
        return str(scope)
    plugin = handler.opt.get("plugin")
    if not plugin:
        return None
    methods = getattr(handler, "http_methods", None) or {"GET"}
    return f"{plugin}:read" if set(methods) <= SAFE_METHODS else f"{plugin}:write"


class AuditMiddleware:
    """Records every authenticated HTTP request that changes something with its outcome:
    every method but GET, HEAD and OPTIONS, and those too on handlers whose ``opt``
    says ``"audit": True`` (a GET that reaches out, e.g. runs a command on a server).
    Failures go through :meth:`~skyport.audit.AuditLog.record_repeated`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope.get("method") in SAFE_METHODS and not _audited(scope)):
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            principal = scope.get("user")
            if isinstance(principal, Principal):
                audit = scope["app"].state.audit
                record = audit.record if status < 400 else audit.record_repeated
                await record(
                    principal.username,
                    _action(scope),
                    scope["path"],
                    _result(status),
                    (scope.get("client") or ("",))[0],
                )


def _audited(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return handler is not None and bool(handler.opt.get("audit"))


def _action(scope: Scope) -> str:
    method = scope.get("method") or "WEBSOCKET"
    return f"{method} {scope.get('path_template') or scope['path']}"


def _result(status: int) -> str:
    return f"ok ({status})" if status < 400 else f"failed ({status})"
