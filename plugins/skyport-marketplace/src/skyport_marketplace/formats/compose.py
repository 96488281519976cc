"""Reading Compose files the way app stores ship them: services, ports, volumes, variables."""

from __future__ import annotations

import re
from typing import Any

import yaml

from skyport.api import TemplateEnv, TemplatePort, TemplateVolume
from skyport_marketplace.formats.common import Skip, is_secret, load_yaml, port, text

VARIABLE = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
"""``$NAME``, ``${NAME}``, ``${NAME:-default}``; ``$$`` is an escaped dollar."""


def load(body: bytes, what: str = "compose file") -> dict[str, Any]:
    """The Compose document; :class:`Skip` unless it is a mapping with ``services``."""
    try:
        document = load_yaml(body)
    except yaml.YAMLError as exc:
        raise Skip(f"{what} is not valid YAML: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(document, dict):
        raise Skip(f"{what} is not a mapping")
    services = document.get("services")
    if not isinstance(services, dict) or not services:
        raise Skip(f"{what} has no services")
    return document


def variables(compose: str) -> dict[str, str]:
    """Every variable the file interpolates, with its ``:-``/``-`` default (or ``""``)."""
    found: dict[str, str] = {}
    for match in VARIABLE.finditer(compose):
        name = match["braced"] or match["bare"]
        if not name:
            continue
        rest = match["rest"] or ""
        default = rest.split("-", 1)[1] if rest.startswith((":-", "-")) else ""
        if not found.get(name):
            found[name] = default
    return found


def env_fields(
    compose: str, fixed: dict[str, str], defaults: dict[str, str] | None = None
) -> tuple[TemplateEnv, ...]:
    """A setting per interpolated variable: ``fixed`` ones hidden, ``defaults`` suggested."""
    fields = []
    for name, default in variables(compose).items():
        if name in fixed:
            fields.append(TemplateEnv(name=name, label=name, default=fixed[name], hidden=True))
            continue
        suggested = default or (defaults or {}).get(name, "")
        fields.append(
            TemplateEnv(
                name=name,
                label=name,
                default=suggested,
                secret=is_secret(name),
                required=is_secret(name) and not suggested,
            )
        )
    return tuple(fields)


def service_ports(service: Any, labels: dict[int, str] | None = None) -> tuple[TemplatePort, ...]:
    """The ports a service publishes (short ``"8080:80/tcp"`` or long syntax)."""
    if not isinstance(service, dict):
        return ()
    found = []
    for item in service.get("ports") or ():
        if isinstance(item, dict):
            target = text(item.get("target"))
            published = text(item.get("published"))
            protocol = text(item.get("protocol")) or "tcp"
            spec = f"{published}:{target}/{protocol}" if published else f"{target}/{protocol}"
        else:
            spec = text(item)
        try:
            parsed = port(spec)
        except Skip:
            continue  # a range or a variable: shown in the compose file, not as a port
        label = (labels or {}).get(parsed.container, "")
        found.append(parsed if not label else _labelled(parsed, label))
    return tuple(found)


def _labelled(found: TemplatePort, label: str) -> TemplatePort:
    return TemplatePort(found.container, found.host, found.protocol, label)


def service_volumes(service: Any) -> tuple[TemplateVolume, ...]:
    """Where a service keeps data: host binds and named volumes, short or long syntax."""
    if not isinstance(service, dict):
        return ()
    found = []
    for item in service.get("volumes") or ():
        if isinstance(item, dict):
            source, target = text(item.get("source")), text(item.get("target"))
            read_only = bool(item.get("read_only"))
        else:
            parts = text(item).split(":")
            if len(parts) == 1:
                source, target, read_only = "", parts[0], False
            else:
                source, target = parts[0], parts[1]
                read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        if not target:
            continue
        host = source if source.startswith(("/", ".", "~", "$")) else ""
        found.append(TemplateVolume(container=target, host=host, read_only=read_only))
    return tuple(found)


def main_service(document: dict[str, Any], named: str = "") -> str:
    """The service named ``named`` if it exists, else the first that has an image."""
    services: dict[str, Any] = document["services"]
    if named in services:
        return named
    return next(
        (n for n, s in services.items() if isinstance(s, dict) and s.get("image")),
        next(iter(services)),
    )


def dump(document: dict[str, Any]) -> str:
    """The document as Compose YAML again (after a format removed what only it understands)."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)
