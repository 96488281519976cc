"""Portainer App Templates: v1 (a bare list), v2 and v3 (``{"version", "templates"}``).

Types: 1 (or ``"container"``) a container; 2 and 3 (or ``"stack"``) a stack
whose Compose file is ``stackfile`` in the git ``repository``; 4 an edge
stack whose ``stackfile`` is the Compose file's URL. Yacht's lists (ports
as ``{"label": "80/tcp"}``, volumes as bare paths) are read too.

Real files are dirty, and all of it is accepted: ids missing or repeated,
``set``/``preset`` (a fixed value) and ``select`` (a list) in ``env``,
``readonly`` and ``read_only``, ``category`` and ``categories``, ``null``
anywhere, HTML in ``note`` and ``description`` (sanitized here).
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from skyport.api import (
    AppTemplate,
    CatalogFiles,
    CatalogParse,
    ContainerSpec,
    EnvChoice,
    StackSpec,
    TemplateEnv,
    TemplatePort,
    TemplateVolume,
)
from skyport_marketplace.formats.common import (
    Collector,
    Skip,
    flag,
    is_secret,
    port,
    safe_html,
    slug,
    strings,
    text,
    unique_ids,
)

CONTAINER_TYPES = (1, "1", "container")
STACK_TYPES = (2, 3, "2", "3", "stack", "compose", "swarm")
EDGE_TYPES = (4, "4", "edge")
YACHT_VALUES = {"!PUID": "1000", "!PGID": "1000"}
"""Yacht fills ``!NAME`` placeholders from its own settings; these are its defaults."""


class PortainerFormat:
    """``type: portainer``: a Portainer App Templates JSON file (v1, v2 or v3)."""

    type = "portainer"
    description = "Portainer App Templates (v1 list, v2, v3), also Yacht's"

    def parse(self, catalog: CatalogFiles) -> CatalogParse:
        entries = templates_of(catalog)
        found = Collector()
        found.run(
            ((_item(i, entry), entry) for i, entry in enumerate(entries)),
            template,
        )
        return CatalogParse(unique_ids(found.templates), found.skipped)


def templates_of(catalog: CatalogFiles) -> list[Any]:
    """The entries of the catalog's one JSON document; ``ValueError`` if it is not one."""
    if len(catalog.files) != 1:
        raise ValueError(
            f"a Portainer catalog is one JSON file; {catalog.location} holds {len(catalog.files)}"
        )
    ((name, body),) = catalog.files.items()
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"{name} is not JSON: {exc}") from None
    if isinstance(document, list):
        if document and not any(
            isinstance(e, dict) and ("title" in e or "type" in e) for e in document
        ):
            raise ValueError(f"{name} is a list, but of no templates (none has a title or type)")
        return document
    if isinstance(document, dict) and isinstance(document.get("templates"), list):
        return list(document["templates"])
    raise ValueError(f"{name} is not Portainer templates: expected a list or a 'templates' list")


def _item(index: int, entry: Any) -> str:
    title = text(entry.get("title") or entry.get("name")) if isinstance(entry, dict) else ""
    return f"templates[{index}]" + (f" {title!r}" if title else "")


def template(entry: Any) -> AppTemplate:
    """One catalog entry as an app template (:class:`Skip` with the reason if it cannot be)."""
    if not isinstance(entry, dict):
        raise Skip(f"not an object but {type(entry).__name__}")
    title = text(entry.get("title")) or text(entry.get("name"))
    if not title:
        raise Skip("no title")
    platform = text(entry.get("platform")).lower()
    if platform and platform != "linux":
        raise Skip(f"made for {platform}, not Linux")
    kind_of = entry.get("type", 1)
    common = {
        "title": title,
        "description": safe_html(entry.get("description")),
        "note": safe_html(entry.get("note")),
        "categories": strings(entry.get("categories")) or strings(entry.get("category")),
        "logo": text(entry.get("logo")),
        "env": tuple(
            _env(e) for e in entry.get("env") or () if isinstance(e, dict) and text(e.get("name"))
        ),
        "website": "",
    }
    if kind_of in CONTAINER_TYPES:
        return _container(entry, common)
    if kind_of in STACK_TYPES or kind_of in EDGE_TYPES:
        return _stack(entry, common, edge=kind_of in EDGE_TYPES)
    raise Skip(f"unknown template type {kind_of!r}")


def _container(entry: dict[str, Any], common: dict[str, Any]) -> AppTemplate:
    image = text(entry.get("image"))
    if not image:
        raise Skip("a container template without an image")
    spec = ContainerSpec(
        image=image,
        command=text(entry.get("command")),
        restart=text(entry.get("restart_policy")),
        network_mode=text(entry.get("network")),
        privileged=flag(entry.get("privileged")),
        cap_add=strings(entry.get("cap_add")),
        devices=_devices(entry.get("devices")),
        sysctls=_pairs(entry.get("sysctls")),
        labels=_labels(entry.get("labels")),
        hostname=text(entry.get("hostname")),
        interactive=flag(entry.get("interactive")),
    )
    return AppTemplate(
        id=slug(common["title"]) or slug(image),
        kind="container",
        ports=_ports(entry.get("ports")),
        volumes=tuple(_volume(v) for v in entry.get("volumes") or ()),
        container=spec,
        **common,
    )


def _stack(entry: dict[str, Any], common: dict[str, Any], *, edge: bool) -> AppTemplate:
    if edge:
        url = text(entry.get("stackfile"))
        if not url:
            raise Skip("an edge template without a stackfile URL")
        spec = StackSpec(compose_url=url)
    else:
        repository = entry.get("repository")
        if not isinstance(repository, dict):
            raise Skip("a stack template without a repository for its compose file")
        url, stackfile = text(repository.get("url")), text(repository.get("stackfile"))
        if not url or not stackfile:
            raise Skip("a stack template whose repository lacks url or stackfile")
        spec = StackSpec(
            compose_url=raw_file_url(url, stackfile), repository=url, stackfile=stackfile
        )
    return AppTemplate(
        id=f"{slug(common['title'])}-stack",
        kind="stack",
        ports=_ports(entry.get("ports")),
        stack=spec,
        **common,
    )


def raw_file_url(repository: str, path: str) -> str:
    """The URL of ``path`` in a GitHub repository's default branch; empty for other hosts.

    Others are fetched with git at install time (``repository`` + ``stackfile``).
    """
    parts = urlsplit(repository)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != "github.com":
        return ""
    owner_repo = parts.path.strip("/").removesuffix(".git").split("/")
    if len(owner_repo) != 2 or not all(owner_repo):
        return ""
    clean = str(PurePosixPath("/", path)).lstrip("/")
    return f"https://raw.githubusercontent.com/{owner_repo[0]}/{owner_repo[1]}/HEAD/{clean}"


def _env(entry: dict[str, Any]) -> TemplateEnv:
    name = text(entry.get("name"))
    choices = tuple(
        EnvChoice(text(c.get("value")), text(c.get("text")))
        for c in entry.get("select") or ()
        if isinstance(c, dict)
    )
    default = _yacht_value(text(entry.get("default")))
    if choices and not default:
        default = next(
            (
                text(c.get("value"))
                for c in entry["select"]
                if isinstance(c, dict) and flag(c.get("default"))
            ),
            "",
        )
    fixed = "set" in entry or flag(entry.get("preset"))
    if "set" in entry:
        default = text(entry.get("set"))
    return TemplateEnv(
        name=name,
        label=text(entry.get("label")) or name,
        description=text(entry.get("description")),
        default=default,
        choices=choices,
        hidden=fixed,
        secret=is_secret(name),
    )


def _yacht_value(value: str) -> str:
    if not value.startswith("!"):
        return value
    return YACHT_VALUES.get(value, "")


def _ports(value: Any) -> tuple[TemplatePort, ...]:
    ports: list[TemplatePort] = []
    for item in value or ():
        if isinstance(item, dict):  # Yacht: {"WebUI": "8080:80/tcp", …}
            ports += [port(spec, text(label)) for label, spec in item.items()]
        else:
            ports.append(port(item))
    return tuple(ports)


def _volume(value: Any) -> TemplateVolume:
    if isinstance(value, str):
        if not value.strip().startswith("/"):
            raise Skip(f"volume {value!r} is not an absolute container path")
        return TemplateVolume(container=value.strip())
    if not isinstance(value, dict) or not text(value.get("container")):
        raise Skip(f"volume {value!r} names no container path")
    bind = text(value.get("bind"))
    return TemplateVolume(
        container=text(value["container"]),
        host="" if bind.startswith("!") else bind,  # Yacht's own folders: a volume here
        read_only=flag(value.get("readonly")) or flag(value.get("read_only")),
    )


def _devices(value: Any) -> tuple[str, ...]:
    """Device paths; Portainer-style ``[{"path to device": ""}]`` placeholders give nothing."""
    found: list[str] = []
    for item in value or ():
        candidates = item.values() if isinstance(item, dict) else [item]
        found += [d for d in (text(c) for c in candidates) if d.startswith("/")]
    return tuple(found)


def _pairs(value: Any) -> dict[str, str]:
    """``[{"k": "v"}, …]`` or ``{"k": "v"}`` → one mapping."""
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    return {text(k): text(v) for item in items if isinstance(item, dict) for k, v in item.items()}


def _labels(value: Any) -> dict[str, str]:
    """``[{"name": "k", "value": "v"}, …]`` → ``{"k": "v"}``."""
    return {
        text(item.get("name")): text(item.get("value"))
        for item in value or ()
        if isinstance(item, dict) and text(item.get("name"))
    }
