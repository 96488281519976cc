"""The ``pm2`` section of SkyPort's settings (``SKYPORT_PM2__<KEY>`` in the environment)."""

from __future__ import annotations

from typing import Annotated

import msgspec


class Pm2Settings(msgspec.Struct, forbid_unknown_fields=True):
    home: str = ""
    """The daemon's ``PM2_HOME`` (sockets, logs, pids); default ``$PM2_HOME``, else ``~/.pm2``."""
    bin: str = ""
    """The ``pm2`` command (starts the daemon, save/resurrect, ecosystem files); default: PATH."""
    node: str = ""
    """Node.js, to read ``.js`` ecosystem files; default: ``node`` on the PATH."""
    timeout: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    """Seconds to wait for the daemon's answer (stop, reload of many instances take a while)."""
    start_daemon: bool = True
    """Start the daemon (as ``pm2 ping`` does) when it is not running."""
    ecosystem_dirs: list[str] = msgspec.field(default_factory=list)
    """Directories whose ecosystem files non-admins may read and start (a ``.js`` one runs
    as SkyPort's user when read); default none. Admins may use any file."""
    inherit_env: bool = True
    """Apps started through SkyPort get the server's environment, as with the ``pm2`` CLI
    (SkyPort's own ``SKYPORT_*`` variables left out), plus the ``env`` of the request."""

    def __post_init__(self) -> None:
        relative = [d for d in self.ecosystem_dirs if not d.startswith("/")]
        if relative:
            raise ValueError(f"ecosystem_dirs must be absolute paths, not {relative[0]!r}")
