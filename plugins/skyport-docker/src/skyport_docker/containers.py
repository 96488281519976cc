"""Containers on one engine: listing, running, logs (read and followed), exec.

Everything here takes the SDK's low-level client and is called through
:meth:`Engine.call`, which turns engine errors into HTTP answers.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any

import docker
import msgspec
from docker import errors as docker_errors

from skyport_docker import fastget, images
from skyport_docker.engines import Engine
from skyport_docker.policy import ContainerAsk, HostPolicy

STDOUT, STDERR = 1, 2
STREAMS = {0: "stdout", STDOUT: "stdout", STDERR: "stderr"}


class PortMapping(msgspec.Struct, frozen=True, omit_defaults=True):
    private: int
    type: str
    public: int | None = None
    ip: str | None = None


class ContainerSummary(msgspec.Struct, frozen=True):
    """One row of ``GET /api/docker/ps``."""

    id: str
    name: str
    image: str
    image_id: str
    command: str
    created: int
    state: str
    status: str
    ports: list[PortMapping]
    labels: dict[str, str]
    networks: list[str]
    engine: str


class _RawPort(msgspec.Struct, rename="pascal"):
    private_port: int = 0
    type: str = "tcp"
    public_port: int | None = None
    ip: str | None = msgspec.field(default=None, name="IP")


class _Skipped(msgspec.Struct):
    """Decodes any object without keeping it (cheaper than ``Any``)."""


class _RawNetworks(msgspec.Struct, rename="pascal"):
    networks: dict[str, _Skipped] | None = None


class _RawContainer(msgspec.Struct, rename="pascal"):
    """The engine's ``GET /containers/json`` item (only what the summary needs)."""

    id: str
    names: list[str] | None = None
    image: str = ""
    image_i_d: str = msgspec.field(default="", name="ImageID")
    command: str = ""
    created: int = 0
    state: str = ""
    status: str = ""
    ports: list[_RawPort] | None = None
    labels: dict[str, str] | None = None
    network_settings: _RawNetworks | None = None


_containers_decoder = msgspec.json.Decoder(list[_RawContainer])


def list_containers(
    client: docker.APIClient,
    engine: str,
    all: bool = False,
    filters: dict[str, list[str]] | None = None,
) -> list[ContainerSummary]:
    """One ``GET /containers/json`` (no per-container inspect), decoded straight to rows."""
    params: dict[str, Any] = {"all": 1 if all else 0}
    if filters:
        params["filters"] = docker.utils.convert_filters(filters)
    body = fastget.get_bytes(client, "/containers/json", params)
    return [_summary(raw, engine) for raw in _containers_decoder.decode(body)]


def _summary(raw: _RawContainer, engine: str) -> ContainerSummary:
    names = raw.names or []
    name = next((n for n in names if n.count("/") == 1), names[0] if names else "")
    networks = raw.network_settings.networks if raw.network_settings else None
    return ContainerSummary(
        raw.id,
        name.lstrip("/"),
        raw.image,
        raw.image_i_d,
        raw.command,
        raw.created,
        raw.state,
        raw.status,
        [PortMapping(p.private_port, p.type, p.public_port, p.ip or None) for p in raw.ports or []],
        raw.labels or {},
        sorted(networks or {}),
        engine,
    )


def ensure_image(client: docker.APIClient, image: str, pull: str, engine: str) -> None:
    """Pull ``image`` when ``pull`` is ``always``, or ``missing`` and it is not here."""
    if pull == "never":
        return
    if pull == "missing":
        try:
            client.inspect_image(image)
            return
        except docker_errors.NotFound:
            pass
    images.pull(client, image, engine)


def create_and_start(
    client: docker.APIClient,
    policy: HostPolicy,
    create: dict[str, Any],
    host: dict[str, Any],
    start: bool,
) -> tuple[str, str, list[str]]:
    """Create the container (and start it): (id, name, warnings).

    ``create`` and ``host`` are ``create_container`` and ``create_host_config``
    arguments. Every container SkyPort creates goes through here, so ``policy``
    (:meth:`HostPolicy.for_caller`) sees the finished ``HostConfig`` first.
    A container that cannot start is removed.
    """
    host_config = client.create_host_config(**host)
    who = f"container {create['name']!r}" if create.get("name") else "the container"
    policy.check_container(client, ContainerAsk.from_host_config(who, host_config))
    created = client.create_container(host_config=host_config, **create)
    container_id = str(created["Id"])
    if start:
        try:
            client.start(container_id)
        except Exception:
            with contextlib.suppress(Exception):
                client.remove_container(container_id, force=True, v=True)
            raise
    name = create.get("name") or client.inspect_container(container_id)["Name"]
    return container_id, str(name).lstrip("/"), list(created.get("Warnings") or [])


def state_of(client: docker.APIClient, ref: str) -> dict[str, Any]:
    """The container's id, name and state after an action (``removed`` if it is gone)."""
    try:
        info = client.inspect_container(ref)
    except docker_errors.NotFound:
        return {"id": ref, "name": ref, "state": "removed", "running": False}
    state = info.get("State") or {}
    return {
        "id": info["Id"],
        "name": str(info.get("Name", "")).lstrip("/"),
        "state": state.get("Status", ""),
        "running": bool(state.get("Running")),
    }


# -- logs ---------------------------------------------------------------------------------


class LogLine(msgspec.Struct, frozen=True, omit_defaults=True):
    stream: str
    line: str
    time: str | None = None


def open_logs(
    client: docker.APIClient,
    container_id: str,
    *,
    follow: bool,
    tail: int | None = None,
    since: float | None = None,
    until: float | None = None,
    timestamps: bool = False,
    stdout: bool = True,
    stderr: bool = True,
) -> Any:
    """The engine's log stream for one container (a streaming ``requests`` response)."""
    params: dict[str, Any] = {
        "stdout": int(stdout),
        "stderr": int(stderr),
        "timestamps": int(timestamps),
        "follow": int(follow),
        "tail": "all" if tail is None else str(tail),
    }
    if since is not None:
        params["since"] = f"{since:.6f}"
    if until is not None:
        params["until"] = f"{until:.6f}"
    url = client._url("/containers/{0}/logs", container_id)
    extra: dict[str, Any] = {"timeout": None} if follow else {}
    response = client._get(url, params=params, stream=True, **extra)
    client._raise_for_status(response)
    if follow:
        client._disable_socket_timeout(client._get_raw_response_socket(response))
    return response


def iter_frames(response: Any, tty: bool) -> Iterator[tuple[int, bytes]]:
    """(stream, bytes) frames of a log stream; a TTY container has one plain stream."""
    chunks = response.raw.stream(None, decode_content=False)
    if tty:
        for chunk in chunks:
            if chunk:
                yield STDOUT, chunk
        return
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= 8:
            kind, length = struct.unpack(">BxxxL", buffer[:8])
            if len(buffer) < 8 + length:
                break
            yield kind, bytes(buffer[8 : 8 + length])
            del buffer[: 8 + length]


class LineSplitter:
    """Turns frames into whole lines, per stream; split off timestamps when present."""

    def __init__(self, timestamps: bool) -> None:
        self.timestamps = timestamps
        self._partial: dict[int, bytes] = {}

    def feed(self, kind: int, data: bytes) -> list[LogLine]:
        text = self._partial.pop(kind, b"") + data
        *whole, rest = text.split(b"\n")
        if rest:
            self._partial[kind] = rest
        return [self._line(kind, raw) for raw in whole]

    def flush(self) -> list[LogLine]:
        lines = [self._line(kind, raw) for kind, raw in self._partial.items() if raw]
        self._partial.clear()
        return lines

    def _line(self, kind: int, raw: bytes) -> LogLine:
        text = raw.decode("utf-8", "replace").removesuffix("\r")
        stream = STREAMS.get(kind, "stdout")
        if self.timestamps:
            stamp, sep, rest = text.partition(" ")
            if sep:
                return LogLine(stream, rest, stamp)
        return LogLine(stream, text)


def read_logs(client: docker.APIClient, ref: str, **options: Any) -> tuple[str, list[LogLine]]:
    """The container's id and past log lines (``tail``, ``since``, ``until``, ``timestamps``)."""
    info = client.inspect_container(ref)
    tty = bool((info.get("Config") or {}).get("Tty"))
    response = open_logs(client, info["Id"], follow=False, **options)
    splitter = LineSplitter(bool(options.get("timestamps")))
    lines: list[LogLine] = []
    try:
        for kind, data in iter_frames(response, tty):
            lines.extend(splitter.feed(kind, data))
    finally:
        response.close()
    return str(info["Id"]), lines + splitter.flush()


class LogFollower:
    """Follows one container's log in a thread and hands batches of lines to ``publish``.

    Each message is ``{"lines": [{"stream", "line", "time"}, …]}``; when the
    stream ends (the container stopped, or the engine went away) a last
    ``{"end": true, "reason": …}`` follows.
    """

    def __init__(self, engine: Engine, ref: str, publish: Callable[[dict[str, Any]], None]) -> None:
        self.engine, self.ref, self.publish = engine, ref, publish
        self._stopping = threading.Event()
        self._response: Any = None
        self._thread: threading.Thread | None = None
        self.container_id = ""

    def open(self) -> None:
        """Check the container and open the stream (raises 404/503 … on failure)."""
        info = self.engine.call(lambda c: c.inspect_container(self.ref))
        self.container_id = info["Id"]
        self._tty = bool((info.get("Config") or {}).get("Tty"))
        self._response = self.engine.call(
            lambda c: open_logs(c, self.container_id, follow=True, tail=0, timestamps=True)
        )
        self._thread = threading.Thread(
            target=self._run, name=f"docker-logs-{self.container_id[:12]}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        splitter = LineSplitter(timestamps=True)
        reason = "the log stream ended"
        try:
            for kind, data in iter_frames(self._response, self._tty):
                lines = splitter.feed(kind, data)
                if lines:
                    self.publish({"lines": [msgspec.to_builtins(x) for x in lines]})
        except Exception as exc:
            if not self._stopping.is_set():
                reason = f"the log stream broke: {exc}"
        if self._stopping.is_set():
            return
        rest = splitter.flush()
        if rest:
            self.publish({"lines": [msgspec.to_builtins(x) for x in rest]})
        self.publish({"end": True, "reason": reason})

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):
                _shutdown(self.engine.client(), response)
            with contextlib.suppress(Exception):
                response.close()
        if self._thread is not None:
            self._thread.join(timeout)


def _shutdown(client: docker.APIClient, response: Any) -> None:
    """Unblock a thread reading ``response`` by shutting its socket down."""
    sock = client._get_raw_response_socket(response)
    target = getattr(sock, "_sock", sock)
    if hasattr(target, "shutdown"):
        try:
            target.shutdown(socket.SHUT_RDWR)
            return
        except (OSError, TypeError):
            pass
    target.close()


# -- exec ---------------------------------------------------------------------------------


class ExecResult(msgspec.Struct, frozen=True):
    exit_code: int
    stdout: str
    stderr: str
    output: str
    """stdout and stderr interleaved as they came."""


def exec_once(
    client: docker.APIClient,
    ref: str,
    command: list[str],
    *,
    env: list[str] | None = None,
    user: str = "",
    workdir: str | None = None,
) -> ExecResult:
    """Run ``command`` in the container, wait for it, return its exit code and output."""
    created = client.exec_create(
        ref,
        command,
        stdout=True,
        stderr=True,
        environment=env or None,
        user=user,
        workdir=workdir,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    both: list[bytes] = []
    for stdout, stderr in client.exec_start(created["Id"], stream=True, demux=True):
        if stdout:
            out.append(stdout)
            both.append(stdout)
        if stderr:
            err.append(stderr)
            both.append(stderr)
    code = client.exec_inspect(created["Id"]).get("ExitCode")
    return ExecResult(
        -1 if code is None else int(code),
        *(b"".join(x).decode("utf-8", "replace") for x in (out, err, both)),
    )
