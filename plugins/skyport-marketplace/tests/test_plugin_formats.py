"""A catalog format from another plugin, through ``register_marketplace_sources``: its
sources are read, searched and shown like the built-in formats' (this module is that
plugin, registered beside the marketplace)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from skyport.api import (
    AppTemplate,
    CatalogFiles,
    CatalogParse,
    ContainerSpec,
    SkippedTemplate,
    hookimpl,
)
from skyport.config import Settings

from .conftest import logged_in, make_app, wait_job


class TeamCatalog:
    """Our team's app list: ``[{"name", "image", "about"}]`` in one JSON file."""

    type = "team"
    description = "the team's own app list"

    def parse(self, catalog: CatalogFiles) -> CatalogParse:
        (body,) = catalog.files.values()
        templates, skipped = [], []
        for index, entry in enumerate(json.loads(body)):
            if not entry.get("image"):
                skipped.append(SkippedTemplate(f"[{index}] {entry.get('name')!r}", "no image"))
                continue
            templates.append(
                AppTemplate(
                    id=entry["name"],
                    title=entry["name"].title(),
                    kind="container",
                    description=entry.get("about", ""),
                    container=ContainerSpec(image=entry["image"]),
                )
            )
        return CatalogParse(templates, skipped)


@hookimpl
def register_marketplace_sources() -> list[TeamCatalog]:
    return [TeamCatalog()]


def test_a_plugins_catalog_format_is_read_searched_and_shown(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    catalog = tmp_path / "team.json"
    catalog.write_text(
        json.dumps(
            [
                {"name": "wiki", "image": "team/wiki:3", "about": "The team's knowledge base"},
                {"name": "pastebin", "image": "team/paste:1", "about": "Share snippets"},
                {"name": "broken", "about": "no image given"},
            ]
        )
    )
    sources = [{"name": "ours", "type": "team", "url": str(catalog)}]
    this_plugin = ("team", sys.modules[__name__])
    with logged_in(make_app(make_settings, this_plugin, sources=sources)) as client:
        formats = {f["type"]: f for f in client.get("/api/marketplace/formats").json()}
        assert formats["team"]["description"] == "the team's own app list"
        job = client.post("/api/marketplace/sources/ours/refresh").json()["job"]
        assert wait_job(client, job)["state"] == "done"

        (source,) = client.get("/api/marketplace/sources").json()
        assert (source["type"], source["templates"], source["skipped"]) == ("team", 2, 1)
        assert source["skipped_reasons"][0]["reason"] == "no image"
        found = client.get("/api/marketplace/apps", params={"q": "knowledge"}).json()["items"]
        assert [app["id"] for app in found] == ["ours:wiki"]
        wiki = client.get("/api/marketplace/apps/ours:wiki").json()
        assert wiki["container"]["image"] == "team/wiki:3" and wiki["title"] == "Wiki"
