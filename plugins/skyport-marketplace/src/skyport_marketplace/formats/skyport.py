"""SkyPort's own catalog format: app templates as SkyPort understands them, in JSON or YAML.

No existing store describes Node.js apps for PM2, so this one does; it also
holds containers and Compose stacks. Each app is an
:class:`~skyport.api.AppTemplate` (without ``source``, which the marketplace
sets). The JSON Schema is :func:`json_schema` (served at
``GET /api/marketplace/formats/skyport/schema``)::

    skyport_catalog: 1
    apps:
      - id: hello
        title: Hello
        kind: node
        node: {repository: "https://git.example.com/hello.git", start: server.js,
               install: "npm ci --omit=dev"}
        env: [{name: PORT, default: "3000", required: true}]
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import yaml

from skyport.api import AppTemplate, CatalogFiles, CatalogParse
from skyport_marketplace.formats.common import (
    Collector,
    Skip,
    load_yaml,
    safe_html,
    slug,
    unique_ids,
)

SPEC_OF_KIND = {"container": "container", "stack": "stack", "node": "node"}


class SkyportCatalog(msgspec.Struct, forbid_unknown_fields=True):
    """A SkyPort catalog file."""

    skyport_catalog: Literal[1]
    """The format's version."""
    apps: list[AppTemplate]
    title: str = ""
    description: str = ""


class _Envelope(msgspec.Struct):
    skyport_catalog: Literal[1]
    apps: list[Any]


class SkyportFormat:
    """``type: skyport``: a SkyPort catalog (JSON or YAML), the one format for Node.js apps."""

    type = "skyport"
    description = "SkyPort catalogs (JSON or YAML): containers, Compose stacks and Node.js apps"

    def parse(self, catalog: CatalogFiles) -> CatalogParse:
        if len(catalog.files) != 1:
            raise ValueError(
                f"a SkyPort catalog is one file; {catalog.location} holds {len(catalog.files)}"
            )
        ((name, body),) = catalog.files.items()
        try:
            envelope = msgspec.convert(load_yaml(body), _Envelope)
        except (yaml.YAMLError, msgspec.ValidationError) as exc:
            raise ValueError(f"{name} is not a SkyPort catalog: {exc}") from None
        found = Collector()
        found.run(((_item(i, app), app) for i, app in enumerate(envelope.apps)), template)
        return CatalogParse(unique_ids(found.templates), found.skipped)


def _item(index: int, app: Any) -> str:
    title = app.get("title") if isinstance(app, dict) else None
    return f"apps[{index}]" + (f" {title!r}" if isinstance(title, str) and title else "")


def template(app: Any) -> AppTemplate:
    """One app of the catalog, checked: its ``kind``'s section present, HTML made safe."""
    try:
        found = msgspec.convert(app, AppTemplate)
    except msgspec.ValidationError as exc:
        raise Skip(str(exc)) from None
    section = SPEC_OF_KIND[found.kind]
    if getattr(found, section) is None:
        raise Skip(f"kind {found.kind!r} needs a {section!r} section")
    if found.stack is not None and not (
        found.stack.compose or found.stack.compose_url or found.stack.repository
    ):
        raise Skip("the stack section needs compose, compose_url or repository")
    identifier = slug(found.id)
    if not identifier:
        raise Skip(f"id {found.id!r} has no letter or digit")
    return msgspec.structs.replace(
        found,
        id=identifier,
        source="",
        description=safe_html(found.description),
        note=safe_html(found.note),
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a SkyPort catalog file (as JSON data: lists, not tuples)."""
    schema: dict[str, Any] = msgspec.json.decode(
        msgspec.json.encode(msgspec.json.schema(SkyportCatalog))
    )
    return schema


if (
    __name__ == "__main__"
):  # python -m skyport_marketplace.formats.skyport > skyport-catalog.schema.json
    import json

    print(json.dumps(json_schema(), indent=2))
