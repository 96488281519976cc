"""Volume and network endpoints against the real engine.

Networks made here are ``internal`` and nothing is attached to them
(DESIGN.md §7: no traffic on bridge networks).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.testing import bearer

from .conftest import LABEL, user_token


@pytest.fixture
def networks_made(engine: docker.APIClient) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_network(name)


@pytest.fixture
def volumes_made(engine: docker.APIClient) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_volume(name, force=True)


def _new_volume(api: TestClient[Litestar], made: list[str], **body: Any) -> dict[str, Any]:
    body.setdefault("labels", dict(LABEL))
    response = api.post("/api/docker/volumes", json=body)
    assert response.status_code == 201, response.text
    made.append(response.json()["name"])
    return response.json()


# -- volumes ------------------------------------------------------------------------------


def test_create_list_inspect_remove_a_volume(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    unique: Callable[[str], str],
    volumes_made: list[str],
) -> None:
    name = unique("vol")
    created = _new_volume(api, volumes_made, name=name, labels={**LABEL, "tier": "data"})
    assert created["name"] == name and created["driver"] == "local"
    assert created["labels"] == {**LABEL, "tier": "data"} and created["engine"] == "local"
    assert engine.inspect_volume(name)["Labels"] == created["labels"]

    listed = api.get("/api/docker/volumes", params=[("filters", f"name={name}")])
    assert listed.status_code == 200
    assert [v["name"] for v in listed.json()] == [name]
    by_label = api.get(
        "/api/docker/volumes", params={"filters": "label=tier=data", "engine": "all"}
    )
    assert any(v["name"] == name and v["engine"] == "local" for v in by_label.json())

    inspected = api.get(f"/api/docker/volumes/{name}")
    assert inspected.status_code == 200 and inspected.json()["mountpoint"]

    assert api.delete(f"/api/docker/volumes/{name}").status_code == 204
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_volume(name)
    for method in ("get", "delete"):
        missing = api.request(method, f"/api/docker/volumes/{name}")
        assert missing.status_code == 404 and name in missing.json()["detail"]


def test_volume_name_conflict_and_validation(
    api: TestClient[Litestar], unique: Callable[[str], str], volumes_made: list[str]
) -> None:
    name = unique("vol")
    _new_volume(api, volumes_made, name=name)
    again = api.post("/api/docker/volumes", json={"name": name, "labels": LABEL})
    assert again.status_code == 409 and name in again.json()["detail"]
    bad = api.post("/api/docker/volumes", json={"name": "no/slashes"})
    assert bad.status_code == 400 and bad.json()["extra"] == {"field": "name"}
    anonymous = _new_volume(api, volumes_made)
    assert len(anonymous["name"]) == 64


def test_a_volume_in_use_cannot_be_removed(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    test_image: str,
    unique: Callable[[str], str],
    volumes_made: list[str],
) -> None:
    name = _new_volume(api, volumes_made, name=unique("vol"))["name"]
    container = engine.create_container(
        test_image,
        command=["sleep", "3600"],
        labels=LABEL,
        host_config=engine.create_host_config(network_mode="none", binds=[f"{name}:/data"]),
    )
    try:
        refused = api.delete(f"/api/docker/volumes/{name}")
        assert refused.status_code == 409, refused.text
    finally:
        engine.remove_container(container["Id"], force=True)
    assert api.delete(f"/api/docker/volumes/{name}").status_code == 204


def test_volume_prune_removes_only_matching_unused_volumes(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    test_image: str,
    volumes_made: list[str],
) -> None:
    batch = secrets.token_hex(4)
    labels = {**LABEL, "skyport.prune": batch}
    unused = [_new_volume(api, volumes_made, labels=labels)["name"] for _ in range(2)]
    used = _new_volume(api, volumes_made, labels=labels)["name"]
    container = engine.create_container(
        test_image,
        command=["sleep", "3600"],
        labels=LABEL,
        host_config=engine.create_host_config(network_mode="none", binds=[f"{used}:/data"]),
    )
    try:
        response = api.post(
            "/api/docker/volumes/prune", params={"filters": f"label=skyport.prune={batch}"}
        )
        assert response.status_code == 200, response.text
        assert sorted(response.json()["deleted"]) == sorted(unused)
        assert engine.inspect_volume(used)
    finally:
        engine.remove_container(container["Id"], force=True)


# -- networks -----------------------------------------------------------------------------


def _new_network(api: TestClient[Litestar], made: list[str], **body: Any) -> dict[str, Any]:
    body.setdefault("labels", dict(LABEL))
    body.setdefault("internal", True)
    response = api.post("/api/docker/networks", json=body)
    assert response.status_code == 201, response.text
    made.append(response.json()["id"])
    return response.json()


def test_create_list_inspect_remove_an_internal_network(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    unique: Callable[[str], str],
    networks_made: list[str],
) -> None:
    name = unique("net")
    created = _new_network(api, networks_made, name=name, labels={**LABEL, "tier": "back"})
    assert created["name"] == name and created["engine"] == "local"
    info = engine.inspect_network(created["id"])
    assert info["Internal"] is True and info["Labels"]["tier"] == "back"
    assert info["Containers"] == {}

    listed = api.get("/api/docker/networks", params={"filters": f"name={name}"})
    assert listed.status_code == 200
    [row] = [n for n in listed.json() if n["name"] == name]
    assert row["id"] == created["id"] and row["internal"] and row["driver"] == "bridge"
    everywhere = api.get("/api/docker/networks", params={"engine": "all"}).json()
    assert any(n["id"] == created["id"] and n["engine"] == "local" for n in everywhere)

    inspected = api.get(f"/api/docker/networks/{name}")
    assert inspected.status_code == 200
    assert inspected.json()["id"] == created["id"] and inspected.json()["containers"] == []

    assert api.delete(f"/api/docker/networks/{name}").status_code == 204
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_network(created["id"])
    for method in ("get", "delete"):
        missing = api.request(method, f"/api/docker/networks/{name}")
        assert missing.status_code == 404 and name in missing.json()["detail"]


def test_network_name_conflict_validation_and_predefined_networks(
    api: TestClient[Litestar], unique: Callable[[str], str], networks_made: list[str]
) -> None:
    name = unique("net")
    _new_network(api, networks_made, name=name)
    again = api.post("/api/docker/networks", json={"name": name, "internal": True, "labels": LABEL})
    assert again.status_code == 409 and name in again.json()["detail"]

    for body, field in [
        ({"name": "-bad"}, "name"),
        ({"name": unique("net"), "subnet": "10.1.2.300/24"}, "subnet"),
        ({"name": unique("net"), "subnet": "10.1.2.1/24"}, "subnet"),
        ({"name": unique("net"), "subnet": "10.1.2.0/24", "gateway": "10.9.9.1"}, "gateway"),
        ({"name": unique("net"), "gateway": "10.9.9.1"}, "gateway"),
    ]:
        bad = api.post("/api/docker/networks", json={**body, "internal": True, "labels": LABEL})
        assert bad.status_code == 400, (body, bad.text)
        assert bad.json()["extra"] == {"field": field}

    predefined = api.delete("/api/docker/networks/none")
    assert predefined.status_code == 409 and "none" in predefined.json()["detail"]


def test_network_prune_removes_only_matching_networks(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    unique: Callable[[str], str],
    networks_made: list[str],
) -> None:
    batch = secrets.token_hex(4)
    mine = [
        _new_network(
            api, networks_made, name=unique("net"), labels={**LABEL, "skyport.prune": batch}
        )
        for _ in range(2)
    ]
    other = _new_network(api, networks_made, name=unique("net"))
    response = api.post(
        "/api/docker/networks/prune", params={"filters": f"label=skyport.prune={batch}"}
    )
    assert response.status_code == 200, response.text
    assert sorted(response.json()["deleted"]) == sorted(n["name"] for n in mine)
    assert engine.inspect_network(other["id"])


def test_volume_and_network_scopes(api: TestClient[Litestar]) -> None:
    viewer = bearer(user_token(api, "viewer"))
    assert api.get("/api/docker/volumes", headers=viewer).status_code == 200
    assert api.get("/api/docker/networks", headers=viewer).status_code == 200
    for path in ("/api/docker/volumes", "/api/docker/networks", "/api/docker/volumes/prune"):
        denied = api.post(path, json={"name": "x"}, headers=viewer)
        assert denied.status_code == 403, path
        assert denied.json()["extra"]["missing_scope"] == "docker:write"
