"""Ecosystem files: the apps they declare, for ``POST /api/pm2/ecosystem``.

``.json`` files are read here; ``.js``, ``.cjs`` and ``.mjs`` files are
programs, so Node.js imports them in a child process (bounded in time) and
prints what they export. Reading one runs it: only files in the
``pm2.ecosystem_dirs`` an admin set are read for other users. Starting one is left to the pm2 CLI
(``pm2 start FILE``), which applies ``env_<name>`` sections and defaults
exactly as pm2 users expect.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
from litestar.exceptions import PermissionDeniedException

from skyport.api import BackendUnavailable
from skyport_pm2.apps import invalid
from skyport_pm2.processes import REDACTED

EXTENSIONS = (".json", ".js", ".cjs", ".mjs")
LOAD_LIMIT = 5.0
"""Seconds a ``.js`` file may take to load (a config loads in milliseconds): far less than
the 30 s a client waits for the answer, so a file that never ends is a 400, not a time-out."""
PRINT_EXPORTS = (
    "import(require('url').pathToFileURL(process.argv[1]))"
    ".then(m => process.stdout.write(JSON.stringify(m.default ?? m)))"
    ".then(() => process.exit(0), e => { console.error(String(e && e.message || e)); "
    "process.exit(1) })"
)


class EcosystemApp(msgspec.Struct, frozen=True):
    name: str
    script: str
    cwd: str | None
    instances: int | str | None
    exec_mode: str | None
    env: dict[str, str]
    """Keys only: values are :data:`REDACTED`."""
    running: int
    """How many processes of this name the daemon runs now."""


class Ecosystem(msgspec.Struct, frozen=True):
    file: str
    apps: list[EcosystemApp]


def check_file(path: str, allowed_dirs: Sequence[str] | None) -> Path:
    """The ecosystem file at ``path``: absolute, readable, in ``allowed_dirs`` (None: anywhere).

    Symlinks are followed before the directories are compared; a file elsewhere is a 403.
    """
    file = Path(path).expanduser()
    if not file.is_absolute():
        raise invalid("ecosystem", f"{path!r} must be an absolute path")
    if allowed_dirs is not None:
        real = os.path.realpath(file)
        roots = [os.path.realpath(d) for d in allowed_dirs]
        if not any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots):
            raise PermissionDeniedException(
                f"ecosystem: {file} is not in the directories an admin allowed for ecosystem "
                f"files (pm2.ecosystem_dirs: {', '.join(allowed_dirs) or 'none'})",
                extra={"field": "ecosystem"},
            )
    if not file.is_file():
        raise invalid("ecosystem", f"{file} does not exist")
    if not os.access(file, os.R_OK):
        raise invalid("ecosystem", f"{file} is not readable")
    if file.suffix not in EXTENSIONS:
        raise invalid("ecosystem", f"{file.name}: expected one of {', '.join(EXTENSIONS)}")
    return file


async def read_apps(file: Path, node: str, limit: float) -> list[dict[str, Any]]:
    """The ``apps`` the file declares (a 400 naming the file when it cannot be read)."""
    if file.suffix == ".json":
        try:
            config: Any = json.loads(await asyncio.to_thread(file.read_text))
        except (OSError, ValueError) as exc:
            raise invalid("ecosystem", f"{file}: {exc}") from None
    else:
        config = await _node_exports(file, node, min(limit, LOAD_LIMIT))
    apps = config.get("apps") if isinstance(config, dict) else config
    if isinstance(apps, dict):
        apps = [apps]
    if not isinstance(apps, list) or not all(isinstance(a, dict) for a in apps):
        raise invalid("ecosystem", f"{file}: no 'apps' list")
    return apps


def describe_apps(file: Path, apps: list[dict[str, Any]], running: dict[str, int]) -> Ecosystem:
    described = []
    for app in apps:
        script = str(app.get("script") or app.get("cmd") or app.get("command") or "")
        name = str(app.get("name") or Path(script).stem)
        env = app.get("env") if isinstance(app.get("env"), dict) else {}
        described.append(
            EcosystemApp(
                name=name,
                script=script,
                cwd=app.get("cwd"),
                instances=app.get("instances"),
                exec_mode=app.get("exec_mode"),
                env=dict.fromkeys(sorted(env or {}), REDACTED),
                running=running.get(name, 0),
            )
        )
    return Ecosystem(str(file), described)


async def _node_exports(file: Path, node: str, limit: float) -> Any:
    binary = shutil.which(node or "node")
    if binary is None:
        raise BackendUnavailable("pm2", "Node.js is not installed: it is needed to read .js files")
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [binary, "-e", PRINT_EXPORTS, str(file)],
            cwd=file.parent,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            start_new_session=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise invalid("ecosystem", f"{file}: still running after {limit:g} s") from None
    out = done.stdout
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise invalid("ecosystem", f"{file}: {reason[0] if reason else 'node failed'}")
    try:
        return json.loads(out)
    except ValueError:
        raise invalid("ecosystem", f"{file}: does not export JSON-like data") from None
