"""The Compose tool, run as a subprocess against one engine.

SkyPort does not reimplement Compose: it runs ``docker compose`` (v2) when
that works, else ``docker-compose`` (v1), or whatever the ``compose_command``
setting names. The engine is chosen with ``-H`` (and TLS flags), so one tool
serves every engine; it runs with only the environment variables it needs
(never ``DOCKER_HOST``, ``COMPOSE_FILE`` …, nor the server's other variables).
"""

from __future__ import annotations

import atexit
import functools
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from litestar.exceptions import ClientException

from skyport.api import BackendUnavailable
from skyport_docker.engines import Engine, GatewayTimeout
from skyport_docker.settings import EngineConfig

RUN_TIMEOUT = 900.0
"""Seconds a Compose command may take (pulls and recreations of large stacks)."""
_UNREACHABLE = (
    "Couldn't connect to Docker daemon",
    "Cannot connect to the Docker daemon",
    "Error while fetching server API version",
    "Install paramiko package",
    "Host key verification failed",
    "Permission denied (publickey",
)
"""Compose's ways of saying it could not reach the engine (→ 503, not 400)."""
_NO_PARAMIKO = (
    "{tool} (Compose 1.x) reaches ssh:// engines through the Python package paramiko, "
    "which the Python it runs on does not have: install python3-paramiko (Debian, Ubuntu: "
    "apt-get install python3-paramiko), or the Compose v2 plugin (docker compose)"
)
_CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
_KEPT_ENV = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "XDG_RUNTIME_DIR",
        "DOCKER_CONFIG",  # registry logins
        "SSH_AUTH_SOCK",  # ssh:// engines
        "SSL_CERT_FILE", "SSL_CERT_DIR", *_CA_BUNDLE_ENV,  # whom registries are trusted by
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    }
)  # fmt: skip
"""The server's environment variables Compose runs with (and ``LC_*``)."""


@dataclass(frozen=True)
class ComposeResult:
    returncode: int
    output: str
    """stdout and stderr, as Compose printed them."""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class ComposeFailed(ClientException):
    """Compose refused or failed: 400 (409 for a name conflict) with its message."""

    def __init__(self, action: str, output: str) -> None:
        message = f"compose {action} failed: {summary(output)}"
        status = 409 if "Conflict" in output or "is already in use" in output else 400
        super().__init__(message, status_code=status)


def summary(output: str, limit: int = 1500) -> str:
    """Compose's messages without its progress lines, at most ``limit`` characters."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    wanted = [line for line in lines if not _progress(line)] or lines
    text = " | ".join(dict.fromkeys(wanted))
    return text if len(text) <= limit else "..." + text[-limit:]


def _progress(line: str) -> bool:
    words = (
        "... done",
        "... error",
        "Pulling ",
        "Creating ",
        "Starting ",
        "Stopping ",
        "Removing ",
    )
    return any(word in line for word in words) and not line.startswith("ERROR")


@functools.cache
def detect(configured: str = "") -> tuple[str, ...]:
    """The Compose tool's argv: the setting, else ``docker compose``, else ``docker-compose``."""
    if configured.strip():
        return tuple(shlex.split(configured))
    docker = shutil.which("docker")
    if docker:
        try:
            probe = subprocess.run(
                [docker, "compose", "version"], capture_output=True, timeout=30, check=False
            )
            if probe.returncode == 0:
                return (docker, "compose")
        except (OSError, subprocess.TimeoutExpired):
            pass
    legacy = shutil.which("docker-compose")
    if legacy:
        return (legacy,)
    return ()


class ComposeTool:
    """Runs Compose for one project against one engine."""

    def __init__(self, engine: Engine, configured: str = "") -> None:
        self.engine = engine
        self.argv = detect(configured)

    def command(self, project: str, files: Sequence[Path], project_dir: Path | None) -> list[str]:
        """The argv up to the subcommand: tool, engine flags, project and files."""
        if not self.argv:
            raise BackendUnavailable(
                "docker compose",
                "no Compose tool found (install docker-compose or the compose plugin)",
            )
        engine_flags = self._engine_flags()
        if len(self.argv) >= 2 and self.argv[-1] == "compose":  # v2: docker [flags] compose
            argv = [*self.argv[:-1], *engine_flags, "compose"]
        else:
            argv = [*self.argv, *engine_flags]
        argv += ["--ansi", "never", "-p", project]
        if project_dir is not None:
            argv += ["--project-directory", str(project_dir)]
        for file in files:
            argv += ["-f", str(file)]
        return argv

    def _engine_flags(self) -> list[str]:
        config = self.engine.config
        flags = ["-H", config.url]
        if config.tls_ca or config.tls_cert:
            flags.append("--tlsverify" if config.tls_ca else "--tls")
            if config.tls_ca:
                flags += ["--tlscacert", config.tls_ca]
            if config.tls_cert and config.tls_key:
                flags += ["--tlscert", config.tls_cert, "--tlskey", config.tls_key]
        return flags

    def run(
        self,
        project: str,
        files: Sequence[Path],
        args: Sequence[str],
        *,
        cwd: Path,
        project_dir: Path | None = None,
        timeout: float = RUN_TIMEOUT,
        stdout_only: bool = False,
    ) -> ComposeResult:
        """Run ``compose <args>`` in ``cwd``; ``GatewayTimeout`` if it takes too long.

        The output is stdout and stderr together, or with ``stdout_only`` stdout
        alone when Compose succeeds (its warnings go to stderr).
        """
        argv = [*self.command(project, files, project_dir), *args]
        try:
            done = subprocess.run(
                argv,
                cwd=cwd,
                env=_environment(self.engine.config),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if stdout_only else subprocess.STDOUT,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise BackendUnavailable("docker compose", f"cannot run {argv[0]}: {exc}") from None
        except subprocess.TimeoutExpired:
            raise GatewayTimeout(
                f"compose {' '.join(args[:1])} for {project!r} did not finish within {timeout:g} s"
            ) from None
        if stdout_only and done.returncode != 0:
            return ComposeResult(done.returncode, (done.stdout or "") + (done.stderr or ""))
        return ComposeResult(done.returncode, done.stdout or "")

    def resolved(
        self, project: str, files: Sequence[Path], *, cwd: Path, project_dir: Path | None = None
    ) -> dict[str, Any]:
        """Compose's own resolved config (``config``: interpolated, ``extends`` applied)."""
        output = self.check(
            project, files, ["config"], cwd=cwd, project_dir=project_dir, stdout_only=True
        )
        document = yaml.safe_load(output)
        if not isinstance(document, dict):
            raise ComposeFailed("config", "Compose printed no configuration")
        return document

    def check(self, project: str, files: Sequence[Path], args: Sequence[str], **kwargs: Any) -> str:
        """Like :meth:`run`, raising :class:`ComposeFailed` when Compose fails."""
        result = self.run(project, files, args, **kwargs)
        if not result.ok:
            if any(sign in result.output for sign in _UNREACHABLE):
                engine = f"Docker engine {self.engine.name!r} ({self.engine.url})"
                raise BackendUnavailable(engine, self.unreachable_reason(result.output))
            raise ComposeFailed(args[0], result.output)
        return result.output

    def probe(self) -> str:
        """Whether Compose reaches the engine: ``""`` if it does, else why not.

        Lists the containers of a project that does not exist (``ps``), which
        makes Compose connect the way a deploy would, and changes nothing.
        """
        with tempfile.TemporaryDirectory(prefix="skyport-compose-probe-") as folder:
            # (a version key: Compose 1.x reads a file without one as its old format)
            (Path(folder) / "compose.yaml").write_text("version: '3.8'\nservices: {}\n")
            try:
                result = self.run(
                    "skyport-probe",
                    [Path(folder) / "compose.yaml"],
                    ["ps"],
                    cwd=Path(folder),
                    timeout=60,
                )
            except (BackendUnavailable, GatewayTimeout) as exc:
                return exc.detail
        return "" if result.ok else self.unreachable_reason(result.output)

    def unreachable_reason(self, output: str) -> str:
        """Compose's failure to reach the engine, said so that a person can act on it."""
        if "Install paramiko package" in output:
            return "compose: " + _NO_PARAMIKO.format(tool=" ".join(self.argv))
        return f"compose: {summary(output, 500)}"


def _environment(engine: EngineConfig) -> dict[str, str]:
    """What Compose needs of the server's environment, and nothing else.

    Compose fills ``${VAR}`` in a compose file from its environment: given the
    server's, a stack's author could read any of its variables back from a
    container. So it gets only what running it takes (:data:`_KEPT_ENV`);
    a stack's own values come from its ``.env``. For ``ssh://`` engines,
    Compose runs ``ssh`` from ``PATH``: it finds :func:`ssh_shim` first, so it
    trusts the same keys as SkyPort's own engine client and never stops to ask.
    For TLS engines, a system-wide CA bundle variable would replace the
    engine's CA in Compose v1 (``requests``), so those are dropped.
    """
    dropped = _CA_BUNDLE_ENV if engine.tls_ca else ()
    env = {
        key: value
        for key, value in os.environ.items()
        if (key in _KEPT_ENV or key.startswith("LC_")) and key not in dropped
    }
    if engine.url.startswith("ssh://"):
        env["PATH"] = os.pathsep.join((str(ssh_shim().parent), env.get("PATH", os.defpath)))
    return env


_SSH_SHIM = """#!/bin/sh
# SkyPort's ssh for Compose: the OpenSSH client with the trust of SkyPort's own
# engine client ($HOME/.ssh, where OpenSSH would use the passwd entry's home),
# strict host key checking, and no prompt ever (Compose runs unattended).
ssh_dir="$HOME/.ssh"
config=/dev/null
[ -f "$ssh_dir/config" ] && config="$ssh_dir/config"
for key in id_ed25519 id_ecdsa id_rsa; do
    [ -f "$ssh_dir/$key" ] && set -- -i "$ssh_dir/$key" "$@"
done
exec {ssh} -F "$config" -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$ssh_dir/known_hosts" "$@"
"""


@functools.cache
def ssh_shim() -> Path:
    """An ``ssh`` wrapper in a private directory (made once per process).

    Compose v1 over paramiko opens one SSH session per connection and runs
    out of sshd's ``MaxSessions``; the OpenSSH client uses one process per
    connection, as ``docker compose`` v2 and the docker CLI do.
    """
    real = shutil.which("ssh")
    if real is None:
        raise BackendUnavailable("ssh", "the OpenSSH client is not installed (openssh-client)")
    folder = Path(tempfile.mkdtemp(prefix="skyport-ssh-"))
    atexit.register(shutil.rmtree, folder, True)
    shim = folder / "ssh"
    shim.write_text(_SSH_SHIM.replace("{ssh}", shlex.quote(real)))
    shim.chmod(0o700)
    return shim
