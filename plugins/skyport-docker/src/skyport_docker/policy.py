"""The host-access policy: what a container may reach of the host it runs on.

The Docker socket is root on the host, so every container SkyPort creates
passes through here first — ``POST /run`` (:func:`containers.create_and_start`),
Compose stacks (:class:`stacks.StackService`, on Compose's own resolved
config) and whatever deploys through those two. A caller without the scope
``docker:host`` (admin only by default) may not ask for:

- bind mounts (and build contexts, secret files, volumes whose driver options
  name a host path) outside the admin's ``docker.allowed_bind_paths``, nor any
  that hold the Docker or containerd socket or SkyPort's data dir; on engines
  other than a local ``unix://`` socket, none at all (their file systems
  cannot be checked from here);
- ``privileged``, the host's pid/ipc/uts/user namespaces, ``cap_add``,
  ``devices`` (and device rules, GPUs), ``sysctls``, ``security_opt`` other
  than ``no-new-privileges``;
- ``network_mode``/``pid``/``ipc: container:X`` or ``volumes_from`` of a
  container that is not on the engine, or that itself breaks these rules.

The host's *network* stays allowed unless ``docker.allow_host_network`` is
false: it shares the host's network stack, not its files, processes or devices.
A refusal is a 403 naming the service (or container) and the key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from docker import errors as docker_errors
from litestar.exceptions import PermissionDeniedException

from skyport.api import PluginContext, Principal
from skyport_docker.engines import Engine

HOST_SCOPE = "docker:host"
ENGINE_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock")
SAFE_SECURITY_OPT = re.compile(r"^no-new-privileges([:=](true|false))?$")
HOST_NAMESPACES = ("pid", "ipc", "uts", "userns_mode")
JOINING = ("network_mode", "pid", "ipc")
MAX_JOIN_DEPTH = 4
FORBIDDEN = {
    "privileged": "gives the container every device and capability of the host",
    "cap_add": "adds kernel capabilities",
    "devices": "maps host devices into the container",
    "device_cgroup_rules": "opens host devices to the container",
    "gpus": "maps host devices into the container",
    "deploy.resources.reservations.devices": "maps host devices into the container",
    "sysctls": "changes kernel settings",
}
"""Keys a restricted caller may not set at all, and why."""
HOST_CONFIG_KEYS = {
    "Privileged": "privileged",
    "PidMode": "pid",
    "IpcMode": "ipc",
    "UTSMode": "uts",
    "UsernsMode": "userns_mode",
    "NetworkMode": "network_mode",
    "CapAdd": "cap_add",
    "Devices": "devices",
    "DeviceRequests": "gpus",
    "DeviceCgroupRules": "device_cgroup_rules",
    "SecurityOpt": "security_opt",
    "Sysctls": "sysctls",
    "VolumesFrom": "volumes_from",
}
"""The Engine API's ``HostConfig`` keys the policy reads, by their Compose names."""
COMPOSE_OPTIONS = (*HOST_CONFIG_KEYS.values(),)
URL_CONTEXT = re.compile(r"^([a-z][a-z0-9+.-]*://|git@|github\.com/)", re.IGNORECASE)
"""A build context that is fetched, not read from this host."""


class HostAccessRefused(PermissionDeniedException):
    """403: the container would reach the host and the caller lacks ``docker:host``."""

    def __init__(self, service: str, key: str, why: str) -> None:
        super().__init__(
            f"{service}: {key}: {why}; that needs the {HOST_SCOPE} scope",
            extra={"service": service, "key": key, "missing_scope": HOST_SCOPE},
        )


@dataclass(frozen=True)
class MountAsk:
    """A mount a container asks for: a host path (``bind``) or a named volume."""

    key: str
    """Where it was asked: ``volumes``, ``secrets``, ``build.context`` …"""
    kind: str
    """``bind`` or ``volume``."""
    source: str
    driver: str | None = None
    driver_opts: Mapping[str, str] | None = None
    """Options of a volume created with the container (the Engine API's ``Mounts``)."""


@dataclass
class ContainerAsk:
    """What one container asks of its host, under Compose's key names."""

    service: str
    """How refusals name it: ``service 'web'``, ``container 'sp-x'``."""
    options: dict[str, Any] = field(default_factory=dict)
    mounts: list[MountAsk] = field(default_factory=list)

    @classmethod
    def from_host_config(cls, service: str, host_config: Mapping[str, Any]) -> ContainerAsk:
        """From the Engine API's ``HostConfig`` (what ``create_container`` sends)."""
        options = {name: host_config.get(key) for key, name in HOST_CONFIG_KEYS.items()}
        mounts = [_mount_from_spec("volumes", spec) for spec in host_config.get("Binds") or []]
        for mount in host_config.get("Mounts") or []:
            driver = ((mount.get("VolumeOptions") or {}).get("DriverConfig")) or {}
            mounts.append(
                MountAsk(
                    "mounts",
                    str(mount.get("Type") or "volume").lower(),
                    str(mount.get("Source") or ""),
                    driver.get("Name"),
                    driver.get("Options"),
                )
            )
        return cls(service, options, [m for m in mounts if m.source])

    @classmethod
    def from_compose(cls, name: str, service: Mapping[str, Any]) -> ContainerAsk:
        """From one service of Compose's resolved config (v1 or v2 output)."""
        options = {key: service.get(key) for key in COMPOSE_OPTIONS}
        reservations = ((service.get("deploy") or {}).get("resources") or {}).get("reservations")
        options["deploy.resources.reservations.devices"] = (reservations or {}).get("devices")
        mounts: list[MountAsk] = []
        for spec in service.get("volumes") or []:
            if isinstance(spec, str):
                mounts.append(_mount_from_spec("volumes", spec))
            elif isinstance(spec, Mapping) and spec.get("type", "volume") in ("bind", "volume"):
                mounts.append(
                    MountAsk("volumes", spec.get("type", "volume"), spec.get("source", ""))
                )
        mounts += _build_mounts(service.get("build"))
        ask = cls(f"service {name!r}", options, [m for m in mounts if m.source])
        if isinstance(service.get("build"), Mapping):
            build = service["build"]
            for key in ("ssh", "privileged", "entitlements"):
                if build.get(key):
                    ask.options[f"build.{key}"] = build[key]
        return ask


def _mount_from_spec(key: str, spec: str) -> MountAsk:
    """``/host:/path[:mode]`` (bind), ``name:/path`` (volume) or ``/path`` (anonymous)."""
    source, sep, _ = spec.partition(":")
    if not sep:
        return MountAsk(key, "volume", "")
    return MountAsk(key, "bind" if source.startswith(("/", ".", "~")) else "volume", source)


def _build_mounts(build: Any) -> list[MountAsk]:
    """A build's context (and extra contexts) are host files sent to the engine."""
    if build is None:
        return []
    if isinstance(build, str):
        build = {"context": build}
    found = [("build.context", build.get("context") or ".")]
    dockerfile = build.get("dockerfile")
    if isinstance(dockerfile, str) and dockerfile.startswith("/"):
        found.append(("build.dockerfile", dockerfile))
    extra = build.get("additional_contexts") or {}
    if isinstance(extra, Mapping):
        found += [(f"build.additional_contexts.{k}", str(v)) for k, v in extra.items()]
    return [
        MountAsk(key, "bind", path)
        for key, path in found
        if not URL_CONTEXT.match(path) and not path.startswith(("docker-image://", "service:"))
    ]


def volume_host_path(driver: str | None, options: Mapping[str, str] | None) -> str | None:
    """The host path a ``local`` volume's options mount (``device=/x``), if any."""
    if driver not in (None, "", "local") or not options:
        return None
    device = str(options.get("device") or "")
    return device if device.startswith("/") else None


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _both(path: str) -> set[str]:
    """The path as written (normalised) and with symlinks followed."""
    return {os.path.normpath(path), os.path.realpath(path)}


class HostPolicy:
    """The policy for one caller on one engine; :meth:`for_caller` builds it."""

    def __init__(
        self,
        *,
        unrestricted: bool,
        local: bool,
        engine: str = "local",
        allowed_paths: Iterable[str] = (),
        protected_paths: Mapping[str, str] | None = None,
        allow_host_network: bool = True,
    ) -> None:
        self.unrestricted = unrestricted
        self.local = local
        self.engine = engine
        self.allowed = sorted({p for path in allowed_paths for p in _both(path)})
        self.protected = {
            p: why for path, why in (protected_paths or {}).items() for p in _both(path)
        }
        self.allow_host_network = allow_host_network

    @classmethod
    def for_caller(
        cls, skyport: PluginContext, caller: Principal | None, engine: Engine
    ) -> HostPolicy:
        """The policy for ``caller`` (None: no user behind it, so restricted) on ``engine``."""
        settings = skyport.settings
        sockets = [*ENGINE_SOCKETS]
        if engine.url.startswith("unix://"):
            sockets.append(engine.url.removeprefix("unix://"))
        protected = dict.fromkeys(sockets, "exposes the container engine's socket (root)")
        protected[str(skyport.config.data_path)] = "holds SkyPort's data (keys, database)"
        return cls(
            unrestricted=caller is not None and caller.has_scope(HOST_SCOPE),
            local=engine.is_local,
            engine=engine.name,
            allowed_paths=settings.allowed_bind_paths,
            protected_paths=protected,
            allow_host_network=settings.allow_host_network,
        )

    # -- checks ----------------------------------------------------------------

    def check_container(self, client: Any, ask: ContainerAsk) -> None:
        """403 on the first thing ``ask`` may not have (``client`` looks up what it joins)."""
        if self.unrestricted:
            return
        for key, why in self._problems(client, ask, depth=0):
            raise HostAccessRefused(ask.service, key, why)

    def check_stack(self, client: Any, project: str, resolved: Mapping[str, Any]) -> None:
        """Every service, volume, secret and config of Compose's resolved config."""
        if self.unrestricted:
            return
        volumes = resolved.get("volumes") or {}
        for name, spec in volumes.items():
            spec = spec or {}
            self.check_volume(f"volume {name!r}", spec.get("driver"), spec.get("driver_opts"))
        for section in ("secrets", "configs"):
            for name, spec in (resolved.get(section) or {}).items():
                path = (spec or {}).get("file")
                if path:
                    why = self._path_problem(str(path))
                    if why:
                        raise HostAccessRefused(f"{section[:-1]} {name!r}", "file", why)
        real_names = {
            key: (spec or {}).get("name")
            or (key if (spec or {}).get("external") else f"{project}_{key}")
            for key, spec in volumes.items()
        }
        for name, service in (resolved.get("services") or {}).items():
            ask = ContainerAsk.from_compose(name, service or {})
            ask.mounts = [
                MountAsk(m.key, m.kind, real_names.get(m.source, m.source))
                if m.kind == "volume"
                else m
                for m in ask.mounts
            ]
            self.check_container(client, ask)

    def check_volume(
        self, where: str, driver: str | None, options: Mapping[str, str] | None
    ) -> None:
        """A volume whose driver options mount a host path counts as that bind mount."""
        if self.unrestricted:
            return
        path = volume_host_path(driver, options)
        why = self._path_problem(path) if path else None
        if why:
            raise HostAccessRefused(where, "driver_opts", f"device {why}")

    def check_stack_files(self, document: Mapping[str, Any], folder: str) -> None:
        """Files Compose itself reads (``env_file``, ``extends.file``, ``include``) must be
        the stack's own: their contents reach the containers, and the resolved config
        no longer names them."""
        if self.unrestricted:
            return
        for where, key, path in _referenced_files(document):
            inside = os.path.realpath(os.path.join(folder, path))
            if "$" in path or not _within(inside, os.path.realpath(folder)):
                raise HostAccessRefused(
                    where, key, f"{path} is not in the stack's own folder (Compose reads it here)"
                )

    # -- rules -----------------------------------------------------------------

    def _problems(self, client: Any, ask: ContainerAsk, depth: int) -> Iterator[tuple[str, str]]:
        options = ask.options
        for key, why in FORBIDDEN.items():
            if options.get(key):
                yield key, why
        for key in ("build.ssh", "build.privileged", "build.entitlements"):
            if options.get(key):
                yield key, "gives the build this host's keys or privileges"
        for key in HOST_NAMESPACES:
            if options.get(key) == "host":
                yield key, "shares the host's namespace"
        if options.get("network_mode") == "host" and not self.allow_host_network:
            yield "network_mode", "shares the host's network (docker.allow_host_network is off)"
        for opt in options.get("security_opt") or []:
            if not SAFE_SECURITY_OPT.match(str(opt)):
                yield "security_opt", f"{opt} loosens the container's confinement"
        for mount in ask.mounts:
            problem = self._mount_problem(client, mount)
            if problem:
                yield mount.key, problem
        for key in JOINING:
            value = str(options.get(key) or "")
            if value.startswith("container:"):
                yield from self._joined(client, key, value.split(":")[1], depth, mounts_only=False)
        for spec in options.get("volumes_from") or []:
            kind, _, rest = str(spec).partition(":")
            if kind == "service":
                continue  # a service of the same stack: checked on its own
            ref = rest.partition(":")[0] if kind == "container" else kind
            yield from self._joined(client, "volumes_from", ref, depth, mounts_only=True)

    def _joined(
        self, client: Any, key: str, ref: str, depth: int, *, mounts_only: bool
    ) -> Iterator[tuple[str, str]]:
        """Sharing another container's namespaces or volumes gives what it has."""
        try:
            found = client.inspect_container(ref)
        except docker_errors.NotFound:
            yield key, f"container {ref!r} is not on Docker engine {self.engine!r}"
            return
        if depth >= MAX_JOIN_DEPTH:
            yield key, f"container {ref!r} joins too many other containers to check"
            return
        joined = ContainerAsk.from_host_config(ref, found.get("HostConfig") or {})
        if mounts_only:
            joined.options = {}
        for inner_key, why in self._problems(client, joined, depth + 1):
            yield key, f"container {ref!r}, which it joins, has {inner_key} that {why}"

    def _mount_problem(self, client: Any, mount: MountAsk) -> str | None:
        if mount.kind == "bind":
            return self._path_problem(mount.source)
        path = volume_host_path(mount.driver, mount.driver_opts)
        if path is None and mount.driver_opts is None:
            path = _existing_volume_path(client, mount.source)
        why = self._path_problem(path) if path else None
        return f"volume {mount.source!r} mounts a host path: {why}" if why else None

    def _path_problem(self, path: str) -> str | None:
        """Why a restricted caller may not mount host ``path`` (None: they may)."""
        if not self.local:
            return (
                f"{path} is a path on the host of Docker engine {self.engine!r}, "
                "which cannot be checked from here"
            )
        if not path.startswith("/"):
            return f"{path} is not an absolute host path"
        allowed = ", ".join(self.allowed) or "none"
        for candidate in _both(path):
            if not any(_within(candidate, root) for root in self.allowed):
                return f"{path} is outside the host paths an admin allowed ({allowed})"
            for protected, why in self.protected.items():
                if _within(candidate, protected) or _within(protected, candidate):
                    return f"{path} {why}"
        return None


def _existing_volume_path(client: Any, name: str) -> str | None:
    """The host path an existing named volume's options mount (None: none, or no volume)."""
    try:
        found = client.inspect_volume(name)
    except docker_errors.NotFound:
        return None
    return volume_host_path(found.get("Driver"), found.get("Options"))


def _referenced_files(document: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(where, key, path) of every file a raw compose document has Compose read."""
    for entry in _as_list(document.get("include")):
        if isinstance(entry, Mapping):
            for key in ("path", "env_file", "project_directory"):
                for path in _as_list(entry.get(key)):
                    yield "include", f"include.{key}", str(path)
        else:
            yield "include", "include", str(entry)
    services = document.get("services") or {}
    for name, service in services.items() if isinstance(services, Mapping) else ():
        if not isinstance(service, Mapping):
            continue
        for key in ("env_file", "label_file"):
            for entry in _as_list(service.get(key)):
                path = entry.get("path") if isinstance(entry, Mapping) else entry
                yield f"service {name!r}", key, str(path)
        extends = service.get("extends")
        if isinstance(extends, Mapping) and extends.get("file"):
            yield f"service {name!r}", "extends.file", str(extends["file"])


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
