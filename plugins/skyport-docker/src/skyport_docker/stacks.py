"""Compose stacks on one engine: deployed with the real Compose tool, found by labels.

A stack deployed through SkyPort keeps its compose file and ``.env`` in its
own directory under the data dir (``docker/stacks/<name>`` for the engine
``local``, ``docker/engines/<engine>/stacks/<name>`` for the others). Every
stack, SkyPort's or not, is found by grouping the engine's containers on
their ``com.docker.compose.project`` label (one engine call). A stack made
outside SkyPort is controlled with Compose too, from the working directory
and files its labels name, when they are on this machine; otherwise
(another host's files) its containers are driven directly by label.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import yaml
from litestar.exceptions import ClientException, NotFoundException

from skyport.api import PluginContext, Principal
from skyport_docker.compose import ComposeFailed, ComposeTool, summary
from skyport_docker.engines import LOCAL, Engine
from skyport_docker.policy import HostPolicy

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
WORKING_DIR = "com.docker.compose.project.working_dir"
CONFIG_FILES = "com.docker.compose.project.config_files"
ENVIRONMENT_FILE = "com.docker.compose.project.environment_file"
NUMBER = "com.docker.compose.container-number"
ONEOFF = "com.docker.compose.oneoff"

COMPOSE_FILE = "docker-compose.yml"
"""The file SkyPort writes for a stack deployed through it."""
COMPOSE_FILENAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
"""The files Compose looks for in a directory, in its order of preference."""
ENV_FILE = ".env"
MAX_COMPOSE_BYTES = 1 << 20
NAME_RULE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
ENV_KEY_RULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SAFE_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_./:@,+=%-]*$")


class StackContainer(msgspec.Struct, frozen=True):
    id: str
    name: str
    service: str
    state: str
    status: str
    image: str
    number: int | None = None


class StackSummary(msgspec.Struct, kw_only=True):
    name: str
    engine: str
    status: str
    """``running`` (all), ``partial`` (some), ``stopped`` (none) or ``down`` (no containers)."""
    services: list[str]
    containers: int
    running: int
    managed: bool
    """Deployed through SkyPort (its compose file is kept here)."""
    working_dir: str | None = None
    config_files: list[str] = msgspec.field(default_factory=list)


class StackDetail(StackSummary, kw_only=True):
    members: list[StackContainer] = msgspec.field(default_factory=list)
    compose: str | None = None
    """The compose file (stacks deployed through SkyPort)."""
    env: dict[str, str] = msgspec.field(default_factory=dict)
    warnings: list[str] = msgspec.field(default_factory=list)


_locks: defaultdict[tuple[str, str], threading.Lock] = defaultdict(threading.Lock)
_locks_guard = threading.Lock()


def check_name(name: str) -> str:
    """A Compose project name: lower-case letters, digits, ``-`` and ``_`` → else 400."""
    if not NAME_RULE.match(name):
        raise ClientException(
            f"name: {name!r} is not a valid stack name (lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit, at most 63 characters)",
            extra={"field": "name"},
        )
    return name


def check_compose(text: str) -> None:
    """The compose text must be a YAML mapping with ``services`` → else 400 naming ``compose``."""
    if len(text.encode()) > MAX_COMPOSE_BYTES:
        raise ClientException("compose: the file is larger than 1 MiB", extra={"field": "compose"})
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ClientException(
            f"compose: not valid YAML: {' '.join(str(exc).split())}", extra={"field": "compose"}
        ) from None
    services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(services, dict) or not services:
        raise ClientException(
            "compose: expected a mapping with a non-empty 'services' section",
            extra={"field": "compose"},
        )


def env_text(env: Mapping[str, str]) -> str:
    """``.env`` lines Compose v1 and v2 read back as exactly ``env`` → 400 naming ``env``."""
    lines = []
    for key, value in env.items():
        if not ENV_KEY_RULE.match(key):
            raise ClientException(f"env: {key!r} is not a variable name", extra={"field": "env"})
        if "\n" in value or "\r" in value or "\0" in value:
            raise ClientException(f"env: the value of {key} spans lines", extra={"field": "env"})
        lines.append(f"{key}={_quote(value)}")
    return "".join(f"{line}\n" for line in lines)


def _quote(value: str) -> str:
    if PLAIN_VALUE.match(value):
        return value
    if "'" not in value:
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_env(text: str) -> dict[str, str]:
    """Read back a ``.env`` file :func:`env_text` wrote."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or not ENV_KEY_RULE.match(key):
            continue
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        env[key] = value
    return env


@contextmanager
def _locked(engine: str, name: str) -> Iterator[None]:
    """One change at a time per stack (a second deploy waits for the first)."""
    with _locks_guard:
        lock = _locks[(engine, name)]
    with lock:
        yield


class StackService:
    """The stacks of one engine, as one caller may change them.

    Every Compose run that creates containers (deploy, update, a start that
    brings a stack up) first has ``policy`` check Compose's resolved config.
    """

    def __init__(
        self, engine: Engine, data_path: Path, policy: HostPolicy, compose_command: str = ""
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.compose = ComposeTool(engine, compose_command)
        docker_dir = data_path / "docker"
        if engine.name == LOCAL:
            self.root = docker_dir / "stacks"
        else:
            if not SAFE_FOLDER.match(engine.name):
                raise ClientException(f"Docker engine name {engine.name!r} cannot name a folder")
            self.root = docker_dir / "engines" / engine.name / "stacks"

    @classmethod
    def for_caller(
        cls, skyport: PluginContext, engine: Engine, caller: Principal | None
    ) -> StackService:
        """The stacks of ``engine`` as ``caller`` may change them (None: no user, restricted)."""
        policy = HostPolicy.for_caller(skyport, caller, engine)
        return cls(engine, skyport.config.data_path, policy, skyport.settings.compose_command)

    # -- reading -------------------------------------------------------------

    def summaries(self) -> list[StackSummary]:
        """Every stack on the engine, plus deployed stacks that have no container now."""
        rows = self.engine.call(lambda c: c.containers(all=True, filters={"label": PROJECT}))
        by_project: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_project[(row.get("Labels") or {})[PROJECT]].append(row)
        names = set(by_project) | set(self._managed_names())
        return [self._summary(name, by_project.get(name, [])) for name in sorted(names)]

    def get(self, name: str) -> StackDetail:
        """One stack with its containers (and its files, if deployed through SkyPort)."""
        check_name(name)
        rows = self._containers(name)
        if not rows and not self._is_managed(name):
            raise NotFoundException(f"no stack {name!r} on Docker engine {self.engine.name!r}")
        return self._detail(name, rows)

    def _containers(self, name: str) -> list[dict[str, Any]]:
        selector = {"label": f"{PROJECT}={name}"}
        return self.engine.call(lambda c: c.containers(all=True, filters=selector))

    def _managed_names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return [p.name for p in self.root.iterdir() if (p / COMPOSE_FILE).is_file()]

    def _dir(self, name: str) -> Path:
        return self.root / name

    def _is_managed(self, name: str) -> bool:
        return (self._dir(name) / COMPOSE_FILE).is_file()

    def _summary(self, name: str, rows: list[dict[str, Any]]) -> StackSummary:
        return StackSummary(**self._summary_fields(name, rows))

    def _summary_fields(self, name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
        managed = self._is_managed(name)
        running = sum(1 for r in rows if r.get("State") == "running")
        if not rows:
            status = "down"
        elif running == len(rows):
            status = "running"
        else:
            status = "partial" if running else "stopped"
        labels = next((r.get("Labels") or {} for r in rows), {})
        working_dir, files = _label_files(labels, self.engine.is_local)
        if managed:
            working_dir, files = str(self._dir(name)), [str(self._dir(name) / COMPOSE_FILE)]
        services = sorted({(r.get("Labels") or {}).get(SERVICE, "") for r in rows} - {""})
        if managed and not services:
            services = _declared_services(self._dir(name) / COMPOSE_FILE)
        return {
            "name": name,
            "engine": self.engine.name,
            "status": status,
            "services": services,
            "containers": len(rows),
            "running": running,
            "managed": managed,
            "working_dir": working_dir,
            "config_files": files,
        }

    def _detail(
        self, name: str, rows: list[dict[str, Any]], warnings: list[str] | None = None
    ) -> StackDetail:
        members = sorted(
            (_member(r) for r in rows), key=lambda m: (m.service, m.number or 0, m.name)
        )
        compose = env = None
        if self._is_managed(name):
            folder = self._dir(name)
            compose = (folder / COMPOSE_FILE).read_text()
            env_path = folder / ENV_FILE
            env = parse_env(env_path.read_text()) if env_path.is_file() else {}
        return StackDetail(
            **self._summary_fields(name, rows),
            members=members,
            compose=compose,
            env=env or {},
            warnings=warnings or [],
        )

    # -- changing ------------------------------------------------------------

    def deploy(
        self, name: str, compose: str, env: Mapping[str, str], *, pull: bool = False
    ) -> StackDetail:
        """Write the files and ``up -d``; 409 if a stack of that name exists."""
        check_name(name)
        check_compose(compose)
        dotenv = env_text(env)
        with _locked(self.engine.name, name):
            if self._is_managed(name) or self._containers(name):
                raise ClientException(
                    f"stack {name!r} already exists on Docker engine {self.engine.name!r}; "
                    "update it or remove it first",
                    status_code=409,
                )
            self.engine.call(lambda c: c.ping())
            folder = self._dir(name)
            folder.mkdir(parents=True, exist_ok=True)
            try:
                _write(folder, compose, dotenv)
                self._check_policy(name, [folder / COMPOSE_FILE], folder, None, managed=True)
                if pull:
                    self._compose(name, ["pull"])
                self._compose(name, ["up", "-d", "--remove-orphans"])
            except BaseException:
                with contextlib.suppress(Exception):
                    self._compose(name, ["down", "--remove-orphans"])
                shutil.rmtree(folder, ignore_errors=True)
                raise
            return self._detail(name, self._containers(name))

    def update(
        self,
        name: str,
        compose: str | None = None,
        env: Mapping[str, str] | None = None,
        *,
        env_replace: bool = False,
        pull: bool = True,
        ignore_pull_failures: bool = False,
    ) -> StackDetail:
        """Optionally new files, then pull and recreate every service.

        ``env`` values are merged over the ``.env`` kept so far; with
        ``env_replace`` they replace it (``env_replace`` alone empties it).
        """
        check_name(name)
        if compose is not None:
            check_compose(compose)
        if env_replace and env is None:
            env = {}
        env_text(env or {})  # 400 naming env before anything changes
        with _locked(self.engine.name, name):
            rows = self._containers(name)
            managed = self._is_managed(name)
            if not managed and (compose is not None or env is not None):
                raise ClientException(
                    f"stack {name!r} was not deployed through SkyPort: edit its own files "
                    "(or remove it and deploy it here) to change it",
                    status_code=409,
                )
            target = self._target(name, rows, managed)
            if target is None:
                self._require(name, rows, managed)
                raise ClientException(
                    f"stack {name!r} has no compose file on this host to recreate it from",
                    status_code=409,
                )
            files, cwd, project_dir = target
            self.engine.call(lambda c: c.ping())
            backup = _read_files(cwd) if managed else None
            if backup is not None:
                if env is not None and not env_replace:
                    env = {**parse_env(backup[1]), **env}
                _write(
                    cwd,
                    backup[0] if compose is None else compose,
                    backup[1] if env is None else env_text(env),
                )
            try:
                self._check_policy(name, files, cwd, project_dir, managed)
            except ClientException:
                if backup is not None:
                    _write(cwd, *backup)
                raise
            warnings = []
            if pull:
                args = ["pull", "--ignore-pull-failures"] if ignore_pull_failures else ["pull"]
                result = self.compose.run(name, files, args, cwd=cwd, project_dir=project_dir)
                if not result.ok:
                    if not ignore_pull_failures:
                        raise ComposeFailed("pull", result.output)
                    warnings.append(f"pull: {summary(result.output)}")
            up = ["up", "-d", "--force-recreate", "--remove-orphans"]
            self.compose.check(name, files, up, cwd=cwd, project_dir=project_dir)
            return self._detail(name, self._containers(name), warnings)

    def start(self, name: str) -> StackDetail:
        return self._lifecycle(name, "start")

    def stop(self, name: str) -> StackDetail:
        return self._lifecycle(name, "stop")

    def restart(self, name: str) -> StackDetail:
        return self._lifecycle(name, "restart")

    def _lifecycle(self, name: str, action: str) -> StackDetail:
        check_name(name)
        with _locked(self.engine.name, name):
            rows = self._containers(name)
            managed = self._is_managed(name)
            self._require(name, rows, managed)
            target = self._target(name, rows, managed)
            if target is not None:
                files, cwd, project_dir = target
                args = [action] if rows or action == "stop" else ["up", "-d"]
                if args[0] == "up":
                    self._check_policy(name, files, cwd, project_dir, managed)
                self.compose.check(name, files, args, cwd=cwd, project_dir=project_dir)
            else:
                self._direct(rows, action)
            return self._detail(name, self._containers(name))

    def remove(self, name: str, *, volumes: bool = False) -> None:
        """``down`` (with ``-v`` if ``volumes``), and forget SkyPort's files of it."""
        check_name(name)
        with _locked(self.engine.name, name):
            rows = self._containers(name)
            managed = self._is_managed(name)
            self._require(name, rows, managed)
            target = self._target(name, rows, managed)
            if target is not None:
                files, cwd, project_dir = target
                args = ["down", "--remove-orphans", *(["-v"] if volumes else [])]
                self.compose.check(name, files, args, cwd=cwd, project_dir=project_dir)
            else:
                self._direct_remove(name, rows, volumes)
            if managed:
                shutil.rmtree(self._dir(name), ignore_errors=True)

    # -- helpers -------------------------------------------------------------

    def _check_policy(
        self, name: str, files: list[Path], cwd: Path, project_dir: Path | None, managed: bool
    ) -> None:
        """Compose's resolved config (which also validates it) must pass the policy; so must
        the files a SkyPort stack's compose file has Compose read (env_file, extends …)."""
        if managed:
            document = yaml.safe_load((cwd / COMPOSE_FILE).read_text())
            self.policy.check_stack_files(document, str(cwd))
        resolved = self.compose.resolved(name, files, cwd=cwd, project_dir=project_dir)
        self.engine.call(lambda c: self.policy.check_stack(c, name, resolved))

    def _compose(self, name: str, args: list[str]) -> str:
        folder = self._dir(name)
        return self.compose.check(name, [folder / COMPOSE_FILE], args, cwd=folder)

    def _require(self, name: str, rows: list[dict[str, Any]], managed: bool) -> None:
        if not rows and not managed:
            raise NotFoundException(f"no stack {name!r} on Docker engine {self.engine.name!r}")

    def _target(
        self, name: str, rows: list[dict[str, Any]], managed: bool
    ) -> tuple[list[Path], Path, Path | None] | None:
        """The files to run Compose with: SkyPort's, else the labels' if on this host."""
        if managed:
            folder = self._dir(name)
            return [folder / COMPOSE_FILE], folder, None
        if not self.engine.is_local or not rows:
            return None
        working_dir, files = _label_files(rows[0].get("Labels") or {}, local=True)
        if not working_dir or not files or not Path(working_dir).is_dir():
            return None
        paths = [Path(f) for f in files]
        if not all(p.is_file() for p in paths):
            return None
        return paths, Path(working_dir), Path(working_dir)

    def _direct(self, rows: list[dict[str, Any]], action: str) -> None:
        """Act on the containers themselves (the stack's files are elsewhere), all at once."""
        wanted = {
            "start": lambda r: r.get("State") != "running",
            "stop": lambda r: r.get("State") in ("running", "paused", "restarting"),
            "restart": lambda r: True,
        }[action]
        ids = [r["Id"] for r in rows if wanted(r)]
        self._each(ids, lambda c, cid: getattr(c, action)(cid))

    def _direct_remove(self, name: str, rows: list[dict[str, Any]], volumes: bool) -> None:
        selector = {"label": f"{PROJECT}={name}"}
        ids = [r["Id"] for r in rows]
        self._each(ids, lambda c, cid: c.remove_container(cid, force=True, v=volumes))
        networks = self.engine.call(lambda c: c.networks(filters=selector))
        self._each([n["Id"] for n in networks], lambda c, nid: c.remove_network(nid))
        if volumes:
            found = self.engine.call(lambda c: c.volumes(filters=selector)) or {}
            names = [v["Name"] for v in found.get("Volumes") or []]
            self._each(names, lambda c, name: c.remove_volume(name))

    def _each(self, ids: list[str], act: Callable[[Any, str], object]) -> None:
        """``act(client, id)`` for every id concurrently; the first error is raised."""
        if not ids:
            return

        def one(item: str) -> object:
            return self.engine.call(lambda c: act(c, item))

        with ThreadPoolExecutor(max_workers=min(len(ids), 8)) as pool:
            list(pool.map(one, ids))


def _member(row: dict[str, Any]) -> StackContainer:
    labels = row.get("Labels") or {}
    number = labels.get(NUMBER, "")
    names = row.get("Names") or [""]
    return StackContainer(
        id=row["Id"],
        name=names[0].lstrip("/"),
        service=labels.get(SERVICE, ""),
        state=row.get("State", ""),
        status=row.get("Status", ""),
        image=row.get("Image", ""),
        number=int(number) if number.isdigit() else None,
    )


def _label_files(labels: Mapping[str, str], local: bool) -> tuple[str | None, list[str]]:
    """The working dir and (absolute) config files a container's compose labels name.

    Without a config-files label, a ``local`` working dir's own compose file counts,
    found as Compose finds it (:data:`COMPOSE_FILENAMES`).
    """
    working_dir = labels.get(WORKING_DIR) or None
    files = [f for f in (labels.get(CONFIG_FILES) or "").split(",") if f]
    if working_dir:
        files = [str(Path(working_dir) / f) for f in files]
        if not files and local:
            found = find_compose_file(Path(working_dir))
            files = [str(found)] if found else []
    return working_dir, files


def find_compose_file(folder: Path) -> Path | None:
    """The compose file Compose would use in ``folder`` (``compose.yaml`` first), if any."""
    return next((folder / n for n in COMPOSE_FILENAMES if (folder / n).is_file()), None)


def _declared_services(path: Path) -> list[str]:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return []
    services = document.get("services") if isinstance(document, dict) else None
    return sorted(services) if isinstance(services, dict) else []


def _write(folder: Path, compose: str, dotenv: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for filename, text in ((COMPOSE_FILE, compose), (ENV_FILE, dotenv)):
        partial = folder / f".{filename}.new"
        partial.write_text(text)
        partial.chmod(0o600)
        partial.replace(folder / filename)


def _read_files(folder: Path) -> tuple[str, str]:
    env_path = folder / ENV_FILE
    return (folder / COMPOSE_FILE).read_text(), env_path.read_text() if env_path.is_file() else ""
