"""The server's socket in its data dir, for the CLI on the same machine.

``skyport serve`` also listens on ``<data dir>/skyport.sock`` (mode 0600, in the data
dir that only the server's user can enter). A CLI command with no server configured
finds it and talks to the running server through it, instead of building a server of
its own in-process: a command then costs little more than ``skyport --help``.

Whoever can connect to the socket can read the data dir, which already gives full
control of SkyPort (as in local mode), so the socket hands out a session of the first
admin at ``POST /local/session``. That route exists on the socket alone: it is not
part of the application served over TCP. Everything else on the socket is the same API,
with the same authentication, as on TCP.
"""

from __future__ import annotations

from pathlib import Path

SOCKET_NAME = "skyport.sock"
SESSION_PATH = "/local/session"
"""Where the socket opens a session (``POST``; answers ``{"token": ...}``)."""


def socket_path(data_dir: Path) -> Path:
    """The socket of the server whose data dir is ``data_dir``."""
    return data_dir / SOCKET_NAME
