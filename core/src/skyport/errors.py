"""Errors plugins raise, and how every error becomes a clear JSON answer.

Raise Litestar's HTTP exceptions (``NotFoundException``, ``ClientException``
…) for request problems, and :class:`BackendUnavailable` when the program a
plugin drives (Docker, PM2, an SSH host) cannot be reached: the client gets a
503 naming it and the server keeps serving. Anything unexpected is logged
with its traceback and answered with a 500 that reveals nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

log = logging.getLogger("skyport.errors")


class BackendUnavailable(HTTPException):
    """The backend a plugin talks to is down or unreachable (HTTP 503)."""

    status_code = HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self, backend: str, reason: str = "", **kwargs: Any) -> None:
        detail = f"{backend} is unavailable" + (f": {reason}" if reason else "")
        super().__init__(detail=detail, extra={"backend": backend}, **kwargs)
        self.backend = backend


def error_body(status: int, detail: str, extra: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status, "detail": detail}
    if extra:
        body["extra"] = extra
    return body


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Log an unexpected exception fully; tell the client only that it happened."""
    log.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        error_body(HTTP_500_INTERNAL_SERVER_ERROR, "internal error; the server log has details"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )
