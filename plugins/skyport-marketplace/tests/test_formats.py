"""Catalog formats against the real public catalogs, and the dirt they hold as focused cases."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from skyport.api import AppTemplate, CatalogFiles, CatalogParse
from skyport_marketplace.fetch import CatalogReader
from skyport_marketplace.formats import builtin_formats
from skyport_marketplace.formats.casaos import CasaOSFormat
from skyport_marketplace.formats.portainer import PortainerFormat, raw_file_url
from skyport_marketplace.formats.skyport import SkyportFormat, json_schema
from skyport_marketplace.formats.umbrel import UmbrelFormat

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "skyport-catalog.schema.json"

PORTAINER_COUNTS = {
    # file: (templates, skipped)
    "Lissy93_portainer-templates__templates.json": (522, 2),
    "Lissy93_portainer-templates__templates.v2-f7504ef.json": (449, 2),
    "SelfhostedPro_selfhosted_templates__Template__portainer-v2.json": (105, 0),
    "SelfhostedPro_selfhosted_templates__Template__yacht.json": (106, 0),
    "portainer_templates__templates-2.0.json": (66, 2),
    "portainer_templates__templates.json": (45, 2),
    "portainer_templates__v3__templates.json": (67, 2),
    "technorabilia_portainer-templates__lsio__templates__templates.json": (200, 0),
    "technorabilia_portainer-templates__lsio__templates__templates-2.0.json": (0, 1),
}
STORE_COUNTS = {
    # store folder: (format, templates, skipped)
    "IceWhaleTech_CasaOS-AppStore": ("casaos", 4, 0),
    "getumbrel_umbrel-apps": ("umbrel", 2, 0),
    "getumbrel_umbrel-community-app-store": ("umbrel", 1, 0),
}


def parse_file(fmt: Any, path: Path) -> CatalogParse:
    result: CatalogParse = fmt.parse(CatalogFiles(str(path), {path.name: path.read_bytes()}))
    return result


def parse_folder(fmt: Any, folder: Path, tmp_path: Path) -> CatalogParse:
    reader = CatalogReader(tmp_path / "cache", timeout=5, max_bytes=1 << 26)
    result: CatalogParse = fmt.parse(asyncio.run(reader.read("test", str(folder))))
    return result


def one(entry: dict[str, Any]) -> AppTemplate:
    """The one template a Portainer v2 document with ``entry`` gives."""
    body = json.dumps({"version": "2", "templates": [entry]}).encode()
    parsed = PortainerFormat().parse(CatalogFiles("test.json", {"test.json": body}))
    assert not parsed.skipped, parsed.skipped
    (template,) = parsed.templates
    return template


def skipped(entry: Any) -> str:
    body = json.dumps([entry]).encode()
    parsed = PortainerFormat().parse(CatalogFiles("test.json", {"test.json": body}))
    assert not parsed.templates
    return parsed.skipped[0].reason


# -- the real catalogs -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PORTAINER_COUNTS))
def test_every_portainer_template_is_normalized_or_skipped_with_a_reason(
    catalogs: Path, name: str
) -> None:
    document = json.loads((catalogs / name).read_text())
    entries = document["templates"] if isinstance(document, dict) else document
    parsed = parse_file(PortainerFormat(), catalogs / name)
    assert (len(parsed.templates), len(parsed.skipped)) == PORTAINER_COUNTS[name]
    assert len(parsed.templates) + len(parsed.skipped) == len(entries)
    assert all(s.reason for s in parsed.skipped)
    assert len({t.id for t in parsed.templates}) == len(parsed.templates)


@pytest.mark.parametrize("store", sorted(STORE_COUNTS))
def test_every_app_of_a_store_is_normalized(
    stores: dict[str, Path], store: str, tmp_path: Path
) -> None:
    kind, count, skips = STORE_COUNTS[store]
    fmt = {f.type: f for f in builtin_formats()}[kind]
    parsed = parse_folder(fmt, stores[store], tmp_path)
    assert (len(parsed.templates), len(parsed.skipped)) == (count, skips)
    assert all(t.kind == "stack" and t.stack and t.stack.compose for t in parsed.templates)


def test_every_saved_file_is_read_by_a_format_or_refused_with_a_reason(catalogs: Path) -> None:
    """No file makes a format crash: each is a catalog, part of a store, or refused in words."""
    store_files = {p.name for p in catalogs.iterdir() if p.name.split("__")[0] in STORE_COUNTS}
    for path in sorted(catalogs.iterdir()):
        if path.name in PORTAINER_COUNTS or path.name in store_files or path.suffix == ".md":
            continue
        for fmt in builtin_formats():
            with pytest.raises(ValueError, match=r".+"):
                parse_file(fmt, path)


def test_real_html_is_kept_safe(catalogs: Path) -> None:
    parsed = parse_file(PortainerFormat(), catalogs / "Lissy93_portainer-templates__templates.json")
    notes = [t.note for t in parsed.templates if "<a " in t.note]
    assert notes
    assert all('rel="noopener noreferrer nofollow"' in n for n in notes)
    assert not any("target=" in n or "<script" in n for n in notes)


def test_umbrel_apps_are_published_where_their_proxy_was(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    parsed = parse_folder(UmbrelFormat(), stores["getumbrel_umbrel-apps"], tmp_path)
    nextcloud = next(t for t in parsed.templates if t.id == "nextcloud")
    assert nextcloud.stack and "app_proxy" not in nextcloud.stack.compose
    assert "8081:80" in nextcloud.stack.compose
    assert nextcloud.stack.main_service == "web"
    fields = {e.name: e for e in nextcloud.env}
    assert fields["APP_DATA_DIR"].hidden and fields["APP_DATA_DIR"].default == "./data"
    assert fields["APP_PASSWORD"].secret and fields["APP_PASSWORD"].required


def test_casaos_apps_take_their_metadata_and_casaos_variables(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    parsed = parse_folder(CasaOSFormat(), stores["IceWhaleTech_CasaOS-AppStore"], tmp_path)
    emulator = next(t for t in parsed.templates if t.id == "emulatorjs")
    fields = {e.name: e for e in emulator.env}
    assert fields["AppID"].hidden and fields["AppID"].default == "emulatorjs"
    assert fields["PUID"].default == "1000" and not fields["PUID"].hidden
    assert emulator.categories == ("Media",)
    assert [(p.container, p.host) for p in emulator.ports] == [(3000, 3001), (4001, 4001), (80, 88)]
    assert emulator.logo.startswith("https://")


# -- the dirt, one case each -------------------------------------------------------------------


def test_a_missing_id_is_made_from_the_title_and_repeated_ids_are_told_apart() -> None:
    body = json.dumps(
        [
            {"type": 1, "title": "Web Server", "image": "nginx"},
            {"type": 1, "title": "Web Server", "image": "httpd"},
            {
                "type": 3,
                "title": "Web Server",
                "repository": {"url": "/srv/r", "stackfile": "a.yml"},
            },
        ]
    ).encode()
    parsed = PortainerFormat().parse(CatalogFiles("t.json", {"t.json": body}))
    assert [t.id for t in parsed.templates] == ["web-server", "web-server-2", "web-server-stack"]


def test_env_set_and_preset_are_fixed_and_select_offers_choices() -> None:
    template = one(
        {
            "type": 1,
            "title": "App",
            "image": "app",
            "env": [
                {"name": "MODE", "label": "Mode", "set": "prod"},
                {"name": "PATH_ROOT", "default": "/x", "preset": True},
                {
                    "name": "EULA",
                    "select": [
                        {"text": "Yes", "value": "true", "default": True},
                        {"text": "No", "value": "false"},
                    ],
                },
                {"name": "DB_PASSWORD", "label": "Password"},
                {"name": "COUNT", "default": 3},
            ],
        }
    )
    fields = {e.name: e for e in template.env}
    assert fields["MODE"].hidden and fields["MODE"].default == "prod"
    assert fields["PATH_ROOT"].hidden and fields["PATH_ROOT"].default == "/x"
    assert [c.value for c in fields["EULA"].choices] == ["true", "false"]
    assert fields["EULA"].default == "true"
    assert fields["DB_PASSWORD"].secret
    assert fields["COUNT"].default == "3"


def test_read_only_and_readonly_both_count_and_a_volume_without_bind_is_the_apps_own() -> None:
    template = one(
        {
            "type": 1,
            "title": "App",
            "image": "app",
            "volumes": [
                {"container": "/a", "bind": "/srv/a", "readonly": True},
                {"container": "/b", "bind": "/srv/b", "read_only": True},
                {"container": "/data"},
            ],
        }
    )
    assert [(v.container, v.host, v.read_only) for v in template.volumes] == [
        ("/a", "/srv/a", True),
        ("/b", "/srv/b", True),
        ("/data", "", False),
    ]


def test_category_and_categories_both_count_and_nulls_are_empty() -> None:
    assert one({"type": 1, "title": "A", "image": "a", "category": "Tools"}).categories == (
        "Tools",
    )
    assert one({"type": 1, "title": "A", "image": "a", "categories": ["X", None]}).categories == (
        "X",
    )
    template = one(
        {
            "type": 1,
            "title": "A",
            "image": "a",
            "categories": None,
            "description": None,
            "env": None,
        }
    )
    assert (template.categories, template.description, template.env) == ((), "", ())


def test_every_port_form_is_read() -> None:
    template = one(
        {
            "type": 1,
            "title": "A",
            "image": "a",
            "ports": ["80/tcp", "8080:80/tcp", ":443/tcp", "53:53/udp", "9000"],
        }
    )
    assert [(p.container, p.host, p.protocol) for p in template.ports] == [
        (80, None, "tcp"),
        (80, 8080, "tcp"),
        (443, None, "tcp"),
        (53, 53, "udp"),
        (9000, None, "tcp"),
    ]
    yacht = one({"type": 1, "title": "A", "image": "a", "ports": [{"WebUI": "8080:80/tcp"}]})
    assert yacht.ports[0].label == "WebUI"


def test_html_is_sanitized_before_anyone_shows_it() -> None:
    template = one(
        {
            "type": 1,
            "title": "A",
            "image": "a",
            "note": '<b>Hi</b><script>alert(1)</script><img src=x onerror="alert(2)">'
            '<a href="javascript:alert(3)">x</a>'
            '<a href="https://example.org" target="_blank">y</a>',
        }
    )
    assert "<script" not in template.note and "onerror" not in template.note
    assert "javascript:" not in template.note and "<img" not in template.note
    assert "<b>Hi</b>" in template.note
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">y</a>' in template.note


def test_stacks_take_their_compose_file_from_the_repository() -> None:
    template = one(
        {
            "type": 3,
            "title": "Blog",
            "repository": {"url": "https://github.com/owner/repo", "stackfile": "stacks/blog.yml"},
        }
    )
    assert template.kind == "stack" and template.stack is not None
    assert template.stack.compose_url == (
        "https://raw.githubusercontent.com/owner/repo/HEAD/stacks/blog.yml"
    )
    edge = one({"type": 4, "title": "Edge", "stackfile": "https://example.org/compose.yml"})
    assert edge.stack is not None and edge.stack.compose_url == "https://example.org/compose.yml"
    assert raw_file_url("https://gitlab.example/owner/repo", "a.yml") == ""


def test_unusable_entries_are_skipped_with_their_reason() -> None:
    assert skipped({"type": 1, "title": "A"}) == "a container template without an image"
    assert skipped({"type": 9, "title": "A", "image": "a"}) == "unknown template type 9"
    assert skipped({"type": 1, "image": "a"}) == "no title"
    assert skipped({"type": 1, "title": "A", "image": "a", "platform": "windows"}) == (
        "made for windows, not Linux"
    )
    assert "port '99999'" in skipped({"type": 1, "title": "A", "image": "a", "ports": ["99999"]})
    assert skipped({"type": 2, "title": "S"}) == (
        "a stack template without a repository for its compose file"
    )


def test_a_file_that_is_not_portainer_templates_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        PortainerFormat().parse(CatalogFiles("x", {"x.json": b"{nope"}))
    with pytest.raises(ValueError, match="not Portainer templates"):
        PortainerFormat().parse(CatalogFiles("x", {"x.json": b'{"version": "2"}'}))


# -- SkyPort's own format ------------------------------------------------------------------------


NODE_CATALOG = """
skyport_catalog: 1
apps:
  - id: Hello Node
    title: Hello
    kind: node
    description: '<i>hi</i><script>x</script>'
    node: {repository: /srv/hello, start: server.js, install: "npm ci", instances: 2}
    env: [{name: PORT, default: "3000", required: true}]
  - {id: broken, title: Broken, kind: node}
  - {id: bad, title: Bad, kind: spaceship}
"""


def test_the_skyport_format_describes_node_apps_and_skips_bad_ones() -> None:
    parsed = SkyportFormat().parse(CatalogFiles("c.yaml", {"c.yaml": NODE_CATALOG.encode()}))
    (hello,) = parsed.templates
    assert hello.id == "hello-node" and hello.node is not None
    assert (hello.node.start, hello.node.install, hello.node.instances) == (
        "server.js",
        "npm ci",
        2,
    )
    assert hello.description == "<i>hi</i>"
    reasons = {s.item: s.reason for s in parsed.skipped}
    assert reasons["apps[1] 'Broken'"] == "kind 'node' needs a 'node' section"
    assert "kind" in reasons["apps[2] 'Bad'"]


def test_the_published_json_schema_is_the_formats_own() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema(), (
        f"regenerate {SCHEMA_FILE.name}: python -m skyport_marketplace.formats.skyport"
    )


def test_a_store_is_read_from_its_zip_file_as_from_its_folder(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    folder = stores["IceWhaleTech_CasaOS-AppStore"]
    archive = tmp_path / "store.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file():  # as a release archive: under one top folder
                zipped.write(path, f"CasaOS-AppStore-main/{path.relative_to(folder)}")
        zipped.writestr("CasaOS-AppStore-main/Apps/Databag/icon.png", b"\x89PNG")
    from_zip = parse_folder(CasaOSFormat(), archive, tmp_path)
    from_folder = parse_folder(CasaOSFormat(), folder, tmp_path)
    assert [t.id for t in from_zip.templates] == [t.id for t in from_folder.templates]
    assert len(from_zip.templates) == 4
