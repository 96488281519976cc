"""Ecosystem files run when read (issue 10): a POST needing pm2:write, audited, and for
non-admins only inside ``pm2.ecosystem_dirs`` — with the real Node.js and PM2 daemon."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.config import Settings
from skyport.testing import ADMIN_PASSWORD, bearer, login

from .conftest import make_app, pm2_settings

PAYLOAD = """\
require("fs").writeFileSync({marker}, "ran as " + process.pid);
module.exports = {{apps: [{{name: "eco-x", script: "logger.js"}}]}};
"""


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    """An allowed directory and another one, each with a config that leaves a marker when run."""
    made = {}
    for name in ("allowed", "elsewhere"):
        folder = tmp_path / name
        folder.mkdir()
        marker = folder / "ran"
        (folder / "x.config.js").write_text(PAYLOAD.format(marker=json.dumps(str(marker))))
        made[name] = folder
    return made


@pytest.fixture
def app(daemon: Path, make_settings: Callable[..., Settings], folders: dict[str, Path]) -> Litestar:
    return make_app(make_settings, **pm2_settings(daemon, ecosystem_dirs=[str(folders["allowed"])]))


@pytest.fixture
def admin(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client


def token(admin: TestClient[Litestar], role: str) -> dict[str, str]:
    body = {"username": role, "password": f"{role}-password", "role": role}
    assert admin.post("/api/users", json=body).status_code == 201
    return bearer(login(admin, role, f"{role}-password"))


def test_reading_an_ecosystem_file_is_no_longer_a_get(
    admin: TestClient[Litestar], folders: dict[str, Path]
) -> None:
    file = folders["allowed"] / "x.config.js"
    answer = admin.get("/api/pm2/ecosystem", params={"file": str(file)})
    assert answer.status_code == 405, answer.text
    assert not (folders["allowed"] / "ran").exists()


def test_an_operator_cannot_run_a_file_outside_the_allowed_directories(
    admin: TestClient[Litestar], folders: dict[str, Path]
) -> None:
    operator = token(admin, "operator")
    outside = folders["elsewhere"] / "x.config.js"
    (folders["allowed"] / "link.config.js").symlink_to(outside)
    for path in (outside, folders["allowed"] / "link.config.js"):
        for route, body in (
            ("/api/pm2/ecosystem", {"file": str(path)}),
            ("/api/pm2/start", {"ecosystem": str(path)}),
        ):
            answer = admin.post(route, json=body, headers=operator)
            assert answer.status_code == 403, answer.text
            assert "pm2.ecosystem_dirs" in answer.json()["detail"]
    assert not (folders["elsewhere"] / "ran").exists()

    # An admin may read any file (and so runs it).
    assert admin.post("/api/pm2/ecosystem", json={"file": str(outside)}).status_code == 200
    assert (folders["elsewhere"] / "ran").exists()


def test_an_operator_reads_files_in_the_allowed_directories_and_it_is_audited(
    admin: TestClient[Litestar], folders: dict[str, Path]
) -> None:
    operator = token(admin, "operator")
    viewer = token(admin, "viewer")
    file = folders["allowed"] / "x.config.js"
    refused = admin.post("/api/pm2/ecosystem", json={"file": str(file)}, headers=viewer)
    assert refused.status_code == 403
    assert refused.json()["extra"]["missing_scope"] == "pm2:write"
    assert not (folders["allowed"] / "ran").exists()

    listed = admin.post("/api/pm2/ecosystem", json={"file": str(file)}, headers=operator)
    assert listed.status_code == 200, listed.text
    assert [a["name"] for a in listed.json()["apps"]] == ["eco-x"]
    entries = admin.get("/api/audit", params={"action": "ecosystem"}).json()["items"]
    seen = {(e["username"], e["action"], e["result"]) for e in entries}
    assert ("operator", "POST /api/pm2/ecosystem", "ok (200)") in seen
