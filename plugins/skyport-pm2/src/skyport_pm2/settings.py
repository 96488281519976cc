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
    inherit_env: bool = True
    """Apps started through SkyPort get the server's environment, as with the ``pm2`` CLI
    (SkyPort's own ``SKYPORT_*`` variables left out), plus the ``env`` of the request."""
