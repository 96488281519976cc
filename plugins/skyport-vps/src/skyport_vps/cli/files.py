"""``files NAME [PATH]``, ``put NAME LOCAL REMOTE``, ``get NAME REMOTE [LOCAL]`` over SFTP."""

from __future__ import annotations

import posixpath
import sys
from pathlib import Path
from typing import Any

from skyport.cli.common import api
from skyport.cli.output import CliError, JsonFlag, human_bytes, human_time, print_json, print_table
from skyport_vps.cli.base import api_path, app


def _transfer(
    client: Any, method: str, path: str, params: dict[str, str], content: bytes | None = None
) -> Any:
    """A request whose body or answer is raw bytes; API errors raised as usual."""
    import httpx

    from skyport.client import ServerUnreachable, error_for

    try:
        response = client.http.request(method, path, params=params, content=content)
    except httpx.TransportError as exc:
        raise ServerUnreachable(client.url, str(exc) or type(exc).__name__) from None
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        raise error_for(response.status_code, body, client.url)
    return response


@app.command
def files(name: str, path: str = ".", /, *, json: JsonFlag = False) -> None:
    """List a directory on a server.

    Parameters
    ----------
    name
        The server.
    path
        The directory (default: the login's home).
    """
    with api() as client:
        rows = client.get(api_path("servers", name, "files"), params={"path": path})
    if json:
        print_json(rows)
        return
    print_table(
        rows,
        [
            ("MODE", lambda r: r["mode"]),
            ("SIZE", lambda r: "-" if r["kind"] == "dir" else human_bytes(r["size"])),
            ("MODIFIED", lambda r: human_time(r["modified"])),
            ("NAME", lambda r: r["name"] + ("/" if r["kind"] == "dir" else "")),
        ],
        empty="(empty)",
    )


@app.command
def put(
    name: str, local: Path, remote: str, /, *, mode: str | None = None, json: JsonFlag = False
) -> None:
    """Upload a file to a server (created or replaced).

    Parameters
    ----------
    name
        The server.
    local
        The file here ("-" reads standard input).
    remote
        Where to write it on the server (a directory keeps the file's name).
    mode
        Permission bits, like 0644.
    """
    if str(local) == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = local.expanduser().read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read {local}: {exc.strerror or exc}") from None
    if remote.endswith("/") and str(local) != "-":
        remote = posixpath.join(remote, local.name)
    params = {"path": remote, **({"mode": mode} if mode else {})}
    with api() as client:
        entry = _transfer(
            client, "PUT", api_path("servers", name, "files", "content"), params, data
        ).json()
    if json:
        print_json(entry)
    else:
        print(f"{local} -> {name}:{entry['path']} ({human_bytes(entry['size'])})")


@app.command
def get(name: str, remote: str, local: Path | None = None, /, *, json: JsonFlag = False) -> None:
    """Download a file from a server.

    Parameters
    ----------
    name
        The server.
    remote
        The file on the server.
    local
        Where to write it (default: its name in this directory; "-" for standard output).
    """
    with api() as client:
        response = _transfer(
            client, "GET", api_path("servers", name, "files", "content"), {"path": remote}
        )
    if local is not None and str(local) == "-":
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
        return
    target = local or Path(posixpath.basename(remote.rstrip("/")) or "download")
    if target.is_dir():
        target = target / posixpath.basename(remote.rstrip("/"))
    target.write_bytes(response.content)
    if json:
        print_json(
            {"server": name, "path": remote, "local": str(target), "size": len(response.content)}
        )
    else:
        print(
            f"{name}:{remote} -> {target} ({human_bytes(len(response.content))})", file=sys.stderr
        )
