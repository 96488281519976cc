"""Files over SFTP: ``/servers/{name}/files?path=`` (list) and ``/servers/{name}/files/content``
(``GET`` downloads, ``PUT`` uploads the raw request body).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, put
from litestar.params import FromPath, FromQuery

from skyport_vps import errors
from skyport_vps.api.common import (
    FILES,
    AnyRequest,
    Skyport,
    allowed_server,
    in_thread,
    invalid,
)
from skyport_vps.settings import VpsSettings
from skyport_vps.sftp import FileEntry, list_dir, read_file, write_file
from skyport_vps.state import vps_state

TAGS = ["vps: files"]
MAX_PATH = 4096


def _path(path: str) -> str:
    if not path or len(path) > MAX_PATH or "\x00" in path:
        raise invalid("path", "give a path on the server (absolute, or relative to the home)")
    return path


def routes(settings: VpsSettings) -> list[Any]:
    """The file handlers; the upload limit comes from the settings."""

    @get("/servers/{name:str}/files", opt={**FILES, "audit": True}, tags=TAGS)
    async def list_files(
        skyport: Skyport, request: AnyRequest, name: FromPath[str], path: FromQuery[str] = "."
    ) -> list[FileEntry]:
        """A directory's entries, directories first."""
        server = await allowed_server(skyport, request.user, name)
        return await in_thread(skyport, list_dir, vps_state(skyport).pool, server, _path(path))

    @get("/servers/{name:str}/files/content", opt={**FILES, "audit": True}, tags=TAGS)
    async def download(
        skyport: Skyport, request: AnyRequest, name: FromPath[str], path: FromQuery[str]
    ) -> Response[bytes]:
        """A file's bytes (up to the ``max_download`` setting)."""
        server = await allowed_server(skyport, request.user, name)
        state = vps_state(skyport)
        data = await in_thread(
            skyport, read_file, state.pool, server, _path(path), state.settings.max_download
        )
        return Response(data, media_type="application/octet-stream")

    @put(
        "/servers/{name:str}/files/content",
        opt=FILES,
        tags=TAGS,
        request_max_body_size=settings.max_upload,
    )
    async def upload(
        skyport: Skyport,
        request: Request[Any, Any, Any],
        name: FromPath[str],
        path: FromQuery[str],
        mode: FromQuery[str | None] = None,
    ) -> FileEntry:
        """Write the request body to ``path`` (created or replaced); ``mode`` like ``0644``."""
        server = await allowed_server(skyport, request.user, name)
        permissions = None
        if mode is not None:
            try:
                permissions = int(mode, 8)
            except ValueError:
                raise invalid("mode", f"{mode!r} is not octal permission bits (0644)") from None
            if not 0 <= permissions <= 0o7777:
                raise invalid("mode", f"{mode!r} is not octal permission bits (0644)")
        state = vps_state(skyport)
        data = await request.body()
        if len(data) > state.settings.max_upload:
            raise errors.TooLarge(
                name, f"the upload is larger than the limit ({state.settings.max_upload} bytes)"
            )
        return await in_thread(
            skyport, write_file, state.pool, server, _path(path), data, permissions
        )

    return [list_files, download, upload]
