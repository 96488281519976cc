"""The built-in ``host`` terminal: a shell on the machine SkyPort runs on.

Off unless ``terminal.host_shell`` is true; needs scope ``host:shell``. The
shell runs as the user the server runs as, in their home directory, with the
server's environment minus its ``SKYPORT_*`` variables (which may hold
secrets such as the bootstrap admin password).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
from collections.abc import Mapping
from pathlib import Path

from skyport.auth.principal import Principal
from skyport.terminals.pty_session import PtySession
from skyport.types import TerminalSize

FALLBACK_SHELL = "/bin/sh"
_NOT_SHELLS = frozenset({"nologin", "false", "true"})


def login_shell(environ: Mapping[str, str] | None = None) -> str:
    """The user's login shell: ``$SHELL``, else the passwd entry, else ``/bin/sh``."""
    environ = os.environ if environ is None else environ
    candidates = [environ.get("SHELL", "")]
    with contextlib.suppress(KeyError):  # a uid without a passwd entry (containers)
        candidates.append(pwd.getpwuid(os.getuid()).pw_shell)
    for candidate in candidates:
        if _usable_shell(candidate):
            return candidate
    return FALLBACK_SHELL


def _usable_shell(path: str) -> bool:
    return (
        bool(path)
        and os.path.isabs(path)
        and Path(path).name not in _NOT_SHELLS
        and os.access(path, os.X_OK)
    )


def shell_command(configured: str = "", environ: Mapping[str, str] | None = None) -> list[str]:
    """The shell's argv: ``terminal.shell`` (split like a shell would), else the login shell."""
    argv = shlex.split(configured) if configured.strip() else []
    return argv or [login_shell(environ)]


def shell_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment without ``SKYPORT_*``, with ``TERM=xterm-256color``."""
    environ = os.environ if environ is None else environ
    env = {k: v for k, v in environ.items() if not k.startswith("SKYPORT_")}
    env["TERM"] = "xterm-256color"
    env.setdefault("COLORTERM", "truecolor")
    return env


class HostShell:
    """Opens a shell on the SkyPort host on a real PTY (a :class:`PtySession`)."""

    name = "host"
    scope = "host:shell"
    description = "Shell on the SkyPort host, as the user the server runs as"

    def __init__(self, shell: str = "") -> None:
        self.shell = shell

    async def open(self, target: str, size: TerminalSize, user: Principal) -> PtySession:
        """Start the shell; ``target`` is ignored (there is one host)."""
        argv = shell_command(self.shell)
        return await PtySession.spawn(argv, size, env=shell_environment(), cwd=_home())


def _home() -> str:
    try:
        home = Path.home()
    except RuntimeError:  # neither $HOME nor a passwd entry
        return "/"
    return str(home) if home.is_dir() else "/"
