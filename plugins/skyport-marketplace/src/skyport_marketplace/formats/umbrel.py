"""Umbrel app stores: ``<app-id>/umbrel-app.yml`` (the manifest) beside a compose file.

Umbrel puts every app behind its own proxy, the ``app_proxy`` service (no
image: umbrelOS supplies it) whose ``APP_HOST``/``APP_PORT`` name the app's
front door. Here that service is dropped and the front door is published on
the manifest's ``port`` instead. Umbrel's variables become settings:
``APP_DATA_DIR`` is the stack's own folder (``./data``), ``APP_PASSWORD`` a
secret to choose, the host names default to Umbrel's.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import yaml

from skyport.api import AppTemplate, CatalogFiles, CatalogParse, StackSpec, TemplatePort
from skyport_marketplace.formats import compose
from skyport_marketplace.formats.common import (
    Collector,
    Skip,
    load_yaml,
    safe_html,
    slug,
    strings,
    text,
    unique_ids,
)

MANIFEST = "umbrel-app.yml"
COMPOSE = "docker-compose.yml"
PROXY = "app_proxy"
FIXED = {"APP_DATA_DIR": "./data"}
SUGGESTED = {
    "DEVICE_HOSTNAME": "umbrel",
    "DEVICE_DOMAIN_NAME": "umbrel.local",
    "APP_DOMAIN": "umbrel.local",
    "LOCAL_DOMAIN": "umbrel.local",
    "NETWORK_IP": "10.21.0.0",
}


class UmbrelFormat:
    """``type: umbrel``: an Umbrel app store (a folder or zip of ``<app-id>/`` folders)."""

    type = "umbrel"
    description = "Umbrel app stores: <app-id>/umbrel-app.yml beside docker-compose.yml"

    def parse(self, catalog: CatalogFiles) -> CatalogParse:
        manifests = sorted(p for p in catalog.files if PurePosixPath(p).name == MANIFEST)
        if not manifests:
            raise ValueError(f"{catalog.location} holds no <app-id>/{MANIFEST}")
        found = Collector()
        found.run(((path, (path, catalog.files)) for path in manifests), _template)
        return CatalogParse(unique_ids(found.templates), found.skipped)


def _template(item: tuple[str, dict[str, bytes]]) -> AppTemplate:
    path, files = item
    manifest = _manifest(files[path])
    compose_path = str(PurePosixPath(path).with_name(COMPOSE))
    if compose_path not in files:
        raise Skip(f"no {COMPOSE} beside the manifest")
    document = compose.load(files[compose_path])
    app_id = text(manifest.get("id")) or PurePosixPath(path).parent.name
    title = text(manifest.get("name")) or app_id
    if not title:
        raise Skip("no name")
    front = _front_door(document, app_id, manifest)
    text_out = compose.dump(document)
    tagline, description = text(manifest.get("tagline")), text(manifest.get("description"))
    return AppTemplate(
        id=slug(app_id),
        title=title,
        kind="stack",
        description=safe_html(f"{tagline}\n\n{description}".strip() if tagline else description),
        note=safe_html(_credentials(manifest)),
        categories=strings(manifest.get("category")),
        logo=text(manifest.get("icon")),
        website=text(manifest.get("website")) or text(manifest.get("repo")),
        env=compose.env_fields(text_out, FIXED, SUGGESTED),
        ports=(front[1],) if front else (),
        volumes=compose.service_volumes(document["services"].get(front[0] if front else "")),
        stack=StackSpec(compose=text_out, main_service=front[0] if front else ""),
    )


def _manifest(body: bytes) -> dict[str, Any]:
    try:
        manifest = load_yaml(body)
    except yaml.YAMLError as exc:
        raise Skip(f"{MANIFEST} is not valid YAML: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(manifest, dict):
        raise Skip(f"{MANIFEST} is not a mapping")
    return manifest


def _front_door(
    document: dict[str, Any], app_id: str, manifest: dict[str, Any]
) -> tuple[str, TemplatePort] | None:
    """Drop ``app_proxy``; publish the service it fronted on the manifest's port instead."""
    services: dict[str, Any] = document["services"]
    proxy = services.pop(PROXY, None)
    if not services:
        raise Skip(f"no service besides {PROXY}")
    environment = proxy.get("environment") if isinstance(proxy, dict) else None
    if not isinstance(environment, dict):
        return None
    service = _service_of(text(environment.get("APP_HOST")), app_id, services)
    target, published = text(environment.get("APP_PORT")), text(manifest.get("port"))
    if not service or not target.isdigit() or not published.isdigit():
        return None
    chosen = services[service]
    if isinstance(chosen, dict):
        chosen.setdefault("ports", []).append(f"{published}:{target}")
    return service, TemplatePort(int(target), int(published), label="Web UI")


def _service_of(host: str, app_id: str, services: dict[str, Any]) -> str:
    """``nextcloud_web_1`` (Compose v1's container name) → the service ``web``."""
    name = re.sub(r"_\d+$", "", host.removeprefix(f"{app_id}_"))
    return name if name in services else ""


def _credentials(manifest: dict[str, Any]) -> str:
    user, password = text(manifest.get("defaultUsername")), text(manifest.get("defaultPassword"))
    parts = [f"Default user: {user}"] if user else []
    if password:
        parts.append(f"default password: {password}")
    return "; ".join(parts)
