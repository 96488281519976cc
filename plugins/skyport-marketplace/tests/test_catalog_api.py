"""Sources, search and app details through ``/api/marketplace``, over the real catalogs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.api import CatalogFiles
from skyport.config import Settings
from skyport.testing import QuietFolderHandler, bearer, serve_folder
from skyport_marketplace.formats.portainer import PortainerFormat
from skyport_marketplace.kept import KeptCatalog

from .conftest import logged_in, make_app, user_token, wait_job

LISSY = "Lissy93_portainer-templates__templates.json"
OFFICIAL = "portainer_templates__v3__templates.json"


@pytest.fixture
def market(
    catalogs: Path, stores: dict[str, Path], make_settings: Callable[..., Settings]
) -> Iterator[TestClient[Litestar]]:
    """The marketplace with three real sources from the settings file, read at start."""
    sources = [
        {"name": "lissy", "type": "portainer", "url": str(catalogs / LISSY)},
        {"name": "portainer", "type": "portainer", "url": f"file://{catalogs / OFFICIAL}"},
        {"name": "casaos", "type": "casaos", "url": str(stores["IceWhaleTech_CasaOS-AppStore"])},
    ]
    with logged_in(make_app(make_settings, sources=sources)) as client:
        for name in ("lissy", "portainer", "casaos"):
            job = client.post(f"/api/marketplace/sources/{name}/refresh").json()["job"]
            assert wait_job(client, job)["state"] == "done"
        yield client


def apps(client: TestClient[Litestar], **query: Any) -> dict[str, Any]:
    response = client.get("/api/marketplace/apps", params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_sources_report_their_counts_and_skips(market: TestClient[Litestar]) -> None:
    rows = {r["name"]: r for r in market.get("/api/marketplace/sources").json()}
    assert (rows["lissy"]["templates"], rows["lissy"]["skipped"]) == (522, 2)
    assert {s["reason"] for s in rows["lissy"]["skipped_reasons"]} == {
        "made for windows, not Linux"
    }
    assert (rows["portainer"]["templates"], rows["casaos"]["templates"]) == (67, 4)
    assert all(
        r["error"] is None and r["refreshed"] and r["origin"] == "settings" for r in rows.values()
    )


def test_search_ranks_title_matches_first(market: TestClient[Litestar]) -> None:
    found = apps(market, q="nginx")
    titles = [item["title"].lower() for item in found["items"]]
    assert titles[0] == "nginx"
    assert all("nginx" in t for t in titles[:3])
    assert found["total"] > 3


def test_search_matches_word_starts_in_descriptions_and_every_word(
    market: TestClient[Litestar],
) -> None:
    postgres = apps(market, q="postgre")
    assert any("postgres" in item["title"].lower() for item in postgres["items"])
    both = apps(market, q="password manager")
    assert both["total"] >= 1
    assert apps(market, q="zzzqqq-nothing")["total"] == 0


def test_filters_by_category_kind_and_source(market: TestClient[Litestar]) -> None:
    stacks = apps(market, kind="stack", source="portainer", per_page=200)
    assert stacks["total"] > 0
    assert all(i["kind"] == "stack" and i["source"] == "portainer" for i in stacks["items"])
    media = apps(market, category="media", per_page=200)
    assert media["total"] > 0 and all(
        "media" in [c.lower() for c in i["categories"]] for i in media["items"]
    )
    categories = market.get("/api/marketplace/categories").json()
    assert categories["Media"] >= media["total"] > 0 or categories.get("media", 0) > 0


def test_pages(market: TestClient[Litestar]) -> None:
    first, second = apps(market, per_page=10), apps(market, per_page=10, page=2)
    assert first["total"] == 522 + 67 + 4
    assert len(first["items"]) == len(second["items"]) == 10
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    assert market.get("/api/marketplace/apps", params={"per_page": 0}).status_code == 400


def test_an_app_shows_its_normalized_template(market: TestClient[Litestar]) -> None:
    detail = market.get("/api/marketplace/apps/casaos:emulatorjs").json()
    assert detail["kind"] == "stack" and detail["source"] == "casaos"
    assert detail["stack"]["main_service"] == "emulatorjs"
    assert {e["name"] for e in detail["env"]} >= {"PUID", "PGID", "TZ"}
    missing = market.get("/api/marketplace/apps/casaos:nope")
    assert missing.status_code == 404 and "casaos:nope" in missing.json()["detail"]


def test_ids_are_stable_across_refreshes(market: TestClient[Litestar]) -> None:
    before = [i["id"] for i in apps(market, source="lissy", per_page=200)["items"]]
    job = market.post("/api/marketplace/sources/lissy/refresh").json()["job"]
    assert wait_job(market, job)["state"] == "done"
    assert [i["id"] for i in apps(market, source="lissy", per_page=200)["items"]] == before


def test_a_broken_source_is_reported_and_the_others_still_serve(
    market: TestClient[Litestar], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    added = market.post(
        "/api/marketplace/sources", json={"name": "bad", "type": "portainer", "url": str(bad)}
    )
    assert added.status_code == 201, added.text
    job = wait_job(market, added.json()["job"])
    assert job["state"] == "failed" and "not JSON" in job["error"]
    rows = {r["name"]: r for r in market.get("/api/marketplace/sources").json()}
    assert "not JSON" in rows["bad"]["error"] and rows["bad"]["origin"] == "api"
    assert rows["lissy"]["error"] is None
    assert apps(market, q="nginx")["total"] > 0
    assert market.delete("/api/marketplace/sources/bad").status_code == 204


def test_a_source_that_went_bad_keeps_serving_what_it_had(
    make_settings: Callable[..., Settings], catalogs: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "templates.json"
    catalog.write_bytes((catalogs / OFFICIAL).read_bytes())
    app = make_app(make_settings, sources=[{"name": "p", "type": "portainer", "url": str(catalog)}])
    with logged_in(app) as client:
        assert (
            wait_job(client, client.post("/api/marketplace/sources/p/refresh").json()["job"])[
                "state"
            ]
            == "done"
        )
        catalog.write_text("[]]")
        job = wait_job(client, client.post("/api/marketplace/sources/p/refresh").json()["job"])
        assert job["state"] == "failed"
        (row,) = client.get("/api/marketplace/sources").json()
        assert row["templates"] == 67 and "not JSON" in row["error"]
        assert apps(client, source="p")["total"] == 67


def test_sources_added_through_the_api_survive_a_restart_and_are_kept_in_the_database(
    make_settings: Callable[..., Settings], catalogs: Path
) -> None:
    body = {"name": "kept", "type": "portainer", "url": str(catalogs / OFFICIAL)}
    with logged_in(make_app(make_settings)) as client:
        assert (
            wait_job(client, client.post("/api/marketplace/sources", json=body).json()["job"])[
                "state"
            ]
            == "done"
        )
    assert not (make_settings().data_path / "marketplace" / "catalogs").exists()
    with logged_in(make_app(make_settings)) as client:  # same database: its kept copy served
        (row,) = client.get("/api/marketplace/sources").json()
        assert (row["name"], row["templates"], row["origin"]) == ("kept", 67, "api")
        assert apps(client, source="kept")["total"] == 67


def test_a_catalog_kept_on_disk_by_an_earlier_version_moves_to_the_database(
    make_settings: Callable[..., Settings], catalogs: Path, tmp_path: Path
) -> None:
    """Before 0003 each server kept its catalogs in <data>/marketplace/catalogs: an upgraded
    server serves that copy (its location is gone: it was not read again) and drops the file."""
    gone = str(tmp_path / "moved-away.json")
    files = CatalogFiles(gone, {OFFICIAL: (catalogs / OFFICIAL).read_bytes()})
    parsed = PortainerFormat().parse(files)
    owned = [msgspec.structs.replace(t, id=f"old:{t.id}", source="old") for t in parsed.templates]
    refreshed = time.time() - 60
    kept_file = make_settings().data_path / "marketplace" / "catalogs" / "old.json"
    kept_file.parent.mkdir(parents=True)
    kept_file.write_bytes(
        msgspec.json.encode(KeptCatalog("portainer", gone, refreshed, owned, parsed.skipped))
    )
    sources = [{"name": "old", "type": "portainer", "url": gone}]
    with logged_in(make_app(make_settings, sources=sources)) as client:
        (row,) = client.get("/api/marketplace/sources").json()
        assert (row["templates"], row["refreshed"], row["error"]) == (67, refreshed, None)
        assert client.get("/api/marketplace/apps/old:redis").status_code == 200
    assert not kept_file.exists()
    with logged_in(make_app(make_settings, sources=sources)) as client:  # from the database now
        assert client.get("/api/marketplace/sources").json()[0]["templates"] == 67


def test_bad_sources_are_refused_in_words(market: TestClient[Litestar]) -> None:
    def add(**body: Any) -> tuple[int, str]:
        response = market.post("/api/marketplace/sources", json=body)
        return response.status_code, response.json()["detail"]

    assert add(name="x", type="nope", url="/tmp/x.json") == (
        400,
        "type: no catalog format 'nope' (known: casaos, portainer, skyport, umbrel)",
    )
    code, detail = add(name="x", type="portainer", url="ftp://example.org/x")
    assert code == 400 and detail.startswith("url:")
    assert add(name="lissy", type="portainer", url="/tmp/x.json")[0] == 409
    assert add(name="Bad Name", type="portainer", url="/tmp/x.json")[0] == 400
    removed = market.delete("/api/marketplace/sources/lissy")
    assert removed.status_code == 409 and "settings file" in removed.json()["detail"]


class _Catalogs(QuietFolderHandler):
    """Serves a folder; counts 304 answers (the If-Modified-Since path)."""

    not_modified = 0

    def send_response(self, code: int, message: str | None = None) -> None:
        if code == 304:
            type(self).not_modified += 1
        super().send_response(code, message)


def test_a_web_source_is_read_again_only_when_it_changed(
    market: TestClient[Litestar], catalogs: Path
) -> None:
    with serve_folder(catalogs, _Catalogs) as base:
        url = f"{base}/{OFFICIAL}"
        added = market.post(
            "/api/marketplace/sources", json={"name": "web", "type": "portainer", "url": url}
        )
        assert wait_job(market, added.json()["job"])["state"] == "done"
        again = market.post("/api/marketplace/sources/web/refresh").json()["job"]
        assert wait_job(market, again)["result"]["templates"] == 67
        assert _Catalogs.not_modified == 1


def test_scopes(market: TestClient[Litestar]) -> None:
    viewer = bearer(user_token(market, "viewer"))
    assert market.get("/api/marketplace/apps", headers=viewer).status_code == 200
    refused = market.post("/api/marketplace/sources/lissy/refresh", headers=viewer)
    assert refused.status_code == 403 and "marketplace:admin" in refused.json()["detail"]
    operator = bearer(user_token(market, "operator"))
    assert (
        market.post("/api/marketplace/sources/lissy/refresh", headers=operator).status_code == 403
    )
    install = market.post(
        "/api/marketplace/apps/lissy:nginx/install", json={"name": "x"}, headers=viewer
    )
    assert install.status_code == 403


def test_the_skyport_schema_is_served(market: TestClient[Litestar]) -> None:
    schema = market.get("/api/marketplace/formats/skyport/schema").json()
    assert "AppTemplate" in json.dumps(schema)
    types = {f["type"] for f in market.get("/api/marketplace/formats").json()}
    assert types == {"portainer", "casaos", "umbrel", "skyport"}


def test_an_install_without_a_deployer_for_its_kind_says_which_plugin_is_missing(
    market: TestClient[Litestar],
) -> None:
    detail = market.get("/api/marketplace/apps/lissy:nginx").json()
    assert detail["deployer"] is None and detail["you_may_install"] is False
    response = market.post("/api/marketplace/apps/lissy:nginx/install", json={"name": "web"})
    assert response.status_code == 503
    assert "install and enable skyport-docker" in response.json()["detail"]
    assert market.get("/api/marketplace/installed").json() == []
