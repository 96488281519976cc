"""``?node=NAME``: any node answers for the cluster by passing the request to the owner.

Two ASGI middlewares:

- :class:`NodeTrust` (before authentication) accepts a request another node routed
  here — its signature checked (:mod:`skyport.cluster.signing`), its client taken
  from ``X-Skyport-Client`` — and refuses a request whose signature is wrong; it
  names the answering node in ``X-Skyport-Node`` on every response.
- :class:`NodeRouter` (after authentication, so only a caller who may use the route
  gets this far) sends a request for another node to that node with the caller's
  own credential, streaming the answer back; WebSockets (``/ws``, terminals) are
  relayed message by message. ``?node=all`` on a GET asks every node that is up:
  lists are joined (each item naming its ``node``), other answers keyed by node,
  and the nodes left out are named in ``X-Skyport-Nodes-Left-Out``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import httpx
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from skyport.cluster.signing import CLIENT_HEADER, SIGNATURE_HEADER, BadSignature, sign, verify
from skyport.errors import BackendUnavailable

if TYPE_CHECKING:
    from skyport.cluster.nodes import NodeBook, NodeInfo

log = logging.getLogger("skyport.cluster")

ANSWERED_BY = b"x-skyport-node"
LEFT_OUT_HEADER = "X-Skyport-Nodes-Left-Out"
ALL = "all"
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        SIGNATURE_HEADER,
        CLIENT_HEADER,
    }
)
_WS_SKIPPED = _HOP_BY_HOP | {
    "origin",  # checked by the node that relays; the owner sees the relay's address
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
}
FORWARDED_BY = "skyport.forwarded_by"
"""Scope key: the node that routed this request here (set by :class:`NodeTrust`)."""


class NodeTrust:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        signature = _header(scope, _SIGNATURE)
        if signature is not None:
            client = (_header(scope, _CLIENT) or b"").decode("latin-1")
            try:
                origin = verify(
                    state.cluster_key,
                    signature.decode("latin-1"),
                    _method(scope),
                    scope["path"],
                    client,
                )
            except BadSignature as exc:
                raise PermissionDeniedException(f"node-to-node call refused: {exc}") from None
            scope[FORWARDED_BY] = origin  # type: ignore[literal-required]
            scope["client"] = (client, 0)
        name = state.node_name.encode()

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(k.lower() == ANSWERED_BY for k, _ in headers):  # relayed: theirs
                    message["headers"] = [*headers, (ANSWERED_BY, name)]
            await send(message)

        await self.app(scope, receive, named if scope["type"] == "http" else send)


class NodeRouter:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = _node_param(scope)
        state = scope["app"].state
        if target is None or target == state.node_name or FORWARDED_BY in scope:
            await self.app(scope, receive, send)
            return
        router: Router = state.router
        if target == ALL:
            if scope["type"] != "http" or scope.get("method") != "GET":
                raise ClientException("node=all is for listings (GET); name one node")
            await router.fan_out(scope, send)
        elif scope["type"] == "websocket":
            await router.relay_websocket(await router.node(target), scope, receive, send)
        else:
            await router.forward(await router.node(target), scope, receive, send)


_SIGNATURE = SIGNATURE_HEADER.encode()
_CLIENT = CLIENT_HEADER.encode()


def _header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower case), without building a dict of all."""
    return next((value for key, value in scope["headers"] if key == name), None)


def _node_param(scope: Scope) -> str | None:
    if scope["type"] not in ("http", "websocket"):
        return None
    raw = scope.get("query_string", b"")
    if b"node=" not in raw:
        return None
    return dict(parse_qsl(raw.decode("latin-1"))).get("node") or None


class Router:
    """Sends requests to other nodes on a caller's behalf."""

    def __init__(self, nodes: NodeBook, key: bytes, timeout: float = 60.0) -> None:
        self.nodes = nodes
        self.key = key
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            timeout = httpx.Timeout(self.timeout, connect=3.0)
            self._http = httpx.AsyncClient(timeout=timeout, trust_env=False)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def node(self, name: str) -> NodeInfo:
        """The node ``name``, up; 404 when unknown, 503 when down."""
        node = await self.nodes.get(name)
        if node is None:
            raise NotFoundException(f"no node named {name!r} (GET /api/nodes lists them)")
        if node.state != "up":
            ago = time.time() - node.heartbeat_at
            raise BackendUnavailable(f"node {name!r}", f"down (last heartbeat {ago:.0f} s ago)")
        return node

    def _headers(self, scope: Scope, node: str, skipped: frozenset[str]) -> list[tuple[str, str]]:
        kept = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in skipped
        ]
        client = (scope.get("client") or ("",))[0]
        signature = sign(self.key, self.nodes.name, _method(scope), scope["path"], client)
        return [*kept, (SIGNATURE_HEADER, signature), (CLIENT_HEADER, client)]

    def _url(self, node: NodeInfo, scope: Scope, name: str | None = None) -> str:
        query = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"))]
        query = [(k, name if k == "node" and name else v) for k, v in query]
        base = node.url.rstrip("/")
        if scope["type"] == "websocket":
            base = "ws" + base.removeprefix("http")
        return f"{base}{scope['path']}" + (f"?{urlencode(query)}" if query else "")

    async def forward(self, node: NodeInfo, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        request = self.http.build_request(
            _method(scope),
            self._url(node, scope),
            headers=self._headers(scope, node.name, _HOP_BY_HOP),
            content=body,
        )
        try:
            response = await self.http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"node {node.name!r}", _reason(exc)) from None
        try:
            headers = [
                (k.encode("latin-1"), v.encode("latin-1"))
                for k, v in response.headers.multi_items()
                if k.lower() not in _HOP_BY_HOP
            ]
            await send(
                {"type": "http.response.start", "status": response.status_code, "headers": headers}
            )
            async for chunk in _chunks(response):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()

    async def fan_out(self, scope: Scope, send: Send) -> None:
        nodes = await self.nodes.all()
        up = [n for n in nodes if n.state == "up"]
        answers = await asyncio.gather(*(self._ask(n, scope) for n in up))
        left_out = [n.name for n in nodes if n.state != "up"]
        merged: list[tuple[str, Any]] = []
        first_error: httpx.Response | None = None
        for node, answer in zip(up, answers, strict=True):
            if isinstance(answer, httpx.Response) and answer.is_success:
                merged.append((node.name, answer.json()))
                continue
            left_out.append(node.name)
            if isinstance(answer, httpx.Response) and first_error is None:
                first_error = answer
        if not merged:
            if first_error is not None:
                await _send_json(send, first_error.status_code, first_error.json(), [])
                return
            raise BackendUnavailable("every node", "none answered")
        if all(isinstance(body, list) for _, body in merged):
            body: Any = [_tagged(item, name) for name, items in merged for item in items]
        else:
            body = dict(merged)
        extra = (
            [(LEFT_OUT_HEADER.encode(), ",".join(sorted(left_out)).encode())] if left_out else []
        )
        await _send_json(send, 200, body, extra)

    async def _ask(self, node: NodeInfo, scope: Scope) -> httpx.Response | None:
        try:
            response = await self.http.get(
                self._url(node, scope, node.name),
                headers=self._headers(scope, node.name, _HOP_BY_HOP),
            )
            if response.is_success:
                response.json()  # a listing is JSON: a node answering otherwise is left out
        except (httpx.HTTPError, ValueError) as exc:
            log.info("node %s left out of a node=all listing: %s", node.name, _reason(exc))
            return None
        return response

    async def relay_websocket(
        self, node: NodeInfo, scope: Scope, receive: Receive, send: Send
    ) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus

        from skyport.server import MAX_WEBSOCKET_MESSAGE

        await receive()  # websocket.connect
        protocols = [
            p.strip()
            for k, v in scope["headers"]
            if k == b"sec-websocket-protocol"
            for p in v.decode("latin-1").split(",")
        ]
        try:
            upstream = await connect(
                self._url(node, scope),
                additional_headers=self._headers(scope, node.name, _WS_SKIPPED),
                subprotocols=protocols or None,  # type: ignore[arg-type]
                proxy=None,
                open_timeout=5,
                max_size=MAX_WEBSOCKET_MESSAGE,
                compression=None,
            )
        except (OSError, TimeoutError, InvalidStatus) as exc:
            log.info("WebSocket to node %s refused: %s", node.name, exc)
            await send({"type": "websocket.close", "code": 1011, "reason": ""})
            return
        async with upstream:
            await send(
                {"type": "websocket.accept", "subprotocol": upstream.subprotocol, "headers": []}
            )

            async def downstream_to_upstream() -> None:
                while True:
                    message = await receive()
                    if message["type"] == "websocket.disconnect":
                        await upstream.close()
                        return
                    text, data = message.get("text"), message.get("bytes")
                    await upstream.send(str(text) if text is not None else bytes(data or b""))  # type: ignore[call-overload]

            async def upstream_to_downstream() -> None:
                with contextlib.suppress(ConnectionClosed):
                    async for data in upstream:
                        if isinstance(data, str):
                            await send({"type": "websocket.send", "text": data, "bytes": None})
                        else:
                            await send({"type": "websocket.send", "bytes": data, "text": None})
                code = upstream.close_code or 1000
                reason = upstream.close_reason or ""
                with contextlib.suppress(Exception):
                    await send({"type": "websocket.close", "code": code, "reason": reason})

            tasks = {
                asyncio.create_task(downstream_to_upstream()),
                asyncio.create_task(upstream_to_downstream()),
            }
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)


def _method(scope: Scope) -> str:
    return str(scope.get("method") or "WEBSOCKET")


def _tagged(item: Any, node: str) -> Any:
    return {**item, "node": item.get("node", node)} if isinstance(item, dict) else item


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(parts)


async def _chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    async for chunk in response.aiter_raw():
        if chunk:
            yield chunk


async def _send_json(send: Send, status: int, body: Any, extra: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": payload, "more_body": False})


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
