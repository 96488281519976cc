"""``files NAME [PATH]``, ``put NAME LOCAL REMOTE``, ``get NAME REMOTE [LOCAL]`` over SFTP."""

from __future__ import annotations

import posixpath
import sys
from pathlib import Path

from skyport.cli.common import api
from skyport.cli.output import CliError, JsonFlag, human_bytes, human_time, print_json, print_table
from skyport_vps.cli.base import api_path, app


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
        entry = client.request(
            "PUT", api_path("servers", name, "files", "content"), params=params, content=data
        )
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
        data = client.download(
            api_path("servers", name, "files", "content"), params={"path": remote}
        )
    if local is not None and str(local) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = local or Path(posixpath.basename(remote.rstrip("/")) or "download")
    if target.is_dir():
        target = target / posixpath.basename(remote.rstrip("/"))
    target.write_bytes(data)
    if json:
        print_json({"server": name, "path": remote, "local": str(target), "size": len(data)})
    else:
        print(f"{name}:{remote} -> {target} ({human_bytes(len(data))})", file=sys.stderr)
