"""Parsing docker-CLI-style specs (ports, volumes, env, restart, memory, times).

Each parser raises a 400 naming the request field, so a bad ``-p`` or ``-v``
is reported before anything reaches the engine.
"""

from __future__ import annotations

import ipaddress
import math
import re
import shlex
import time
from dataclasses import dataclass
from datetime import datetime

from litestar.exceptions import ClientException

NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
ENV_KEY_RE = re.compile(r"^[^=\s]+$")
VOLUME_OPTIONS = frozenset(
    [
        "ro",
        "rw",
        "z",
        "Z",
        "nocopy",
        "shared",
        "slave",
        "private",
        "rshared",
        "rslave",
        "rprivate",
        "consistent",
        "cached",
        "delegated",
    ]
)
PROTOCOLS = ("tcp", "udp", "sctp")
MEMORY_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*$", re.IGNORECASE)
MEMORY_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
DURATION_RE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|ms|s|m|h|d))+$")
DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d)")
DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_BYTES = (1 << 63) - 1
"""The engine keeps sizes in a signed 64-bit integer."""
MAX_RETRIES = (1 << 31) - 1
MAX_CPUS = 65536
"""More CPUs than a machine has: the engine then says how many it has."""


def invalid(field: str, message: str) -> ClientException:
    """A 400 that names the request field at fault (``extra.field``)."""
    return ClientException(f"{field}: {message}", extra={"field": field})


@dataclass(frozen=True)
class PortSpec:
    container: str
    """``80`` or a range ``8000-8002``."""
    protocol: str
    host: str
    """Host port, range, or empty for one the engine picks."""
    ip: str


@dataclass(frozen=True)
class Publishing:
    exposed: list[tuple[int, str]]
    bindings: dict[str, list[tuple[str, str]]]


def check_name(name: str, field: str = "name") -> str:
    if not NAME_RE.match(name):
        raise invalid(field, f"{name!r} is not a valid name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)")
    return name.lstrip("/")


def parse_command(value: str | list[str] | None, field: str) -> list[str] | None:
    """A string is split like a shell would; a list is taken as is."""
    if value is None:
        return None
    if isinstance(value, list):
        return value or None
    try:
        parts = shlex.split(value)
    except ValueError as exc:
        raise invalid(field, f"cannot split {value!r}: {exc}") from None
    return parts or None


def parse_env(env: list[str] | dict[str, str] | None) -> list[str]:
    """``["K=V", …]`` or ``{"K": "V"}`` → ``["K=V", …]``."""
    if not env:
        return []
    pairs = list(env.items()) if isinstance(env, dict) else [_split_env(item) for item in env]
    for key, _ in pairs:
        if not ENV_KEY_RE.match(key):
            raise invalid("env", f"{key!r} is not a variable name")
    return [f"{key}={value}" for key, value in pairs]


def _split_env(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise invalid("env", f"{item!r} is not KEY=VALUE")
    return key, value


def _port_range(text: str, allow_empty: bool) -> tuple[int, int] | None:
    if not text:
        if allow_empty:
            return None
        raise ValueError("missing port")
    low, sep, high = text.partition("-")
    if not (low.isdigit() and (high.isdigit() or not sep)):
        raise ValueError(f"{text!r} is not a port number or range (1-65535)")
    start, end = int(low), int(high) if sep else int(low)
    if not (1 <= start <= end <= 65535):
        raise ValueError("ports are 1-65535")
    return start, end


def parse_port(spec: str) -> PortSpec:
    """``[ip:][host_port:]container_port[/protocol]``, ranges allowed (``8000-8001:80-81``)."""
    text, _, protocol = spec.strip().partition("/")
    protocol = (protocol or "tcp").lower()
    ip = host = ""
    try:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}")
        if text.startswith("["):
            ip, sep, rest = text[1:].partition("]:")
            if not sep:
                raise ValueError("IPv6 address without ]:")
            host, sep, container = rest.partition(":")
            if not sep:
                raise ValueError("expected [ip]:host_port:container_port")
        else:
            parts = text.split(":")
            if len(parts) > 3:
                raise ValueError("too many ':'")
            container = parts[-1]
            host = parts[-2] if len(parts) >= 2 else ""
            ip = parts[0] if len(parts) == 3 else ""
        if ip:
            ipaddress.ip_address(ip)
        inner = _port_range(container, allow_empty=False)
        outer = _port_range(host, allow_empty=True)
        assert inner is not None
        if outer and inner[1] > inner[0] and outer[1] - outer[0] != inner[1] - inner[0]:
            raise ValueError("host and container port ranges differ in size")
    except ValueError as exc:
        raise invalid(
            "ports", f"{spec!r} is not [ip:][host_port:]container_port[/protocol] ({exc})"
        ) from None
    return PortSpec(container, protocol, host, ip)


def publishing(specs: list[str] | None) -> Publishing:
    """Exposed ports and host bindings for ``create_container``/``create_host_config``."""
    exposed: list[tuple[int, str]] = []
    bindings: dict[str, list[tuple[str, str]]] = {}
    for spec in specs or []:
        port = parse_port(spec)
        low, _, high = port.container.partition("-")
        inner = range(int(low), int(high or low) + 1)
        outer: list[str]
        if port.host and "-" in port.host and len(inner) > 1:
            h_low, _, _ = port.host.partition("-")
            outer = [str(int(h_low) + i) for i in range(len(inner))]
        else:
            outer = [port.host] * len(inner)
        for number, host in zip(inner, outer, strict=True):
            if (number, port.protocol) not in exposed:
                exposed.append((number, port.protocol))
            bindings.setdefault(f"{number}/{port.protocol}", []).append((port.ip, host))
    return Publishing(exposed, bindings)


def parse_volumes(specs: list[str] | None) -> tuple[list[str], list[str]]:
    """``-v`` specs → (container paths, binds). ``/path`` alone is an anonymous volume;
    ``name:/path`` a named volume; ``/host:/path[:ro]`` a bind mount."""
    paths: list[str] = []
    binds: list[str] = []
    for spec in specs or []:
        parts = spec.split(":")
        if len(parts) == 1:
            source, target, mode = "", parts[0], ""
        elif len(parts) in (2, 3):
            source, target = parts[0], parts[1]
            mode = parts[2] if len(parts) == 3 else ""
            if not source:
                raise invalid("volumes", f"{spec!r}: empty source")
        else:
            raise invalid("volumes", f"{spec!r} is not [source:]/container/path[:options]")
        if not target.startswith("/"):
            raise invalid("volumes", f"{spec!r}: the container path must be absolute")
        if source and not source.startswith("/") and not NAME_RE.match(source):
            raise invalid(
                "volumes",
                f"{spec!r}: {source!r} is neither an absolute host path nor a volume name",
            )
        bad = [o for o in mode.split(",") if o and o not in VOLUME_OPTIONS]
        if bad:
            raise invalid("volumes", f"{spec!r}: unknown option {bad[0]!r}")
        paths.append(target)
        if source:
            binds.append(f"{source}:{target}:{mode or 'rw'}")
    return paths, binds


def parse_restart(value: str | None) -> dict[str, object] | None:
    """``no``, ``always``, ``unless-stopped``, ``on-failure[:max_retries]``."""
    if value is None or value in ("", "no"):
        return None
    name, _, retries = value.partition(":")
    if name not in ("always", "unless-stopped", "on-failure") or (
        retries and (name != "on-failure" or not retries.isdigit())
    ):
        raise invalid(
            "restart", f"{value!r}: expected no, always, unless-stopped or on-failure[:N]"
        )
    if int(retries or 0) > MAX_RETRIES:
        raise invalid("restart", f"{value!r}: at most {MAX_RETRIES} retries")
    return {"Name": name, "MaximumRetryCount": int(retries or 0)}


def parse_cpus(value: float | None) -> int | None:
    """CPUs (``1.5``) → the engine's nano-CPUs; a 400 naming ``cpus`` unless 0 < value ≤ 65536."""
    if value is None:
        return None
    if not (math.isfinite(value) and 0 < value <= MAX_CPUS):
        raise invalid("cpus", f"{value!r}: expected a number of CPUs above 0, at most {MAX_CPUS}")
    return round(value * 1e9)


def parse_memory(value: int | str | None, field: str = "memory") -> int | None:
    """Bytes, or a size like ``64m``, ``1.5g``, ``512k``."""
    if value is None:
        return None
    if isinstance(value, int):
        size = value
    else:
        match = MEMORY_RE.match(value)
        if not match:
            raise invalid(field, f"{value!r} is not a size (e.g. 512m, 1g, 1048576)")
        number = float(match.group(1)) * MEMORY_UNITS[match.group(2).lower()]
        size = int(number) if math.isfinite(number) else MAX_BYTES + 1
    if size <= 0:
        raise invalid(field, "must be positive")
    if size > MAX_BYTES:
        raise invalid(field, f"{value!r} is more than the engine can hold ({MAX_BYTES} bytes)")
    return size


def parse_time(value: str | None, field: str) -> float | None:
    """Unix seconds, an RFC 3339 time, or a duration ago like ``10m`` or ``1h30m``."""
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if DURATION_RE.match(text):
        seconds = sum(float(n) * DURATION_UNITS[unit] for n, unit in DURATION_PART_RE.findall(text))
        return time.time() - seconds
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise invalid(
            field, f"{value!r} is not a time (unix seconds, RFC 3339, or a duration like 10m)"
        ) from None
