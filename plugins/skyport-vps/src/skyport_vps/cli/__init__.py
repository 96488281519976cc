"""``skyport vps …``: servers over SSH, through the one SkyPort client.

Every command calls ``/api/vps`` (the server you logged in to, or the API
in-process), so the CLI needs no SSH setup of its own. ``--json`` prints the
API's JSON as it came; errors are the core's one-line messages with a
non-zero exit code. Keep the imports light: ``skyport vps --help`` imports
this package, never paramiko or Litestar.
"""

from skyport_vps.cli import (  # noqa: F401 - importing them registers their commands
    files,
    run,
    servers,
    shell,
)
from skyport_vps.cli.base import app

__all__ = ["app"]
