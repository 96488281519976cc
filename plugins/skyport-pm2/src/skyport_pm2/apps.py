"""``POST /api/pm2/start``: the request, checked, and the resolved app config for ``prepare``.

The daemon's ``prepare`` method takes what the pm2 CLI builds in
``Common.resolveAppAttributes``: absolute script and cwd, interpreter,
``exec_mode`` (``fork_mode`` / ``cluster_mode``), the full environment and
the log and pid paths in ``PM2_HOME``. :func:`resolve_app` builds the same
from a :class:`StartRequest`, with pm2's defaults; every problem with the
request is a 400 naming the field (a missing or unreadable script by path).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from litestar.exceptions import ClientException

from skyport_pm2.daemon import Pm2Home

NAME = re.compile(r"[^\s/\\][^/\\]{0,127}")
INTERPRETERS = {
    ".js": "node",
    ".cjs": "node",
    ".mjs": "node",
    ".sh": "bash",
    ".py": "python3",
    ".rb": "ruby",
    ".php": "php",
    ".pl": "perl",
}
MEMORY_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3}
CRON_FIELD = re.compile(r"^[0-9A-Za-z*?/,#LW\-]+$")


class StartRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Start a script (``pm2 start app.js``) or an ecosystem file (``pm2 start eco.config.js``).

    Give ``script`` or ``ecosystem``. Options follow the pm2 CLI and
    ecosystem files: ``instances`` (0 = one per CPU, -1 = all but one)
    with Node.js defaults to cluster mode as ``pm2 start -i N`` does.
    """

    script: str | None = None
    """Path of the script or executable; relative paths are taken from ``cwd``."""
    ecosystem: str | None = None
    """Absolute path of an ecosystem file (``.js``, ``.cjs``, ``.json``); started by the pm2 CLI."""
    only: list[str] | None = None
    """Ecosystem: start only these apps (``--only``)."""
    environment: str | None = None
    """Ecosystem: the ``env_<name>`` section to apply (``--env``)."""
    name: str | None = None
    """1 to 128 characters, no ``/`` or ``\\``; default: the script's name."""
    args: list[str] | str | None = None
    cwd: str | None = None
    interpreter: str | None = None
    """``node``, ``python3``, ``bash``, ``none`` (an executable) …; default from the extension."""
    interpreter_args: list[str] | str | None = None
    env: dict[str, str] | None = None
    instances: Annotated[int, msgspec.Meta(ge=-64, le=256)] | None = None
    exec_mode: Literal["fork", "cluster"] | None = None
    watch: bool | list[str] = False
    max_memory_restart: int | str | None = None
    """Bytes, or ``200M``, ``1G``, ``512K``: restart the app above it."""
    cron_restart: str | None = None
    autorestart: bool = True
    namespace: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")] | None = None


def invalid(field: str, message: str) -> ClientException:
    return ClientException(f"{field}: {message}", extra={"field": field})


def resolve_app(request: StartRequest, home: Pm2Home, base_env: dict[str, str]) -> dict[str, Any]:
    """The resolved app config the daemon's ``prepare`` takes."""
    assert request.script is not None
    cwd = _directory(request.cwd, request.script)
    script = _script_path(request.script, cwd)
    name = _name(request.name, request.script)
    interpreter = request.interpreter or _interpreter_for(script)
    node = Path(interpreter).name in ("node", "nodejs") or interpreter.endswith("/node")
    clustered = request.instances is not None and node  # pm2 start -i N: cluster mode
    exec_mode = request.exec_mode or ("cluster" if clustered else "fork")
    if exec_mode == "cluster" and not node:
        raise invalid("exec_mode", f"cluster mode needs Node.js, not {interpreter!r}")
    instances = 1 if request.instances is None else request.instances
    safe = re.sub(r"[^a-zA-Z0-9.\-]", "-", name)
    app: dict[str, Any] = {
        "name": name,
        "namespace": request.namespace or "default",
        "pm_exec_path": str(script),
        "pm_cwd": str(cwd),
        "exec_interpreter": interpreter,
        "exec_mode": f"{exec_mode}_mode",
        "instances": instances,
        "args": _arguments(request.args, "args"),
        "node_args": _arguments(request.interpreter_args, "interpreter_args"),
        "env": {**base_env, **(request.env or {}), "PM2_HOME": str(home.path)},
        "watch": request.watch,
        "autorestart": request.autorestart,
        "autostart": True,
        "vizion": False,
        "pmx": True,
        "automation": True,
        "treekill": True,
        "instance_var": "NODE_APP_INSTANCE",
        "kill_retry_time": 100,
        "windowsHide": True,
        "filter_env": [],
        "pm_out_log_path": str(home.logs / f"{safe}-out.log"),
        "pm_err_log_path": str(home.logs / f"{safe}-error.log"),
        "pm_pid_path": str(home.pids / f"{safe}.pid"),
    }
    if exec_mode == "fork" and request.instances is None:
        app["merge_logs"] = True  # one fork: pm2 names its logs without the id
    if not node:
        _check_interpreter(interpreter, app["env"].get("PATH"))
    if interpreter.startswith("python"):
        app["env"]["PYTHONUNBUFFERED"] = "1"
    if request.max_memory_restart is not None:
        app["max_memory_restart"] = memory_bytes(request.max_memory_restart)
    if request.cron_restart:
        app["cron_restart"] = check_cron(request.cron_restart)
    try:
        import pwd

        app["username"] = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        pass
    return app


def memory_bytes(value: int | str) -> int:
    """``200M`` → bytes, as pm2 reads ``max_memory_restart`` (K, M, G are powers of 1024)."""
    if isinstance(value, int):
        if value <= 0:
            raise invalid("max_memory_restart", "must be more than 0 bytes")
        return value
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG])?B?\s*", value, re.IGNORECASE)
    if not match:
        raise invalid("max_memory_restart", f"{value!r} is not bytes or a size like 200M, 1G")
    size = float(match.group(1)) * MEMORY_UNITS.get((match.group(2) or "").upper(), 1)
    if size < 1:
        raise invalid("max_memory_restart", "must be more than 0 bytes")
    return int(size)


def check_cron(pattern: str) -> str:
    """A cron pattern of 5 or 6 fields (the daemon would fail on anything else)."""
    fields = pattern.split()
    if len(fields) not in (5, 6) or not all(CRON_FIELD.match(f) for f in fields):
        raise invalid("cron_restart", f"{pattern!r} is not a cron pattern like '0 3 * * *'")
    return " ".join(fields)


def _name(name: str | None, script: str) -> str:
    if name is None:
        name = Path(script).stem or Path(script).name
    elif not NAME.fullmatch(name):
        raise invalid("name", f"{name!r}: 1 to 128 characters, no / or \\, no leading space")
    if name == "all" or name.isdigit():
        raise invalid("name", f"{name!r} would be taken for a process id or 'all': pick a name")
    return name


def _check_interpreter(interpreter: str, path: str | None) -> None:
    """pm2 starts an app whose interpreter is missing all the same (online, without a pid)."""
    if interpreter == "none":
        return
    if "/" in interpreter:
        if not (os.path.isfile(interpreter) and os.access(interpreter, os.X_OK)):
            raise invalid("interpreter", f"{interpreter!r} is not an executable file")
    elif shutil.which(interpreter, path=path) is None:
        raise invalid("interpreter", f"{interpreter!r} is not on the app's PATH: install it")


def _directory(cwd: str | None, script: str) -> Path:
    if cwd is None:
        if not os.path.isabs(script):
            raise invalid("script", f"{script!r} is relative: give an absolute path or a cwd")
        return Path(script).parent
    path = Path(cwd).expanduser()
    if not path.is_absolute():
        raise invalid("cwd", f"{cwd!r} must be an absolute path")
    if not path.is_dir():
        raise invalid("cwd", f"{cwd} is not a directory")
    return path


def _script_path(script: str, cwd: Path) -> Path:
    path = cwd / Path(script).expanduser()
    if not path.exists() and "/" not in script:
        found = shutil.which(script)  # pm2 start npm -- start
        if found:
            return Path(found)
    if not path.exists():
        raise invalid("script", f"{path} does not exist")
    if not path.is_file() or not os.access(path, os.R_OK):
        raise invalid("script", f"{path} is not a readable file")
    return path


def _interpreter_for(script: Path) -> str:
    interpreter = INTERPRETERS.get(script.suffix)
    if interpreter:
        return interpreter
    return "none" if os.access(script, os.X_OK) else "node"


def _arguments(value: list[str] | str | None, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    try:
        return shlex.split(value)
    except ValueError as exc:
        raise invalid(field, f"cannot split {value!r}: {exc}") from None
