"""The web dashboard: the React app built into ``skyport/web`` (see ``frontend/``).

``/assets/*`` are content-hashed files, cached for a year. Every other GET
that no route answers, outside the API's own prefixes, answers the app's
``index.html`` (never cached), so a bookmarked ``/containers/web`` opens the
app at that page; the app itself asks the API whether you are logged in.
Unknown paths under ``/api``, ``/ws``, ``/schema``, ``/metrics`` and
``/assets`` keep their JSON 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_404_NOT_FOUND

from skyport.errors import error_body

WEB_DIR = Path(__file__).parent / "web"
"""Where the build lands (gitignored; built by the core's hatch build hook)."""

RESERVED_PREFIXES = ("/api", "/ws", "/schema", "/metrics", "/assets")
"""Paths that are never the app's pages."""

ASSET_CACHE = CacheControlHeader(max_age=365 * 24 * 3600, public=True, immutable=True)
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        # https: images are the logos and screenshots of marketplace catalogs, served by their
        # stores; scripts, styles and connections stay this server's own.
        "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
NOT_BUILT = (
    "<!doctype html><title>SkyPort</title><p>The SkyPort dashboard is not built. "
    "Run <code>uv sync</code> (or <code>npm ci &amp;&amp; npm run build</code> in "
    "<code>frontend/</code>) with Node.js and npm installed; the API is served under /api.</p>"
)


def is_page(path: str) -> bool:
    """Whether ``path`` may be one of the app's pages (it is outside the reserved prefixes)."""
    return not any(path == p or path.startswith(f"{p}/") for p in RESERVED_PREFIXES)


def asset_routes(web_dir: Path | None = None) -> list[Any]:
    """``/assets``: the build's hashed files, public and cached long."""
    web_dir = web_dir or WEB_DIR
    return [
        create_static_files_router(
            path="/assets",
            directories=[web_dir / "assets"],
            cache_control=ASSET_CACHE,
            opt={"exclude_from_auth": True},
            name="dashboard-assets",
        )
    ]


def page_or_not_found(web_dir: Path | None = None) -> Any:
    """The app's 404 handler: ``index.html`` for page GETs, the usual JSON 404 otherwise."""
    index = (web_dir or WEB_DIR) / "index.html"

    def handle(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
        if request.method in ("GET", "HEAD") and is_page(request.url.path):
            if index.is_file():
                return Response(index.read_bytes(), media_type="text/html", headers=PAGE_HEADERS)
            return Response(NOT_BUILT, media_type="text/html", status_code=HTTP_404_NOT_FOUND)
        return Response(
            error_body(exc.status_code, exc.detail, exc.extra),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    return handle
