"""``skyport vps ssh NAME [-- CMD]``: a shell on a server through SkyPort's ``/ws/terminal``.

The shell runs on the server's side of SkyPort's pooled SSH connection (the
``vps`` terminal provider); this command only carries keys and output, with
the core's terminal client: raw mode and window size changes on a terminal,
piped input typed in (its end is a Ctrl-D) otherwise. The exit code is the
shell's (or the command's).
"""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from skyport.cli.common import api
from skyport_vps.cli.base import app


@app.command
def ssh(name: str, /, *command: Annotated[str, Parameter(allow_leading_hyphen=True)]) -> int:
    """Open an interactive shell on a server (needs the scope vps:shell).

    Parameters
    ----------
    name
        The server.
    command
        A command to run in the shell instead (after --).
    """
    from skyport.cli.terminal import open_terminal

    with api() as client:
        return open_terminal(client, "vps", name, list(command) or None)
