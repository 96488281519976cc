"""Docker engines by name, and the translation of engine errors into HTTP answers.

The local socket is the engine ``local``; remote engines (``ssh://user@host``,
``tcp://host:2376`` with TLS) come from the settings or are added through the
API and kept in the database. Every call goes through :meth:`Engine.call`,
which turns the SDK's exceptions into 4xx/502/503 answers that name the
engine — never a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from typing import TypeVar

import docker
import msgspec
import requests
import sqlalchemy as sa
import urllib3
from docker import errors as docker_errors
from litestar.exceptions import ClientException, HTTPException, NotFoundException

from skyport.api import BackendUnavailable
from skyport.store import Database
from skyport_docker.settings import DockerSettings, EngineConfig

T = TypeVar("T")
log = logging.getLogger("skyport.docker")

LOCAL = "local"
SUPPORTED_SCHEMES = ("unix://", "ssh://", "tcp://", "http://", "https://", "npipe://")
REQUEST_FAULT = re.compile(
    r"unable to find (user|group)|no matching entries in (passwd|group) file"
    r"|executable file not found|exec: \"[^\"]*\": |chdir to cwd|cannot mkdir: |not a directory"
    r"|^ps: |error running ps",
    re.IGNORECASE,
)
"""The engine's 500s that the request caused (a bad user, working dir, command, ``ps`` args)."""

engines_table = sa.Table(
    "docker_engines",
    sa.MetaData(),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("url", sa.String(512), nullable=False),
    sa.Column("tls_ca", sa.String(1024), nullable=True),
    sa.Column("tls_cert", sa.String(1024), nullable=True),
    sa.Column("tls_key", sa.String(1024), nullable=True),
)


class EngineInfo(msgspec.Struct, frozen=True):
    name: str
    url: str
    source: str
    """``settings`` or ``api`` (added at run time, removable)."""
    tls: bool = False
    insecure: bool = False
    """Plain TCP without TLS: anyone on the path can drive the engine (root on its host)."""


class BadGateway(HTTPException):
    status_code = 502


class GatewayTimeout(HTTPException):
    status_code = 504


class Engine:
    """One Docker engine and its (lazily opened, shared) low-level API client."""

    def __init__(self, name: str, config: EngineConfig, timeout: float, source: str) -> None:
        self.name = name
        self.config = config
        self.timeout = timeout
        self.source = source
        self._client: docker.APIClient | None = None
        self._lock = threading.RLock()  # client() resets (takes it again) when connecting fails

    @property
    def url(self) -> str:
        return self.config.url

    @property
    def info(self) -> EngineInfo:
        return EngineInfo(
            self.name,
            self.url,
            self.source,
            tls=bool(self.config.tls_ca),
            insecure=is_plain_tcp(self.config),
        )

    @property
    def is_local(self) -> bool:
        return self.url.startswith("unix://")

    def client(self) -> docker.APIClient:
        """The SDK's low-level client (one HTTP call per method: no hidden inspects)."""
        with self._lock:
            if self._client is None:
                problem = url_problem(self.url)
                if problem:
                    raise ClientException(
                        f"engine: Docker engine {self.name!r} has an address that is not valid "
                        f"({self.url}: {problem}); fix it in the settings, or remove and add it",
                        extra={"field": "engine"},
                    )
                with self.errors():
                    client = docker.APIClient(
                        base_url=self.url,
                        version=docker.constants.MINIMUM_DOCKER_API_VERSION,  # for now:
                        timeout=int(self.timeout),
                        tls=self._tls(),
                        use_ssh_client=False,
                    )
                    # requests lets REQUESTS_CA_BUNDLE (set on many systems) override
                    # the session's CA, so this engine's own CA would be ignored.
                    client.trust_env = False
                    client._version = client._retrieve_server_version()  # then the engine's
                    self._client = client
            return self._client

    def call(self, fn: Callable[[docker.APIClient], T]) -> T:
        """Run ``fn(client)`` with engine errors translated for the API."""
        with self.errors():
            return fn(self.client())

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Translate docker SDK and transport exceptions into HTTP exceptions."""
        try:
            yield
        except HTTPException:
            raise
        except docker_errors.APIError as exc:
            raise _api_error(exc, self.name) from None
        except (msgspec.ValidationError, msgspec.DecodeError):
            raise ClientException(
                f"engine: Docker engine {self.name!r} ({self.url}) did not answer as the "
                "Docker Engine API does; check its address",
                extra={"field": "engine"},
            ) from None
        except (docker_errors.InvalidArgument, docker_errors.InvalidRepository) as exc:
            raise ClientException(str(exc)) from None
        except (
            requests.exceptions.ReadTimeout,
            urllib3.exceptions.TimeoutError,
            TimeoutError,
        ):
            raise GatewayTimeout(
                f"Docker engine {self.name!r} ({self.url}) did not answer in time"
            ) from None
        except (
            docker_errors.DockerException,
            requests.exceptions.RequestException,
            urllib3.exceptions.HTTPError,
            OSError,
        ) as exc:
            self.reset()
            raise BackendUnavailable(
                f"Docker engine {self.name!r} ({self.url})", connection_failure(exc, self.url)
            ) from None
        except Exception as exc:
            if not type(exc).__module__.startswith("paramiko"):  # ssh://: host key, auth …
                raise
            self.reset()
            raise BackendUnavailable(
                f"Docker engine {self.name!r} ({self.url})", connection_failure(exc, self.url)
            ) from None

    def reset(self) -> None:
        """Forget the client so the next call reconnects (the engine may have restarted)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    def _tls(self) -> docker.tls.TLSConfig | bool:
        if not self.config.tls_ca and not self.config.tls_cert:
            return False
        cert = (
            (self.config.tls_cert, self.config.tls_key)
            if self.config.tls_cert and self.config.tls_key
            else None
        )
        return docker.tls.TLSConfig(
            client_cert=cert, ca_cert=self.config.tls_ca, verify=bool(self.config.tls_ca)
        )


def _explain(exc: docker_errors.APIError) -> str:
    return said_once(str(exc.explanation or exc))


def _foreign_body(exc: docker_errors.APIError) -> bool:
    """Whether the error came with a body that is not the Engine API's ``{"message": …}``:
    another server answered, and what it sent is not to be shown."""
    response = exc.response
    if response is None or not response.content:
        return False
    try:
        body = response.json()
    except ValueError:
        return True
    return not (isinstance(body, dict) and isinstance(body.get("message"), str))


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a Docker engine's address (None: it can)."""
    if not url.startswith(SUPPORTED_SCHEMES):
        return "expected unix:///path, ssh://user@host[:port] or tcp://host:2376"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range or not a number
        if not url.startswith(("unix://", "npipe://")):
            docker.utils.parse_host(url)
            if not parts.hostname:
                return "no host"
    except (ValueError, docker_errors.DockerException) as exc:
        return str(exc) or type(exc).__name__
    return None


def is_plain_tcp(config: EngineConfig) -> bool:
    """``tcp://``/``http://`` without TLS: the engine's API travels unencrypted, unauthenticated."""
    plain = config.url.startswith(("tcp://", "http://"))
    return plain and not (config.tls_ca or config.tls_cert)


def said_once(message: str) -> str:
    """``no such image: x: No such image: x`` → ``no such image: x`` (the engine repeats)."""
    for match in re.finditer(": ", message):
        head, tail = message[: match.start()], message[match.end() :]
        if head.lower() == tail.lower():
            return head
    return message


def connection_failure(exc: BaseException, url: str) -> str:
    """Why the engine at ``url`` could not be reached, in words (no Python wrapping).

    ``connection refused``, ``no such socket /x.sock``, ``timed out``,
    ``TLS certificate verify failed: …`` — the innermost reason the transport
    gave, found through the SDK's, requests' and urllib3's wrappers.
    """
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, docker_errors.APIError) and not _foreign_body(cause):
            return _explain(cause)
        if isinstance(cause, requests.exceptions.HTTPError) and cause.response is not None:
            return f"answered HTTP {cause.response.status_code}, not as a Docker engine does"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate verify failed: {cause.verify_message or _ssl_text(cause)}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS: {_ssl_text(cause)}"
    errors = [c for c in causes if isinstance(c, OSError)]
    if any(isinstance(c, TimeoutError) for c in causes) or isinstance(
        exc, requests.exceptions.Timeout
    ):
        return "timed out"
    for error in errors:
        if isinstance(error, FileNotFoundError) and url.startswith("unix://"):
            return f"no such socket {url.removeprefix('unix://')}"
    for error in reversed(errors):  # innermost first
        text = error.strerror or str(error)
        if text:
            return text[0].lower() + text[1:]
    return _short(exc)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps (``__cause__``, ``reason``, exception arguments), outer first."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < 32:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [getattr(current, "reason", None), *current.args, current.__cause__]
        if not current.__suppress_context__:
            inner.append(current.__context__)
        pending.extend(e for e in inner if isinstance(e, BaseException))


def _ssl_text(exc: ssl.SSLError) -> str:
    """``[SSL: X] text (_ssl.c:1000)`` → ``text``."""
    text = str(exc.args[1] if len(exc.args) > 1 else exc)
    return re.sub(r"^\[SSL(: [A-Z0-9_]+)?\] | \(_ssl\.c:\d+\)$", "", text).strip()


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = text.removeprefix("Error while fetching server API version: ")
    return text if len(text) < 300 else text[:297] + "..."


def _api_error(exc: docker_errors.APIError, engine: str) -> HTTPException:
    status = exc.status_code or (404 if isinstance(exc, docker_errors.NotFound) else 502)
    if _foreign_body(exc):
        return BadGateway(
            f"Docker engine {engine!r} answered HTTP {status} without the Engine API's "
            "error message; check its address"
        )
    message = _explain(exc)
    if status in (400, 401, 403, 409, 412) or (status == 500 and REQUEST_FAULT.search(message)):
        return ClientException(message, status_code=400 if status == 500 else status)
    if status == 304:
        return ClientException(message or "nothing to do: already in that state", status_code=409)
    if status == 404:
        return NotFoundException(message)
    return BadGateway(f"Docker engine error: {message}")


RELOAD_EVERY = 5.0
"""Seconds between two reads of the saved engines (cluster nodes' changes)."""


class EngineRegistry:
    """Every configured engine by name; remote engines can be added at run time."""

    def __init__(self, settings: DockerSettings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self._engines: dict[str, Engine] = {}
        if settings.local_url:
            self._put(LOCAL, EngineConfig(settings.local_url), "settings")
        for name, config in settings.engines.items():
            if is_plain_tcp(config):
                log.warning(
                    "docker engine %s (%s) has no TLS: its API is unencrypted", name, config.url
                )
            self._put(name, config, "settings")

    def _put(self, name: str, config: EngineConfig, source: str) -> Engine:
        engine = Engine(name, config, self.settings.timeout, source)
        self._engines[name] = engine
        return engine

    def all(self) -> list[Engine]:
        return list(self._engines.values())

    def get(self, name: str | None = None) -> Engine:
        """The engine ``name``, or the default one (``local``, else the first)."""
        if name is None:
            if not self._engines:
                raise NotFoundException("no Docker engine is configured")
            return self._engines.get(LOCAL) or next(iter(self._engines.values()))
        try:
            return self._engines[name]
        except KeyError:
            known = ", ".join(self._engines) or "none"
            raise NotFoundException(f"no Docker engine {name!r} (known: {known})") from None

    def select(self, name: str | None) -> list[Engine]:
        """``all`` → every engine; a name → that one; None → the default."""
        return self.all() if name == "all" else [self.get(name)]

    async def load_saved(self) -> None:
        """Take in the engines added through the API — on this server or, in a cluster, on
        another one — and drop those removed (the table is the truth for them)."""
        async with self.database.connect() as conn:
            rows = {row.name: row for row in await conn.execute(sa.select(engines_table))}
        for name, row in rows.items():
            if name not in self._engines:
                self._put(name, EngineConfig(row.url, row.tls_ca, row.tls_cert, row.tls_key), "api")
        for name, engine in list(self._engines.items()):
            if engine.source == "api" and name not in rows:
                del self._engines[name]
                engine.reset()

    async def keep_in_step(self, every: float = RELOAD_EVERY) -> None:
        """:meth:`load_saved` every ``every`` seconds (another node's changes arrive so)."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.load_saved()
            except Exception as exc:  # the database is down: try again next time
                log.debug("cannot read the saved Docker engines: %s", exc)

    async def add(self, name: str, config: EngineConfig) -> Engine:
        if name in self._engines:
            raise ClientException(f"Docker engine {name!r} already exists", status_code=409)
        problem = url_problem(config.url)
        if problem:
            raise ClientException(
                f"url: {config.url!r} is not a Docker engine address ({problem})",
                extra={"field": "url"},
            )
        async with self.database.begin() as conn:
            await conn.execute(
                engines_table.insert().values(name=name, **msgspec.structs.asdict(config))
            )
        return self._put(name, config, "api")

    async def remove(self, name: str) -> None:
        engine = self.get(name)
        if engine.source != "api":
            raise ClientException(
                f"Docker engine {name!r} comes from the settings file; remove it there"
            )
        async with self.database.begin() as conn:
            await conn.execute(engines_table.delete().where(engines_table.c.name == name))
        del self._engines[name]
        engine.reset()

    def close(self) -> None:
        for engine in self._engines.values():
            engine.reset()
