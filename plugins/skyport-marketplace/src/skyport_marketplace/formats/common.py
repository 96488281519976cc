"""What every catalog format shares: coercing dirty values, safe HTML, ids, skipping.

Real catalogs hold numbers where strings belong, ``null`` for missing
fields, text per language, and HTML meant for a browser. These helpers turn
each into what :class:`~skyport.api.AppTemplate` expects; a value that cannot
be used raises :class:`Skip` with the reason, and the format records the
entry as skipped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import nh3
import yaml

from skyport.api import AppTemplate, SkippedTemplate, TemplatePort

LANGUAGES = ("en_US", "en_GB", "en")
"""Which text of a per-language mapping is shown (the first present), else the first one."""
SAFE_TAGS = frozenset({"a", "b", "br", "code", "em", "i", "li", "ol", "p", "pre", "strong", "ul"})
SAFE_ATTRIBUTES = {"a": {"href", "title"}}
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
PORT = re.compile(
    r"^\s*(?:(?:(?P<ip>[0-9.]+|\[[0-9a-fA-F:]+\]):)?(?P<host>\d*):)?(?P<container>\d+)"
    r"(?:/(?P<protocol>tcp|udp))?\s*$",
    re.IGNORECASE,
)
"""``80``, ``80/tcp``, ``8080:80/tcp``, ``:80/tcp``, ``127.0.0.1:8080:80``."""
SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|(?:^|_)KEY(?:$|_)|CREDENTIAL", re.IGNORECASE)
MAX_ID = 64


SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when PyYAML has it (several times faster), else the pure-Python one."""


def load_yaml(body: bytes | str) -> Any:
    """``yaml.safe_load``, with libyaml when available."""
    return yaml.load(body, Loader=SafeLoader)  # noqa: S506 - a safe loader


class Skip(Exception):
    """This entry cannot be made a template; the message says why."""


def text(value: Any) -> str:
    """A string from what catalogs put in text fields: None, numbers, per-language maps."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, Mapping):
        for language in LANGUAGES:
            if language in value:
                return text(value[language])
        return next((text(v) for v in value.values() if text(v)), "")
    return ""


def strings(value: Any) -> tuple[str, ...]:
    """A tuple of non-empty strings from a list, a comma-free single value, or None."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(s for s in (text(item) for item in items) if s)


def safe_html(value: Any) -> str:
    """The text with only harmless HTML left (links, emphasis, lists); scripts and
    event handlers removed, links opened without access to the opener."""
    raw = text(value)
    if not raw:
        return ""
    return nh3.clean(
        raw,
        tags=set(SAFE_TAGS),
        attributes={tag: set(names) for tag, names in SAFE_ATTRIBUTES.items()},
        url_schemes=set(SAFE_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    ).strip()


def plain_text(safe: str) -> str:
    """Sanitized HTML as words (for search and terminals)."""
    return " ".join(html.unescape(nh3.clean(safe, tags=set())).split())


def slug(value: str) -> str:
    """``"Home Assistant (beta)"`` → ``home-assistant-beta``: a stable, URL-safe id part."""
    words = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return words[:MAX_ID].rstrip("-")


def flag(value: Any) -> bool:
    """``true``, ``"true"``, ``1``, ``"yes"`` → True."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def is_secret(name: str) -> bool:
    """Whether a variable's name says it holds a password, token or key."""
    return bool(SECRET_NAME.search(name))


def port(spec: Any, label: str = "") -> TemplatePort:
    """One published port from ``[ip:][host:]container[/protocol]`` (or a number)."""
    raw = text(spec)
    match = PORT.match(raw)
    if not match:
        raise Skip(f"port {raw!r} is not [host:]container[/tcp|udp]")
    host = match["host"]
    protocol = (match["protocol"] or "tcp").lower()
    return TemplatePort(
        container=_port_number(match["container"], raw),
        host=_port_number(host, raw) if host else None,
        protocol="udp" if protocol == "udp" else "tcp",
        label=label,
    )


def _port_number(digits: str, raw: str) -> int:
    number = int(digits)
    if not 0 < number < 65536:
        raise Skip(f"port {raw!r} is out of range (1-65535)")
    return number


def unique_ids(templates: list[AppTemplate]) -> list[AppTemplate]:
    """The templates with ids made unique in order: a repeated id gets ``-2``, ``-3`` …"""
    import msgspec

    seen: set[str] = set()
    result = []
    for template in templates:
        base = template.id or "app"
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base[: MAX_ID - len(str(n)) - 1]}-{n}"
        seen.add(candidate)
        result.append(
            template
            if candidate == template.id
            else msgspec.structs.replace(template, id=candidate)
        )
    return result


class Collector:
    """Gathers the templates of a catalog and the entries it had to skip."""

    def __init__(self) -> None:
        self.templates: list[AppTemplate] = []
        self.skipped: list[SkippedTemplate] = []

    def run(self, entries: Iterable[tuple[str, Any]], make: Callable[[Any], AppTemplate]) -> None:
        """``make`` every ``(item name, entry)``; a :class:`Skip` records the entry instead."""
        for item, entry in entries:
            try:
                self.templates.append(make(entry))
            except Skip as exc:
                self.skipped.append(SkippedTemplate(item, str(exc)))

    def skip(self, item: str, reason: str) -> None:
        self.skipped.append(SkippedTemplate(item, reason))
