"""``skyport serve``: run the API server (and dashboard) with uvicorn."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Any

from skyport.cli.output import CliError

APP_FACTORY = "skyport.app:create_node_app"


def serve(
    *,
    host: str | None = None,
    port: int | None = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    reload: bool = False,
    config: Path | None = None,
) -> None:
    """Run the SkyPort server; API under /api, live data on /ws.

    CLI commands on this machine with no server configured reach it through the
    socket in its data dir (``skyport.sock``).

    Parameters
    ----------
    host
        Address to listen on (default 127.0.0.1: nothing beyond this machine).
    port
        Port to listen on (default 8080).
    certfile
        TLS certificate (PEM) — serve HTTPS.
    keyfile
        TLS private key (PEM) for --certfile.
    reload
        Restart when the code changes (development).
    config
        Read this config file instead of the usual places.
    """
    from skyport.config import load_settings

    overrides = _server_overrides(host, port, certfile, keyfile)
    settings = load_settings(str(config) if config else None, {"server": overrides})
    server = settings.server
    if server.keyfile and not server.certfile:
        raise CliError("--keyfile needs --certfile", code=2)
    for flag, name in (("certfile", server.certfile), ("keyfile", server.keyfile)):
        if name and not Path(name).is_file():
            raise CliError(f"--{flag} {name}: no such file", code=2)

    # The address first: a port that is taken is said before anything starts.
    listener = listening_socket(server.host, server.port)

    import uvicorn

    from skyport.server import serve_with_local_socket, uvicorn_options

    options = uvicorn_options(server)
    scheme = "https" if server.certfile else "http"
    if reload:
        listener.close()  # the reloader's worker binds it again
        print(f"SkyPort serving on {scheme}://{_shown_host(server.host)}:{server.port}", flush=True)
        # The reloader imports the app in a fresh process: hand the settings over as env.
        _export(config, overrides)
        uvicorn.run(APP_FACTORY, factory=True, reload=True, reload_dirs=_code_dirs(), **options)
        return
    from skyport.app import create_app
    from skyport.plugins import PluginError

    try:
        application = create_app(settings, node=True)
    except PluginError as exc:
        listener.close()
        raise CliError(str(exc), code=2) from None
    print(f"SkyPort serving on {scheme}://{_shown_host(server.host)}:{server.port}", flush=True)
    serve_with_local_socket(application, options, listener, settings.data_path)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (uvicorn listens on it), or a one-line error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is already in use (another SkyPort, or another program)"
            hint = "choose another with --port (or server.port)"
        elif exc.errno == errno.EADDRNOTAVAIL:
            reason, hint = "no such address on this machine", "check --host (or server.host)"
        else:
            reason, hint = exc.strerror or str(exc), "check --host and --port"
        raise CliError(f"cannot listen on {_shown_host(host)}:{port}: {reason}; {hint}") from None
    return listener


def _server_overrides(
    host: str | None, port: int | None, certfile: Path | None, keyfile: Path | None
) -> dict[str, Any]:
    given = {"host": host, "port": port, "certfile": certfile, "keyfile": keyfile}
    return {k: str(v) if isinstance(v, Path) else v for k, v in given.items() if v is not None}


def _export(config: Path | None, overrides: dict[str, Any]) -> None:
    if config:
        os.environ["SKYPORT_CONFIG"] = str(config)
    for key, value in overrides.items():
        os.environ[f"SKYPORT_SERVER__{key.upper()}"] = str(value)


def _code_dirs() -> list[str]:
    """The source of the core and of each installed plugin package (for --reload)."""
    import importlib.util

    import skyport
    from skyport.plugins import discover_entry_points

    dirs = {str(Path(skyport.__file__).parent)}
    for ep in discover_entry_points():
        spec = importlib.util.find_spec(ep.value.partition(":")[0].split(".")[0])
        if spec is not None and spec.submodule_search_locations:
            dirs.update(spec.submodule_search_locations)
    return sorted(dirs)


def _shown_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
