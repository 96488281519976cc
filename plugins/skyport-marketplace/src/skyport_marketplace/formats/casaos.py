"""CasaOS app stores: ``Apps/<App>/docker-compose.yml`` with ``x-casaos`` metadata.

The store's metadata (title, tagline and description per language, category,
icon, main service, port) is at the top of each compose file under
``x-casaos``; per-service ``x-casaos`` sections describe ports and volumes.
The compose file is installed as it is, less its top-level ``name`` (the
install names the project; Compose v1 refuses the key): CasaOS's own
variables get CasaOS's values (``$AppID`` the app's name, ``$PUID``/``$PGID``
1000, ``$TZ`` UTC).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from skyport.api import AppTemplate, CatalogFiles, CatalogParse, StackSpec
from skyport_marketplace.formats import compose
from skyport_marketplace.formats.common import (
    Collector,
    Skip,
    safe_html,
    slug,
    strings,
    text,
    unique_ids,
)

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml")
TOP_LEVEL_NAME = re.compile(r"^name:.*(?:\n|$)", re.MULTILINE)
SUGGESTED = {"PUID": "1000", "PGID": "1000", "TZ": "Etc/UTC"}


class CasaOSFormat:
    """``type: casaos``: a CasaOS app store (a folder or zip of ``Apps/<App>/``)."""

    type = "casaos"
    description = "CasaOS app stores: Apps/<App>/docker-compose.yml with x-casaos metadata"

    def parse(self, catalog: CatalogFiles) -> CatalogParse:
        apps = app_files(catalog)
        if not apps:
            raise ValueError(f"{catalog.location} holds no Apps/<App>/docker-compose.yml")
        found = Collector()
        found.run(((path, (path, catalog.files[path])) for path in apps), _template)
        if len(catalog.files) == 1 and found.skipped:
            raise ValueError(f"{found.skipped[0].item}: {found.skipped[0].reason}")
        return CatalogParse(unique_ids(found.templates), found.skipped)


def app_files(catalog: CatalogFiles) -> list[str]:
    """The compose files of the store's apps (one file alone is one app)."""
    names = [p for p in catalog.files if PurePosixPath(p).name in COMPOSE_NAMES]
    if len(catalog.files) == 1:
        return list(catalog.files)
    in_apps = [p for p in names if "Apps" in PurePosixPath(p).parts[:-1]]
    return sorted(in_apps or names)


def _template(item: tuple[str, bytes]) -> AppTemplate:
    path, body = item
    document = compose.load(body)
    meta = document.get("x-casaos")
    if not isinstance(meta, dict):
        raise Skip("no x-casaos section: not a CasaOS app")
    folder = PurePosixPath(path).parent.name
    name = text(document.get("name")) or slug(folder)
    title = text(meta.get("title")) or folder or name
    if not title:
        raise Skip("no title")
    raw = TOP_LEVEL_NAME.sub("", body.decode("utf-8", "replace"))
    main = compose.main_service(document, text(meta.get("main")))
    service = document["services"][main]
    fixed = {"AppID": name}
    tagline = text(meta.get("tagline"))
    description = text(meta.get("description"))
    return AppTemplate(
        id=slug(name or title),
        title=title,
        kind="stack",
        description=safe_html(f"{tagline}\n\n{description}".strip() if tagline else description),
        note=safe_html(_tips(meta)),
        categories=strings(meta.get("category")),
        logo=text(meta.get("icon")),
        website=text(meta.get("website")) or text(meta.get("repo")),
        env=compose.env_fields(raw, fixed, SUGGESTED),
        ports=compose.service_ports(service, _port_labels(service)),
        volumes=compose.service_volumes(service),
        stack=StackSpec(compose=raw, main_service=main),
    )


def _tips(meta: dict[str, Any]) -> str:
    tips = meta.get("tips")
    return text(tips.get("before_install")) if isinstance(tips, dict) else ""


def _port_labels(service: Any) -> dict[int, str]:
    """Container port -> what the service's ``x-casaos.ports`` says it is."""
    meta = service.get("x-casaos") if isinstance(service, dict) else None
    labels: dict[int, str] = {}
    for item in (meta or {}).get("ports") or ():
        if isinstance(item, dict) and text(item.get("container")).isdigit():
            labels[int(text(item["container"]))] = text(item.get("description"))
    return labels
