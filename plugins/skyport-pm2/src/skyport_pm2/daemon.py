"""Where the PM2 daemon lives, starting it, and running the ``pm2`` command.

SkyPort talks to the daemon over its sockets (:mod:`skyport_pm2.rpc`). The
``pm2`` command is run only for what has no RPC method: starting the daemon
(``pm2 ping`` spawns it, as every pm2 command does), ``save`` and
``resurrect`` (the dump file is the CLI's business), and starting an
ecosystem file (the CLI resolves its apps, ``env_<name>`` sections and
defaults itself).

Every ``pm2`` run gets ``PM2_HOME``, ``PM2_DISABLE_VERSION_CHECK=1`` (a
daemon started by SkyPort never calls home) and no ``SKYPORT_*`` variable;
the ``touch`` file that stops the first-run version check is created first.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from skyport.api import BackendUnavailable
from skyport_pm2.settings import Pm2Settings

BACKEND = "pm2"
INSTALL_HINT = "npm install -g pm2"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class CommandFailed(Exception):
    """The ``pm2`` command ran and reported an error (its last error line is the message)."""


@dataclass(frozen=True)
class Pm2Home:
    """The files of one daemon in ``PM2_HOME``."""

    path: Path

    @classmethod
    def from_settings(cls, settings: Pm2Settings) -> Pm2Home:
        configured = settings.home or os.environ.get("PM2_HOME") or "~/.pm2"
        return cls(Path(configured).expanduser().absolute())

    @property
    def rpc_socket(self) -> Path:
        return self.path / "rpc.sock"

    @property
    def pub_socket(self) -> Path:
        return self.path / "pub.sock"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def pids(self) -> Path:
        return self.path / "pids"


class Pm2Command:
    """Runs the ``pm2`` CLI against one ``PM2_HOME``, bounded in time."""

    def __init__(self, settings: Pm2Settings, home: Pm2Home) -> None:
        self.settings = settings
        self.home = home

    def binary(self) -> str:
        """The ``pm2`` executable, or a 503 saying how to install it."""
        configured = self.settings.bin
        found = shutil.which(configured or "pm2")
        if found is None:
            where = f"{configured} does not exist" if configured else "pm2 is not on the PATH"
            raise BackendUnavailable(
                BACKEND, f"PM2 is not installed ({where}): run `{INSTALL_HINT}` or set pm2.bin"
            )
        return found

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SKYPORT_")}
        env.update(PM2_HOME=str(self.home.path), PM2_DISABLE_VERSION_CHECK="1", NO_COLOR="1")
        return env

    async def run(self, *args: str, cwd: Path | None = None) -> str:
        """``pm2 ARGS`` (in ``cwd``, default ``PM2_HOME``); its output.

        :class:`CommandFailed` when pm2 reports an error, a 503 when it
        cannot be run or does not finish in time.
        """
        binary = self.binary()
        self._prepare_home()
        limit = max(self.settings.timeout, 30.0)
        try:  # a thread, not an asyncio subprocess: that needs a child watcher on some loops
            done = await asyncio.to_thread(
                subprocess.run,
                [binary, *args],
                cwd=cwd or self.home.path,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                timeout=limit,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BackendUnavailable(
                BACKEND, f"`pm2 {' '.join(args)}` did not finish within {limit:g} s"
            ) from None
        except OSError as exc:
            raise BackendUnavailable(BACKEND, f"cannot run {binary}: {exc}") from None
        text = ANSI.sub("", done.stdout.decode(errors="replace"))
        if done.returncode != 0:
            raise CommandFailed(f"`pm2 {' '.join(args)}` failed: {last_error_line(text)}")
        return text

    async def start_daemon(self) -> None:
        """Start the daemon if it is not running (``pm2 ping`` does that)."""
        try:
            await self.run("ping")
        except CommandFailed as exc:
            raise BackendUnavailable(BACKEND, f"cannot start the daemon: {exc}") from None

    def _prepare_home(self) -> None:
        try:
            self.home.path.mkdir(parents=True, exist_ok=True)
            (self.home.path / "touch").touch(exist_ok=True)
        except OSError as exc:
            raise BackendUnavailable(
                BACKEND, f"cannot use PM2_HOME {self.home.path}: {exc.strerror or exc}"
            ) from None


def last_error_line(output: str) -> str:
    """The most telling line of pm2's output (its errors are prefixed ``[PM2][ERROR]``)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if "ERROR" in line or "Error" in line:
            return line[:300]
    return (lines[-1] if lines else "no output")[:300]
