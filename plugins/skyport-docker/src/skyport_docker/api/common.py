"""What every docker route shares: picking engines, listing across them, filters, errors."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from litestar import Request, Response
from litestar.exceptions import HTTPException

from skyport.api import PluginContext, Principal, SkyportContext
from skyport_docker.engines import Engine
from skyport_docker.specs import invalid
from skyport_docker.state import docker_state

T = TypeVar("T")

log = logging.getLogger("skyport.docker")
_left_out_lock = threading.Lock()

Skyport = SkyportContext
"""Annotation for the injected plugin context: ``skyport: Skyport``."""

UNAVAILABLE_HEADER = "X-Docker-Unavailable"
"""Set on ``engine=all`` listings when some engines could not be reached."""

SECRETS_SCOPE = "docker:write"
"""Who may read environment values (containers' ``Env``, stacks' ``.env``); others see keys."""
REDACTED = "***"

AuthRequest = Request[Principal, Any, Any]


def sees_secrets(request: AuthRequest) -> bool:
    """Whether the caller may read environment values (least privilege: writers only)."""
    return request.user.has_scope(SECRETS_SCOPE)


def redacted_env_list(env: list[str]) -> list[str]:
    """``["DB_PASSWORD=x", "DEBUG"]`` → ``["DB_PASSWORD=***", "DEBUG"]``."""
    return [f"{line.partition('=')[0]}={REDACTED}" if "=" in line else line for line in env]


def redacted_env_map(env: dict[str, str]) -> dict[str, str]:
    """``{"DB_PASSWORD": "x"}`` → ``{"DB_PASSWORD": "***"}``."""
    return dict.fromkeys(env, REDACTED)


def engine_for(skyport: PluginContext, name: str | None) -> Engine:
    """The engine ``?engine=`` names (default: ``local``); ``all`` is for listings only."""
    if name == "all":
        raise invalid("engine", "'all' only applies to listings; name one engine")
    return docker_state(skyport).engines.get(name)


def parse_filters(values: Sequence[str] | None) -> dict[str, list[str]] | None:
    """Docker filters from ``?filters=``: a JSON object, or ``key=value`` (repeatable).

    ``filters=status=exited&filters=label=a=b`` and
    ``filters={"status":["exited"],"label":["a=b"]}`` mean the same.
    """
    if not values:
        return None
    result: dict[str, list[str]] = {}
    for raw in values:
        text = raw.strip()
        if not text:
            continue
        if text.startswith("{"):
            try:
                decoded = json.loads(text)
            except ValueError as exc:
                raise invalid("filters", f"not a JSON object: {exc}") from None
            if not isinstance(decoded, dict):
                raise invalid("filters", "expected a JSON object")
            for key, value in decoded.items():
                items = value if isinstance(value, list) else [value]
                if isinstance(value, dict):  # the engine's own {"value": true} form
                    items = [k for k, v in value.items() if v]
                result.setdefault(str(key), []).extend(_filter_value(v) for v in items)
            continue
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise invalid("filters", f"{raw!r} is not key=value (e.g. status=exited, label=a=b)")
        result.setdefault(key.strip(), []).append(value)
    return result or None


def _filter_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def list_across(
    skyport: PluginContext, name: str | None, fetch: Callable[[Engine], list[T]]
) -> Response[list[T]]:
    """``fetch`` on one engine, or on every engine at once for ``engine=all``.

    Across engines, an unreachable engine is left out (named in the
    ``X-Docker-Unavailable`` header) unless none answers at all.
    """
    engines = docker_state(skyport).engines.select(name)
    if len(engines) == 1 and name != "all":
        return Response(fetch(engines[0]))
    items: list[T] = []
    missing: list[str] = []
    first_error: HTTPException | None = None
    left_out = docker_state(skyport).left_out
    with ThreadPoolExecutor(max_workers=max(1, min(len(engines), 16))) as pool:
        futures = [(engine, pool.submit(fetch, engine)) for engine in engines]
        for engine, future in futures:
            try:
                items.extend(future.result())
            except HTTPException as exc:
                _note_left_out(left_out, engine.name, exc.detail)
                missing.append(engine.name)
                first_error = first_error or exc
            else:
                _note_left_out(left_out, engine.name, None)
    if first_error is not None and len(missing) == len(engines):
        raise first_error
    headers = {UNAVAILABLE_HEADER: ",".join(missing)} if missing else None
    return Response(items, headers=headers)


def _note_left_out(left_out: set[str], engine: str, reason: str | None) -> None:
    """Log an engine leaving listings (``reason``) or coming back (None), once per change."""
    with _left_out_lock:
        if reason is not None and engine not in left_out:
            left_out.add(engine)
            log.warning(
                "docker engine %s left out of listings until it answers: %s", engine, reason
            )
        elif reason is None and engine in left_out:
            left_out.discard(engine)
            log.info("docker engine %s answers again; listed again", engine)
