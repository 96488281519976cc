"""The one API client of SkyPort, shared by the CLI, the TUI and plugins' commands.

:func:`connect` picks a mode from the settings and the stored login:

* **remote** — a server URL (``skyport login URL``, ``client.url`` in the
  config file or ``SKYPORT_URL``): HTTP through httpx and the ``/ws``
  WebSocket through the ``websockets`` sync client, both with
  ``Authorization: Bearer <token>``. ``SKYPORT_TOKEN`` (for instance an API
  token in a script) takes the place of the stored login. For a server with
  a self-signed certificate, point ``SSL_CERT_FILE`` at it.
* **socket** — no server configured and not logged in anywhere, but a
  ``skyport serve`` on this machine uses the same data dir: the client talks
  to it through the socket in the data dir (:mod:`skyport.local_socket`) and
  acts as its first admin.
* **local** — the same with no server running: the application runs in this
  process (same routes, same validation, no HTTP) and the client acts as its
  first admin. Neither is a privilege escalation: whoever can read the data
  dir (database, secret key) already holds every power the server has.

Every failure is a :class:`ClientError` whose message is one clear line.
Importing this module imports neither httpx nor Litestar; each mode imports
what it needs when it is chosen.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import os
import queue
import ssl
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol
from urllib.parse import quote

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from skyport.config import Settings

Mode = Literal["remote", "socket", "local"]
LOCAL_URL = "local"
"""What :attr:`Client.url` says in local mode."""

target_node: ContextVar[str | None] = ContextVar("target_node", default=None)
"""The cluster node every request goes to (``skyport --node NAME``; ``None``: whichever
node answers). Sent as ``?node=NAME``: the answering node routes the request there."""
local_plugins: ContextVar[frozenset[str] | None] = ContextVar("local_plugins", default=None)
"""The plugins an in-process server serves (``None``: all). The CLI sets it per command:
``skyport docker …`` serves the docker plugin alone, ``skyport users …`` none."""
DEFAULT_TIMEOUT = 30.0
CLOSE_TIMEOUT = 2.0
"""How long closing a WebSocket waits for the server's goodbye (Ctrl-C on a follow must
not hang on a busy server)."""


# -- errors -------------------------------------------------------------------


class ClientError(Exception):
    """Any failure of a client call; ``str()`` is one line fit for a user."""


class ServerUnreachable(ClientError):
    """No answer from the server (refused, timed out, TLS or name failure)."""

    def __init__(self, url: str, reason: str = "") -> None:
        self.url = url
        self.reason = reason
        super().__init__(
            f"cannot reach the SkyPort server at {url}" + (f": {reason}" if reason else "")
        )


class NotLoggedIn(ClientError):
    """No credentials, or the server refused them (HTTP 401: expired, revoked, wrong)."""

    def __init__(self, message: str, *, url: str | None = None, detail: str = "") -> None:
        self.url = url
        self.detail = detail
        super().__init__(message)


class ApiError(ClientError):
    """The server answered with an error status; ``detail`` is its explanation."""

    def __init__(self, status: int, detail: str, extra: Any = None) -> None:
        self.status = status
        self.detail = detail
        self.extra = extra
        super().__init__(self._message())

    def _message(self) -> str:
        return f"{self.detail}{_describe_extra(self.extra)} (HTTP {self.status})"


class Forbidden(ApiError):
    """HTTP 403: the user lacks a scope (``scope``) or the action is refused."""

    def __init__(self, status: int, detail: str, extra: Any = None) -> None:
        self.scope: str | None = extra.get("missing_scope") if isinstance(extra, dict) else None
        super().__init__(status, detail, extra)

    def _message(self) -> str:
        if self.scope:
            return f"permission denied: missing scope {self.scope}"
        return f"permission denied: {self.detail}"


class BackendDown(ApiError):
    """HTTP 503: the program a plugin drives (Docker, PM2, an SSH host) is unavailable."""

    def __init__(self, status: int, detail: str, extra: Any = None) -> None:
        self.backend: str | None = extra.get("backend") if isinstance(extra, dict) else None
        super().__init__(status, detail, extra)

    def _message(self) -> str:
        return f"{self.detail} (HTTP {self.status}: the server is up, its backend is not)"


def _describe_extra(extra: Any) -> str:
    """Litestar's validation errors (a list of ``{"key", "message"}``), as text."""
    if isinstance(extra, list):
        parts = []
        for item in extra:
            if isinstance(item, Mapping):
                key, message = item.get("key"), item.get("message", "")
                parts.append(f"{key}: {message}" if key else str(message))
            else:
                parts.append(str(item))
        return f": {'; '.join(parts)}" if parts else ""
    return ""


def error_for(status: int, body: Any, url: str) -> ClientError:
    """The exception for an error answer; ``body`` is the decoded JSON or text."""
    if isinstance(body, Mapping):
        detail = str(body.get("detail") or "")
        extra = body.get("extra")
    else:
        detail, extra = str(body or "").strip()[:300], None
    detail = detail or f"HTTP {status}"
    if status == 401:
        return NotLoggedIn(
            f"not logged in or session expired ({detail}): run `skyport login"
            f"{'' if url == LOCAL_URL else ' ' + url}`",
            url=url,
            detail=detail,
        )
    kind = {403: Forbidden, 503: BackendDown}.get(status, ApiError)
    return kind(status, detail, extra)


# -- the client -----------------------------------------------------------------


class Reply(NamedTuple):
    """A decoded answer and its HTTP headers (see :meth:`Client.request_with_headers`)."""

    body: Any
    headers: Mapping[str, str]
    """Case-insensitive: ``reply.headers.get("x-docker-unavailable")``."""


class Client:
    """Calls the SkyPort API; use :func:`connect` (or :meth:`from_settings`) to get one.

    Methods return the decoded JSON answer (``None`` for an empty one, such
    as HTTP 204) and raise :class:`ClientError` subclasses. A client is a
    context manager; close it to end a local-mode application.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        url: str,
        mode: Mode,
        token: str | None = None,
        on_close: Any = None,
    ) -> None:
        self.http = http
        self.url = url
        self.mode: Mode = mode
        self.token = token
        self._on_close = on_close
        self._tls: ssl.SSLContext | None = None
        self._socket_path: str | None = None
        self.node: str | None = None
        """The node requests and WebSockets go to (see :data:`target_node`)."""

    def for_node(self, node: str | None) -> Client:
        """Send every request and WebSocket to cluster node ``node`` (``all``: listings of
        every node); ``None`` leaves it to whichever node answers."""
        self.node = node
        if node:
            self.http.params = self.http.params.set("node", node)
        return self

    # -- construction ------------------------------------------------------

    @classmethod
    def remote(
        cls,
        url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        verify: Any = True,
    ) -> Client:
        """A client for the server at ``url``, authenticated by ``token`` if given.

        ``verify`` is httpx's: by default HTTPS trusts :func:`tls_context`.
        """
        import httpx

        url = normalize_url(url)
        if verify is True and url.startswith("https://"):
            verify = tls_context()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        http = httpx.Client(base_url=url, headers=headers, timeout=timeout, verify=verify)
        client = cls(http, url=url, mode="remote", token=token, on_close=http.close)
        client._tls = verify if isinstance(verify, ssl.SSLContext) else None
        return client

    @classmethod
    def local(cls, settings: Settings | None = None, *, username: str | None = None) -> Client:
        """An in-process application, logged in as ``username`` (default: the first admin).

        Starting it runs the lifespan (migrations; the first start creates
        ``admin`` and prints its password to stderr). Reading the data dir
        already gives full control of SkyPort, so a local session is no
        escalation.
        """
        import logging

        import msgspec
        from litestar.testing import TestClient

        from skyport.app import CLI_LOGGING, create_app
        from skyport.config import load_settings
        from skyport.plugins import PluginManager

        # The in-process client's requests are not worth a line each.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        settings = settings or load_settings()
        # One command's server: no sampling unless asked, only the plugins it needs.
        metrics = msgspec.structs.replace(settings.metrics, history=False)
        settings = msgspec.structs.replace(settings, metrics=metrics)
        manager = PluginManager(
            disabled=settings.plugins.disabled,
            strict=settings.plugins.strict,
            serving=local_plugins.get(),
        )
        app = create_app(settings, plugins=manager, logging_config=CLI_LOGGING)
        test_client = TestClient(app, raise_server_exceptions=False, timeout=DEFAULT_TIMEOUT)
        test_client.__enter__()
        try:
            auth = app.state.auth
            token = test_client.blocking_portal.call(auth.open_local_session, username).token
        except Exception as exc:
            test_client.__exit__(None, None, None)
            raise NotLoggedIn(f"local mode cannot act as a user: {exc}", url=LOCAL_URL) from None
        except BaseException:
            test_client.__exit__(None, None, None)
            raise
        test_client.headers["Authorization"] = f"Bearer {token}"

        def close() -> None:
            try:
                test_client.blocking_portal.call(auth.logout, _session_id(token))
            finally:
                test_client.__exit__(None, None, None)

        return cls(test_client, url=LOCAL_URL, mode="local", token=token, on_close=close)

    @classmethod
    def local_server(cls, path: Path) -> Client:
        """The server running on this machine, through the socket at ``path`` in its data
        dir, logged in as its first admin (the session ends when the client closes)."""
        import httpx

        from skyport.local_socket import SESSION_PATH

        http = httpx.Client(
            # Plain HTTP on a Unix socket: no TLS, so no certificate store to load.
            transport=httpx.HTTPTransport(uds=str(path), verify=False),
            base_url="http://localhost",
            timeout=DEFAULT_TIMEOUT,
        )
        url = f"unix:{path}"
        try:
            opened = http.post(SESSION_PATH)
        except httpx.TransportError as exc:
            http.close()
            raise ServerUnreachable(url, _reason(exc)) from None
        if opened.status_code != 201:
            http.close()
            raise error_for(opened.status_code, _decode(opened), url)
        token = opened.json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"

        def close() -> None:
            try:
                http.post("/api/auth/logout")
            except httpx.HTTPError:
                pass  # the server stopped: the session ends with it anyway
            finally:
                http.close()

        client = cls(http, url=url, mode="socket", token=token, on_close=close)
        client._socket_path = str(path)
        return client

    @classmethod
    def on_this_machine(cls, settings: Settings) -> Client:
        """The server running on this machine with the settings' data dir, through its
        socket, or else an in-process one (:meth:`local`)."""
        from skyport.local_socket import socket_path

        path = socket_path(settings.data_path)
        if path.is_socket():
            with contextlib.suppress(ServerUnreachable):
                return cls.local_server(path)
        return cls.local(settings)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Client:
        """Remote mode if a server is configured or logged in to, else local mode.

        The server is ``client.url`` (config file, ``SKYPORT_URL``) or else the
        one ``skyport login`` remembered; its token is ``SKYPORT_TOKEN`` or
        the stored login.
        """
        from skyport.cli import credentials
        from skyport.config import load_settings

        settings = settings or load_settings()
        url = settings.client.url or credentials.current_url()
        if not url:
            return cls.on_this_machine(settings)
        url = normalize_url(url)
        token = os.environ.get("SKYPORT_TOKEN") or credentials.token_for(url)
        if not token:
            raise NotLoggedIn(f"not logged in to {url}: run `skyport login {url}`", url=url)
        return cls.remote(url, token)

    # -- HTTP ----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request (a JSON body, raw ``content`` such as a file, or a multipart
        form: ``files`` as httpx takes them, ``{"field": (None, "text")}`` for plain fields).

        Return the decoded answer or raise a :class:`ClientError`.
        """
        return self.request_with_headers(
            method, path, json=json, params=params, content=content, files=files
        ).body

    def request_with_headers(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> Reply:
        """As :meth:`request`, with the response headers too (for hints a route sends there,
        such as the docker plugin's ``X-Docker-Unavailable``)."""
        response = self._send(method, path, json=json, params=params, content=content, files=files)
        return Reply(_decode(response), response.headers)

    def download(self, path: str, *, params: Mapping[str, Any] | None = None) -> bytes:
        """``GET`` a raw body (a file); errors are raised as :meth:`request` raises them."""
        return self._send("GET", path, params=params).content

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ServerUnreachable(self.url, "timed out") from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.url, _reason(exc)) from None
        if response.status_code >= 400:
            raise error_for(response.status_code, _decode(response), self.url)
        return response

    def get(self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, json=json, params=params)

    def post(self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=json, params=params)

    def put(self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("PUT", path, json=json, params=params)

    def patch(self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("PATCH", path, json=json, params=params)

    def delete(
        self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        return self.request("DELETE", path, json=json, params=params)

    # -- WebSocket -------------------------------------------------------------

    def subscribe(
        self, topics: Iterable[str], *, strict: bool = True
    ) -> Generator[dict[str, Any], None, None]:
        """Follow live topics on ``/ws``; yields every message the server sends.

        Messages are ``{"topic": ..., "data": ...}`` plus the protocol's
        ``{"type": "subscribed" | "error", ...}`` replies. With ``strict`` an
        error reply (unknown topic, missing scope) raises instead. The
        connection closes when the iterator is closed or garbage-collected.
        """
        feed = self.feed(topics, strict=strict)
        try:
            yield from feed
        finally:
            feed.close()  # not left to the garbage collector: a traceback may hold it

    def feed(self, topics: Iterable[str] = (), *, strict: bool = False) -> Feed:
        """Open ``/ws`` subscribed to ``topics``; see :class:`Feed` (topics can change later)."""
        feed = Feed(self, strict=strict)
        topics = list(topics)
        if topics:
            feed.subscribe(topics)
        return feed

    def _closed(self, code: int | None, reason: str) -> ClientError:
        if code == 1013:
            return ApiError(1013, f"the server dropped this slow subscriber: {reason}")
        return self._refused(reason or f"closed with code {code}")

    def _refused(self, reason: str) -> ClientError:
        """Why ``/ws`` was refused: a 401 shows on a plain request, else it is a scope."""
        self.get("/api/auth/me")  # raises NotLoggedIn when the token is the problem
        if reason.startswith("missing scope "):
            scope = reason.removeprefix("missing scope ")
            return Forbidden(403, reason, {"missing_scope": scope})
        return Forbidden(403, f"the WebSocket /ws was refused ({reason})")

    def terminal(self, query: str) -> TerminalLink:
        """Open ``/ws/terminal?<query>`` (``provider=…&target=…&cols=…&rows=…``).

        :func:`skyport.cli.terminal.run_terminal` bridges one to this process's
        terminal; use the link directly to drive a terminal from code.
        """
        return _LocalTerminal(self, query) if self.mode == "local" else _RemoteTerminal(self, query)

    # -- lifetime ------------------------------------------------------------

    def close(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def where(self) -> str:
        """The server, as a person reads it: its URL, or how this machine's is reached."""
        if self.mode == "local":
            return "in-process (local mode)"
        if self.mode == "socket":
            return f"the server on this machine ({self.url})"
        return self.url

    def __repr__(self) -> str:
        return f"<Client {self.mode} {self.url}>"


def connect(settings: Settings | None = None, *, every_plugin: bool = False) -> Client:
    """The client the settings and the stored login call for (see :meth:`Client.from_settings`).

    In local mode the in-process server serves the plugins :data:`local_plugins` names
    (the CLI: the plugin of the running command); ``every_plugin`` serves them all, for
    a command that uses other plugins' routes or services (a deployer, a terminal).
    """
    if not every_plugin:
        return Client.from_settings(settings).for_node(target_node.get())
    token = local_plugins.set(None)
    try:
        return Client.from_settings(settings).for_node(target_node.get())
    finally:
        local_plugins.reset(token)


def tls_context() -> ssl.SSLContext:
    """Trust ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` if set (self-signed server), else certifi."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def normalize_url(url: str) -> str:
    """``host:8080`` → ``http://host:8080``; no trailing slash."""
    url = url.strip()
    if "://" not in url:
        url = f"http://{url}"
    return url.rstrip("/")


class Feed:
    """One ``/ws`` connection (see :meth:`Client.feed`).

    Iterating yields every message the server sends until the connection
    ends; :meth:`subscribe` and :meth:`unsubscribe` change the topics on the
    way. :meth:`close` may be called from any thread: a loop reading the
    feed in another thread then ends quietly. A connection that is lost or
    refused raises a :class:`ClientError`; with ``strict`` so does an error
    reply (unknown topic, missing scope).
    """

    def __init__(self, client: Client, *, strict: bool = False) -> None:
        self._strict = strict
        self._closing = False
        self._link: _FeedLink = (
            _LocalFeedLink(client) if client.mode == "local" else _RemoteFeedLink(client)
        )

    def subscribe(self, topics: Iterable[str]) -> None:
        self._send("subscribe", topics)

    def unsubscribe(self, topics: Iterable[str]) -> None:
        self._send("unsubscribe", topics)

    def _send(self, kind: str, topics: Iterable[str]) -> None:
        self._link.send(jsonlib.dumps({"type": kind, "topics": list(topics)}))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            try:
                raw = self._link.receive()
            except ClientError:
                if self._closing:
                    return
                raise
            if raw is None:
                return
            message = jsonlib.loads(raw)
            if self._strict and isinstance(message, dict) and message.get("type") == "error":
                raise _topic_error(str(message.get("message", "subscription refused")))
            yield message

    def close(self) -> None:
        self._closing = True
        self._link.close()

    def __enter__(self) -> Feed:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _FeedLink(Protocol):
    def send(self, text: str) -> None: ...

    def receive(self) -> str | bytes | None:
        """The next frame; ``None`` once the server closed normally."""

    def close(self) -> None: ...


def _open_websocket(client: Client, path: str, refused: Callable[[int], ClientError]) -> Any:
    """A sync WebSocket to ``path`` on the client's server, with its token; a refusal at the
    handshake is ``refused(status)``, no answer :class:`ServerUnreachable`."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus
    from websockets.sync.client import connect as ws_connect
    from websockets.sync.client import unix_connect

    if client.node:
        path += f"{'&' if '?' in path else '?'}node={quote(client.node)}"
    headers = {"Authorization": f"Bearer {client.token}"} if client.token else {}
    try:
        if client._socket_path:
            socket = unix_connect(
                client._socket_path,
                "ws://localhost" + path,
                additional_headers=headers,
                open_timeout=DEFAULT_TIMEOUT,
                close_timeout=CLOSE_TIMEOUT,
            )
        else:
            url = "ws" + client.url.removeprefix("http") + path
            socket = ws_connect(
                url,
                additional_headers=headers,
                open_timeout=DEFAULT_TIMEOUT,
                close_timeout=CLOSE_TIMEOUT,
                ssl=client._tls,
            )
        return socket.__enter__()  # left by the caller's close()
    except InvalidStatus as exc:
        raise refused(exc.response.status_code) from None
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        raise ServerUnreachable(client.url, _reason(exc)) from None


class _RemoteFeedLink:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._socket = _open_websocket(client, "/ws", lambda s: client._refused(f"HTTP {s}"))

    def send(self, text: str) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            self._socket.send(text)
        except (ConnectionClosed, OSError) as exc:
            raise ServerUnreachable(self._client.url, f"connection lost: {_reason(exc)}") from None

    def receive(self) -> str | bytes | None:
        from websockets.exceptions import ConnectionClosed

        try:
            return self._socket.recv()
        except ConnectionClosed as exc:
            if exc.rcvd is None:
                raise ServerUnreachable(self._client.url, "connection lost") from None
            if exc.rcvd.code not in (1000, 1001):
                raise self._client._closed(exc.rcvd.code, exc.rcvd.reason) from None
            return None
        except OSError as exc:
            raise ServerUnreachable(self._client.url, f"connection lost: {_reason(exc)}") from None

    def close(self) -> None:
        self._socket.close()


class _LocalFeedLink:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._socket = _LocalSocket(client.http, dict(client.http.headers)).__enter__()
        if self._socket.refused is not None:
            self._socket.__exit__(None, None, None)
            raise client._closed(*self._socket.refused)

    def send(self, text: str) -> None:
        self._socket.send_text(text)

    def receive(self) -> str | bytes | None:
        message = self._socket.receive()
        if message["type"] == "websocket.close":
            if message.get("code", 1000) not in (1000, 1001):
                raise self._client._closed(message.get("code"), message.get("reason") or "")
            return None
        return message.get("text") or message.get("bytes") or "null"

    def close(self) -> None:
        self._socket.__exit__(None, None, None)


# -- helpers ------------------------------------------------------------------


def _decode(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    if "json" in response.headers.get("content-type", ""):
        try:
            return response.json()
        except ValueError:
            pass
    return response.text


def _reason(exc: BaseException) -> str:
    """The innermost useful message (``[Errno 111] Connection refused``)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        inner = exc.__cause__ or exc.__context__
        if inner is None or not str(inner):
            break
        exc = inner
    return str(exc) or type(exc).__name__


def _topic_error(message: str) -> ClientError:
    scope = message.rpartition("needs scope ")[2] if "needs scope " in message else None
    if scope:
        return Forbidden(403, message, {"missing_scope": scope})
    return ApiError(400, message)


class _LocalSocket:
    """An ASGI WebSocket conversation with the in-process app, for local mode.

    It runs on the test client's event loop (its blocking portal) and, unlike
    Litestar's ``WebSocketTestSession``, waits for client frames without
    polling, so a long ``--watch`` costs no CPU while nothing happens.
    """

    def __init__(self, http: Any, headers: dict[str, str], path: str = "/ws") -> None:
        path, _, query = path.partition("?")
        self._portal = http.blocking_portal
        self._app = http.app
        self._scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(b"host", b"testserver.local")]
            + [(k.lower().encode(), v.encode()) for k, v in headers.items() if k.lower() != "host"],
            "client": ("127.0.0.1", 0),
            "server": ("testserver.local", 80),
            "subprotocols": [],
        }
        self._outbound: queue.Queue[Any] = queue.Queue()
        self.refused: tuple[int | None, str] | None = None

    def __enter__(self) -> _LocalSocket:
        self._inbound, self._inbox = self._portal.call(_memory_stream)
        self._task = self._portal.start_task_soon(self._converse)
        self._portal.call(self._inbound.send, {"type": "websocket.connect"})
        answer = self._next()
        if answer["type"] == "websocket.close":
            self.refused = (answer.get("code"), answer.get("reason") or "")
        return self

    async def _converse(self) -> None:
        async def receive() -> Any:
            return await self._inbox.receive()

        async def send(message: Any) -> None:
            self._outbound.put(message)

        try:
            await self._app(self._scope, receive, send)
        except BaseException as exc:
            self._outbound.put(exc)
            raise
        finally:
            self._outbound.put({"type": "websocket.close", "code": 1000})

    def send_text(self, text: str) -> None:
        self._portal.call(self._inbound.send, {"type": "websocket.receive", "text": text})

    def receive(self) -> dict[str, Any]:
        """The app's next ``websocket.send`` or ``websocket.close`` message."""
        while (message := self._next())["type"] == "websocket.accept":
            pass
        return message

    def _next(self) -> dict[str, Any]:
        while True:
            try:
                message = self._outbound.get(timeout=0.5)  # short waits keep Ctrl-C working
            except queue.Empty:
                continue
            if isinstance(message, BaseException):
                raise message
            return message

    def __exit__(self, *exc_info: object) -> None:
        if not self._task.done():
            with contextlib.suppress(Exception):
                self._portal.call(
                    self._inbound.send, {"type": "websocket.disconnect", "code": 1000}
                )
            with contextlib.suppress(Exception):
                self._task.result(timeout=5)


class TerminalLink(Protocol):
    """One ``/ws/terminal`` connection (see :meth:`Client.terminal`)."""

    def send(self, message: dict[str, Any]) -> None:
        """Send a control message: ``input``, ``resize`` or ``close``."""

    def frames(self) -> Iterator[bytes | str]:
        """The terminal's output (bytes) and control messages (JSON text), until it ends."""

    def close(self) -> None: ...


class _RemoteTerminal:
    def __init__(self, client: Client, query: str) -> None:
        def refused(status: int) -> ClientError:
            client.get("/api/auth/me")  # a 401 explains itself there
            return Forbidden(status, f"the terminal was refused (HTTP {status})")

        self._socket = _open_websocket(client, "/ws/terminal?" + query, refused)

    def send(self, message: dict[str, Any]) -> None:
        self._socket.send(jsonlib.dumps(message))

    def frames(self) -> Iterator[bytes | str]:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            while True:
                yield self._socket.recv()

    def close(self) -> None:
        self._socket.close()


class _LocalTerminal:
    def __init__(self, client: Client, query: str) -> None:
        self._socket = _LocalSocket(client.http, dict(client.http.headers), "/ws/terminal?" + query)
        self._socket.__enter__()

    def send(self, message: dict[str, Any]) -> None:
        self._socket.send_text(jsonlib.dumps(message))

    def frames(self) -> Iterator[bytes | str]:
        while True:
            message = self._socket.receive()
            if message["type"] == "websocket.close":
                return
            if message.get("bytes") is not None:
                yield message["bytes"]
            else:
                yield message.get("text") or ""

    def close(self) -> None:
        self._socket.__exit__(None, None, None)


async def _memory_stream() -> tuple[Any, Any]:
    import anyio

    return anyio.create_memory_object_stream[dict[str, Any]](16)


def _session_id(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False}).get("sid", ""))
