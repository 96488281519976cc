"""The dashboard's shipping: ``/`` and deep links answer the app, assets are cached long,
and the API's own paths keep their JSON 404s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport import dashboard
from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, bearer, login

INDEX = b"<!doctype html><title>SkyPort</title><div id=root></div>"


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dashboard build in a folder of its own, served by the app."""
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_bytes(INDEX)
    (web / "assets" / "index-AbC123.js").write_text("console.log('app')")
    monkeypatch.setattr(dashboard, "WEB_DIR", web)
    return web


@pytest.fixture
def site(
    built: Path, settings: Settings, plugin_manager: PluginManager
) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings, plugins=plugin_manager)) as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/containers", "/containers/web.1", "/admin/users"])
def test_every_page_answers_the_app_uncached(site: TestClient[Litestar], path: str) -> None:
    response = site.get(path)
    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy and "script-src" not in policy
    assert "img-src 'self' data: https:;" in policy  # catalogs' logos; never http:


def test_hashed_assets_are_public_and_cached_for_a_year(site: TestClient[Litestar]) -> None:
    response = site.get("/assets/index-AbC123.js")
    assert response.status_code == 200
    assert response.text == "console.log('app')"
    assert "max-age=31536000" in response.headers["cache-control"]
    assert "immutable" in response.headers["cache-control"]


@pytest.mark.parametrize("path", ["/api/nothing", "/assets/missing.js", "/ws/nothing"])
def test_api_paths_are_never_the_app(site: TestClient[Litestar], path: str) -> None:
    response = site.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status_code"] == 404


def test_a_not_found_from_a_route_keeps_its_message(
    site: TestClient[Litestar], admin_token: str
) -> None:
    response = site.get(
        "/api/metrics/history?collector=nope", headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "no metrics collector 'nope'"


def test_login_and_the_api_still_need_what_they_needed(site: TestClient[Litestar]) -> None:
    assert site.get("/api/status").status_code == 401
    assert site.get("/schema/openapi.json").status_code == 401
    assert site.post("/containers").status_code == 404


def test_without_a_build_the_page_says_how_to_get_one(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    plugin_manager: PluginManager,
) -> None:
    monkeypatch.setattr(dashboard, "WEB_DIR", tmp_path / "nothing")
    with TestClient(create_app(settings, plugins=plugin_manager)) as client:
        response = client.get("/")
    assert response.status_code == 404
    assert "dashboard is not built" in response.text


def test_admins_read_the_effective_settings_with_secrets_hidden(
    make_settings: Callable[..., Settings], plugin_manager: PluginManager
) -> None:
    settings = make_settings(client={"url": "https://ops:hunter2@skyport.example:8080"})
    with TestClient(create_app(settings, plugins=plugin_manager)) as client:
        token = login(client, "admin", ADMIN_PASSWORD)
        shown = client.get("/api/settings", headers=bearer(token))
        assert shown.status_code == 200
        assert shown.json()["client"]["url"] == "https://ops:********@skyport.example:8080"
        assert shown.json()["server"]["port"] == settings.server.port
        assert "hunter2" not in shown.text
        client.post(
            "/api/users",
            json={"username": "opal", "password": "opal-password-123", "role": "operator"},
            headers=bearer(token),
        )
        operator = login(client, "opal", "opal-password-123")
        refused = client.get("/api/settings", headers=bearer(operator))
        assert refused.status_code == 403
        assert "settings:read" in refused.json()["detail"]


def test_admins_list_every_scope_a_role_may_hold(
    admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    listed = admin.get("/api/permissions")
    assert listed.status_code == 200
    scopes = {p["name"]: p for p in listed.json()}
    assert scopes["audit:read"] == {
        "name": "audit:read",
        "description": "Read the audit log",
        "level": "admin",
        "plugin": "core",
    }
    assert scopes["metrics:read"]["level"] == "read"
    viewer = make_user("vic", "viewer")
    assert admin.get("/api/permissions", headers=bearer(viewer)).status_code == 403
