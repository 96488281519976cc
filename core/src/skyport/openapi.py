"""The OpenAPI document at ``/schema`` and the browsable reference at ``/schema/swagger``.

Every operation documents the errors it can answer with, all in one shape, the
``Error`` component: 400 for routes that take parameters or a body, 401 and 403 for
routes that need a login, 404 (a resource named
in the path or the query does not exist), 409 for changes, 503 for everything (a
plugin or a backend is unavailable). Swagger UI is served from the files of the
``swagger-ui-bundle-v2`` package: the page loads nothing from the internet.
"""

from __future__ import annotations

from typing import Any

import msgspec
import swagger_ui_bundle
from litestar import Router
from litestar.constants import RESERVED_KWARGS
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.static_files import create_static_files_router

from skyport import __version__

SWAGGER_ASSETS = "/schema/swagger-ui"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class Error(msgspec.Struct, frozen=True):
    """Every error answer: the HTTP status, what went wrong, and details when useful
    (the field at fault, the missing scope, the backend that is down)."""

    status_code: int
    detail: str
    extra: dict[str, Any] | list[Any] | None = None


def _spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=Error, description=description, generate_examples=False)


LIMITED = _spec("Too many attempts: retry after the seconds the Retry-After header gives")
ERRORS = {
    400: _spec("The request is invalid: extra names the field or parameter and what is wrong"),
    401: _spec("Not logged in, or the session or API token no longer works"),
    403: _spec("The user lacks the scope the route needs (named in extra.missing_scope)"),
    404: _spec("No such resource"),
    409: _spec("The change conflicts with the current state"),
    503: _spec("A plugin or the backend it drives is unavailable (named in extra.backend)"),
}


class DocumentedErrors(ReceiveRoutePlugin):
    """Adds the error answers each route can give to its OpenAPI operation."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            codes = {404, 503}
            if route.path_parameters or _takes_input(handler):
                codes.add(400)
            if not handler.opt.get("exclude_from_auth"):
                codes |= {401, 403}
            if not set(handler.http_methods) <= SAFE:
                codes.add(409)
            _add_responses(handler, {code: ERRORS[code] for code in sorted(codes)})


def _takes_input(handler: HTTPRouteHandler) -> bool:
    """Whether the handler reads a body or parameters (which Litestar validates: 400)."""
    injected = (RESERVED_KWARGS - {"data"}) | set(handler.resolve_dependencies())
    return any(name not in injected for name in handler.parsed_fn_signature.parameters)


def _add_responses(handler: HTTPRouteHandler, errors: dict[int, ResponseSpec]) -> None:
    handler.responses = {**errors, **(handler.responses or {})}


def openapi_config() -> OpenAPIConfig:
    """``/schema`` (JSON, scope ``status:read``) and ``/schema/swagger``."""
    bearer = SecurityScheme(type="http", scheme="bearer", bearer_format="JWT or skp_ API token")
    swagger = SwaggerRenderPlugin(
        path="/swagger",
        js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>",
    )
    return OpenAPIConfig(
        title="SkyPort",
        version=__version__,
        path="/schema",
        render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"]), swagger],
        openapi_router=Router(
            path="/schema",
            route_handlers=[],
            opt={"scope": "status:read"},
            include_in_schema=False,
        ),
        components=Components(security_schemes={"bearer": bearer}),
        security=[{"bearer": []}],
    )


def swagger_assets() -> Any:
    """The Swagger UI files (public: they hold no data; the page and schema need a login)."""
    return create_static_files_router(
        path=SWAGGER_ASSETS,
        directories=[swagger_ui_bundle.swagger_ui_path],
        opt={"exclude_from_auth": True},
        include_in_schema=False,
        name="swagger-ui",
    )
