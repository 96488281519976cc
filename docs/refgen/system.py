"""What the running system declares, read from a real application built in-process.

The application is assembled exactly as ``skyport serve`` assembles it, with every
installed plugin, on a throwaway data dir; its lifespan runs (migrations and each
plugin's ``startup``, where most WebSocket topics are declared) and is shut down
again before anything is returned.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute, WebSocketRoute
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.auth.middleware import required_scope
from skyport.broker import TopicSpec
from skyport.config import load_settings
from skyport.plugins import PluginManager, PluginRecord
from skyport.types import Permission

_TYPED_PARAMETER = re.compile(r"\{(\w+):[^}]+\}")


@dataclass(frozen=True)
class Snapshot:
    """Everything the references are generated from."""

    openapi: dict[str, Any]
    scopes: dict[tuple[str, str], str]
    """``(METHOD, /path/{param}) -> scope`` for every HTTP operation."""
    websockets: dict[str, str]
    """``/ws/... -> scope``."""
    topics: list[TopicSpec]
    permissions: list[tuple[str, Permission]]
    """``(plugin, permission)``, the core's first."""
    plugins: dict[str, PluginRecord]
    settings_types: dict[str, type]
    """Plugin name -> the type its ``register_config`` returns."""


def snapshot() -> Snapshot:
    """Build the application with every installed plugin, start it, read it, stop it."""
    with tempfile.TemporaryDirectory(prefix="skyport-docs-") as folder:
        config = Path(folder, "config.yaml")
        config.write_text("metrics: {history: false}\n", encoding="utf-8")
        data_dir = Path(folder, "data")
        # Only this file: neither the builder's own config file nor SKYPORT_* variables.
        settings = load_settings(str(config), overrides={"data_dir": str(data_dir)}, environ={})
        manager = PluginManager(strict=True)
        app = create_app(settings, plugins=manager)
        # The first start prints the new admin's one-time password: not for the build log.
        with contextlib.redirect_stderr(io.StringIO()), TestClient(app):
            topics = list(app.state.broker._specs)
        registry = app.state.services.registry
        contexts = app.state.contexts
        return Snapshot(
            openapi=app.openapi_schema.to_schema(),
            scopes=_http_scopes(app),
            websockets=_websocket_scopes(app),
            topics=topics,
            permissions=[(registry.owner(p), p) for p in registry.permissions.values()],
            plugins=dict(manager.records),
            settings_types={
                name: type(context.settings)
                for name, context in contexts.items()
                if context.settings is not None
            },
        )


def _http_scopes(app: Litestar) -> dict[tuple[str, str], str]:
    found = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = _TYPED_PARAMETER.sub(r"{\1}", route.path)
        for handler in route.route_handlers:
            scope = required_scope(handler)
            for method in handler.http_methods:
                found[(method, path)] = "" if handler.opt.get("exclude_from_auth") else scope or ""
    return found


def _websocket_scopes(app: Litestar) -> dict[str, str]:
    return {
        route.path: required_scope(route.route_handler) or ""
        for route in app.routes
        if isinstance(route, WebSocketRoute)
    }
