"""The inventory: add, show, change, remove, import; secrets encrypted at rest; grants."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.store import Database
from skyport.testing import bearer, login, schema_differences
from skyport_vps import plugin
from skyport_vps.inventory import servers_table

from .conftest import Keys, Sshd


@pytest.mark.every_database
def test_servers_are_added_listed_changed_and_removed(
    api: TestClient[Litestar], sshd: Sshd, keys: Keys
) -> None:
    body = {
        "name": "web-1",
        "host": "127.0.0.1",
        "port": sshd.port,
        "user": sshd.user,
        "private_key": keys.client_pem,
        "tags": ["web", "prod"],
        "notes": "the front",
    }
    added = api.post("/api/vps/servers", json=body)
    assert added.status_code == 201, added.text
    info = added.json()
    assert info["name"] == "web-1" and info["auth"] == "private_key"
    assert info["tags"] == ["web", "prod"] and info["trusted"] is False
    assert "private_key" not in info and "secret" not in info
    assert keys.client_pem.split("\n")[1] not in added.text

    assert [s["name"] for s in api.get("/api/vps/servers").json()] == ["web-1"]
    assert [s["name"] for s in api.get("/api/vps/servers?tag=prod").json()] == ["web-1"]
    assert api.get("/api/vps/servers?tag=db").json() == []
    assert api.get("/api/vps/servers/web-1").json()["notes"] == "the front"
    assert api.post("/api/vps/servers", json=body).status_code == 409

    changed = api.patch("/api/vps/servers/web-1", json={"tags": ["web"], "port": sshd.port})
    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["web"]
    assert api.delete("/api/vps/servers/web-1").status_code == 204
    assert api.get("/api/vps/servers/web-1").status_code == 404
    assert api.get("/api/vps/servers").json() == []


def test_bad_servers_are_refused_with_the_field_named(
    api: TestClient[Litestar], keys: Keys
) -> None:
    def add(**body: Any) -> Any:
        base = {"name": "x", "host": "127.0.0.1", "user": "root", "agent": True}
        return api.post("/api/vps/servers", json={**base, **body})

    cases = [
        ({"name": "all"}, "name"),
        ({"name": "a/b"}, "name"),
        ({"host": "bad host"}, "host"),
        ({"user": "a b"}, "user"),
        ({"port": 70000}, "port"),
        ({"tags": ["no spaces"]}, "tags"),
        ({"agent": False}, "private_key"),
        ({"password": "pw"}, "password"),
        ({"agent": False, "private_key": "not a key"}, "private_key"),
        ({"jump": "nowhere"}, "jump"),
    ]
    for body, field in cases:
        answer = add(**body)
        assert answer.status_code == 400, (body, answer.text)
        assert field in answer.text, (body, answer.text)
    assert api.get("/api/vps/servers").json() == []


def test_secrets_are_stored_encrypted(
    api: TestClient[Litestar], sshd: Sshd, keys: Keys, tmp_path: Path
) -> None:
    password = "correct-horse-battery-staple-42"
    for body in (
        {"name": "k", "private_key": keys.client_pem},
        {"name": "p", "password": password},
    ):
        base = {"host": "127.0.0.1", "port": sshd.port, "user": sshd.user}
        assert api.post("/api/vps/servers", json={**base, **body}).status_code == 201
    key_body = "".join(keys.client_pem.splitlines()[1:-1])
    database = next((tmp_path / "data").glob("*.db"))
    raw = database.read_bytes()
    for wal in database.parent.glob("*.db-wal"):
        raw += wal.read_bytes()
    assert password.encode() not in raw
    assert key_body[:40].encode() not in raw
    assert b"PRIVATE KEY" not in raw
    with sqlite3.connect(database) as conn:
        secrets = [row[0] for row in conn.execute("SELECT secret FROM vps_servers")]
    assert all(s.startswith("v1:") for s in secrets)
    # Nothing secret in any answer either.
    listed = api.get("/api/vps/servers").text
    assert password not in listed and key_body[:40] not in listed


@pytest.mark.every_database
def test_a_user_sees_and_reaches_only_granted_servers(
    api: TestClient[Litestar],
    make_user: Callable[[str, str], str],
    add_server: Callable[..., dict[str, Any]],
    sshd: Sshd,
) -> None:
    add_server("web-1", sshd, tags=["web"])
    add_server("db-1", sshd, tags=["db"])
    make_user("gus", "operator")
    grant = api.post("/api/grants", json={"username": "gus", "kind": "vps", "resource": "web-1"})
    assert grant.status_code == 201, grant.text
    gus = bearer(login(api, "gus", "gus-password"))

    assert [s["name"] for s in api.get("/api/vps/servers", headers=gus).json()] == ["web-1"]
    assert api.get("/api/vps/servers/db-1", headers=gus).status_code == 404
    assert api.get("/api/vps/servers/db-1/test", headers=gus).status_code == 404
    assert api.get("/api/vps/servers/db-1/files", headers=gus).status_code == 404
    assert api.delete("/api/vps/servers/db-1", headers=gus).status_code == 404
    refused = api.post("/api/vps/run", json={"command": "true", "servers": ["db-1"]}, headers=gus)
    assert refused.status_code == 404
    everywhere = api.post("/api/vps/run", json={"command": "echo hi", "all": True}, headers=gus)
    assert everywhere.status_code == 200, everywhere.text
    assert list(everywhere.json()["results"]) == ["web-1"]
    assert api.get("/api/vps/servers/web-1/test", headers=gus).status_code == 200

    # A viewer may look but not run.
    viewer = bearer(make_user("vic", "viewer"))
    assert api.get("/api/vps/servers", headers=viewer).status_code == 200
    no_run = api.post("/api/vps/run", json={"command": "true", "all": True}, headers=viewer)
    assert no_run.status_code == 403


@pytest.mark.every_database
def test_hosts_are_imported_from_an_openssh_config(
    api: TestClient[Litestar], sshd: Sshd, keys: Keys
) -> None:
    config = f"""
Host *
    ServerAliveInterval 30

Host alpha
    HostName 127.0.0.1
    Port {sshd.port}
    User {sshd.user}
    IdentityFile {keys.client}

Host beta
    HostName 127.0.0.1
    User deploy
    ProxyJump alpha

Host gamma
    HostName 127.0.0.1
    ProxyCommand nc %h %p

Host *.internal
    User ops
"""
    answer = api.post("/api/vps/servers/import", json={"config": config, "tags": ["imported"]})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    added = {s["name"]: s for s in body["added"]}
    assert set(added) == {"alpha", "beta"}
    assert added["alpha"]["auth"] == "key_file" and added["alpha"]["key_file"] == str(keys.client)
    assert added["alpha"]["port"] == sshd.port and added["alpha"]["tags"] == ["imported"]
    assert added["beta"]["jump"] == "alpha" and added["beta"]["user"] == "deploy"
    assert added["beta"]["auth"] == "agent"
    assert "ProxyCommand" in body["skipped"]["gamma"]
    again = api.post("/api/vps/servers/import", json={"config": config}).json()
    assert again["added"] == [] and "exists" in again["skipped"]["alpha"]

    # The imported key file works once the host key is trusted.
    fp = keys.host_fingerprint()
    assert api.post("/api/vps/servers/alpha/trust", json={"fingerprint": fp}).status_code == 200
    assert api.get("/api/vps/servers/alpha/test").json()["ok"] is True


def test_text_that_is_no_ssh_config_is_a_400(api: TestClient[Litestar]) -> None:
    answer = api.post("/api/vps/servers/import", json={"config": " 2\U0010a85b\x16"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["extra"] == {"field": "config"}
    assert "not an OpenSSH client config" in answer.json()["detail"]


def test_servers_sharing_one_database_see_each_others_changes(
    make_settings: Callable[..., Any], sshd: Sshd, keys: Keys
) -> None:
    from skyport.app import create_app
    from skyport.plugins import PluginManager
    from skyport.testing import ADMIN_PASSWORD
    from skyport_vps import plugin

    def server() -> TestClient[Litestar]:
        manager = PluginManager(strict=True, use_entry_points=False)
        manager.register(plugin, name="vps")
        return TestClient(create_app(make_settings(), plugins=manager))

    with server() as first, server() as second:
        for client in (first, second):
            client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        body = {"name": "shared", "host": "127.0.0.1", "port": sshd.port, "agent": True}
        assert first.post("/api/vps/servers", json=body).status_code == 201
        assert [s["name"] for s in second.get("/api/vps/servers").json()] == ["shared"]
        assert second.post("/api/vps/servers", json=body).status_code == 409
        assert second.patch("/api/vps/servers/shared", json={"notes": "b"}).status_code == 200
        assert first.get("/api/vps/servers/shared").json()["notes"] == "b"
        assert first.delete("/api/vps/servers/shared").status_code == 204
        assert second.get("/api/vps/servers/shared").status_code == 404


def test_a_key_stored_by_0_1_0_still_logs_in(
    data_dir_from_0_1_0: dict[str, Any], vps_app: Litestar, sshd: Sshd, keys: Keys
) -> None:
    """The encrypted private key in a 0.1.0 data dir decrypts and opens a real session."""
    authorized = keys.folder / "authorized_keys"
    authorized.write_text(authorized.read_text() + data_dir_from_0_1_0["vps_public_key"])
    with TestClient(vps_app) as client:
        client.headers.update(
            bearer(login(client, "admin", data_dir_from_0_1_0["passwords"]["admin"]))
        )
        moved = client.patch("/api/vps/servers/web-1", json={"port": sshd.port, "user": sshd.user})
        assert moved.status_code == 200, moved.text
        trusted = client.post(
            "/api/vps/servers/web-1/trust", json={"fingerprint": keys.host_fingerprint()}
        )
        assert trusted.status_code == 200, trusted.text
        answer = client.post("/api/vps/run", json={"command": "echo adopted", "servers": ["web-1"]})
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["results"]["web-1"]["stdout"] == "adopted\n"


@pytest.mark.every_database
async def test_the_tables_match_their_migrations(database_url: str) -> None:
    from skyport_vps.metrics import metadata

    database = Database(database_url)
    await database.migrate({"vps": plugin.register_migrations()})
    assert await schema_differences(database, servers_table.metadata) == []
    assert await schema_differences(database, metadata) == []
    await database.dispose()


@pytest.mark.every_database
async def test_a_stored_round_of_samples_replaces_the_last_one(database_url: str) -> None:
    """What the leader writes is what every node reads: the round, when, and the last
    demand; the servers the new round leaves out are gone."""
    from skyport_vps.metrics import SampleStore, ServerMetrics

    database = Database(database_url)
    await database.migrate({"vps": plugin.register_migrations()})
    store = SampleStore(database)
    empty = await store.read()
    assert (empty.servers, empty.sampled_at, empty.wanted_at) == ([], None, None)
    web = ServerMetrics(name="web-1", up=True, cpu_percent=12.5, sampled_at=100.0)
    gone = ServerMetrics(name="db-1", up=False, error="refused", next_try=130.0)
    await store.write([web, gone], 101.0)
    await store.want(102.0)
    first = await store.read()
    assert first.servers == [gone, web] and (first.sampled_at, first.wanted_at) == (101.0, 102.0)
    await store.write([web], 111.0)
    second = await store.read()
    assert second.servers == [web] and (second.sampled_at, second.wanted_at) == (111.0, 102.0)
    await store.write([], 121.0)
    assert (await store.read()).servers == []
    await database.dispose()
