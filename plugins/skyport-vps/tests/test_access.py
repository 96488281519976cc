"""Who may use what through the vps plugin (issue 10), against the private sshd.

Key files and the SSH agent of the SkyPort server are its own identities
(``vps:local-keys``, admin); files on servers need ``vps:files`` (not viewers);
an import honours grants for its ProxyJump hosts.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from skyport.testing import bearer, login, wait_for

from .conftest import Keys, Sshd, server_body


def test_key_files_on_the_skyport_server_are_for_admins_others_upload_keys(
    api: TestClient[Litestar], make_user: Callable[[str, str], str], sshd: Sshd, keys: Keys
) -> None:
    operator = bearer(make_user("olga", "operator"))
    body = server_body("mine", sshd, keys)
    del body["private_key"]
    for auth, field in (({"key_file": str(keys.client)}, "key_file"), ({"agent": True}, "agent")):
        refused = api.post("/api/vps/servers", json={**body, **auth}, headers=operator)
        assert refused.status_code == 403, refused.text
        assert refused.json()["extra"] == {"field": field, "missing_scope": "vps:local-keys"}
    assert api.get("/api/vps/servers/mine").status_code == 404

    # The operator's own key, uploaded: stored encrypted, and it logs in.
    uploaded = {**body, "private_key": keys.client_pem}
    assert api.post("/api/vps/servers", json=uploaded, headers=operator).status_code == 201
    assert api.get("/api/vps/servers/mine/test", headers=operator).json()["ok"] is True
    switched = api.patch(
        "/api/vps/servers/mine", json={"key_file": str(keys.client)}, headers=operator
    )
    assert switched.status_code == 403, switched.text
    assert api.get("/api/vps/servers/mine").json()["auth"] == "private_key"

    # An admin may point at a key file.
    assert (
        api.patch("/api/vps/servers/mine", json={"key_file": str(keys.client)}).status_code == 200
    )
    assert api.get("/api/vps/servers/mine/test").json()["ok"] is True


def test_an_import_by_an_operator_takes_no_key_of_the_skyport_server(
    api: TestClient[Litestar], make_user: Callable[[str, str], str], sshd: Sshd, keys: Keys
) -> None:
    operator = bearer(make_user("olga", "operator"))
    config = f"Host alpha\n    HostName 127.0.0.1\n    Port {sshd.port}\n"
    config += f"    IdentityFile {keys.client}\n\nHost beta\n    HostName 127.0.0.1\n"
    answer = api.post("/api/vps/servers/import", json={"config": config}, headers=operator)
    assert answer.status_code == 201, answer.text
    assert answer.json()["added"] == []
    assert "vps:local-keys" in answer.json()["skipped"]["alpha"]
    assert "vps:local-keys" in answer.json()["skipped"]["beta"]


def test_a_viewer_cannot_read_or_write_files_on_a_server(
    api: TestClient[Litestar],
    make_user: Callable[[str, str], str],
    add_server: Callable[..., dict[str, Any]],
    sshd: Sshd,
    tmp_path: Path,
) -> None:
    add_server("web-1", sshd)
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret-hash:19000:0:99999:7:::\n")
    base = "/api/vps/servers/web-1/files"
    viewer = bearer(make_user("vic", "viewer"))
    for method, path, params in (
        ("GET", f"{base}/content", {"path": str(secret)}),
        ("GET", base, {"path": str(tmp_path)}),
        ("PUT", f"{base}/content", {"path": str(tmp_path / "dropped")}),
    ):
        refused = api.request(method, path, params=params, content=b"x", headers=viewer)
        assert refused.status_code == 403, refused.text
        assert refused.json()["extra"]["missing_scope"] == "vps:files"
        assert "secret-hash" not in refused.text
    assert not (tmp_path / "dropped").exists()

    operator = bearer(make_user("olga", "operator"))
    read = api.get(f"{base}/content", params={"path": str(secret)}, headers=operator)
    assert read.status_code == 200 and b"secret-hash" in read.content


def test_an_import_cannot_jump_through_a_server_not_granted(
    api: TestClient[Litestar],
    make_user: Callable[[str, str], str],
    add_server: Callable[..., dict[str, Any]],
    sshd: Sshd,
) -> None:
    """A role with the SkyPort server's keys, limited to web-1 by a grant."""
    add_server("web-1", sshd)
    add_server("db-1", sshd)
    scopes = ["vps:read", "vps:write", "vps:local-keys"]
    role = {"name": "importer", "scopes": scopes}
    assert api.post("/api/roles", json=role).status_code == 201
    make_user("ivan", "importer")
    grant = {"username": "ivan", "kind": "vps", "resource": "web-1"}
    assert api.post("/api/grants", json=grant).status_code == 201
    ivan = bearer(login(api, "ivan", "ivan-password"))

    config = (
        "Host inner\n    HostName 10.0.0.9\n    ProxyJump db-1\n\n"
        "Host outer\n    HostName 10.0.0.8\n    ProxyJump web-1\n"
    )
    answer = api.post("/api/vps/servers/import", json={"config": config}, headers=ivan)
    assert answer.status_code == 201, answer.text
    assert answer.json()["skipped"] == {"inner": "ProxyJump db-1 is not a known server"}
    assert [(s["name"], s["jump"]) for s in answer.json()["added"]] == [("outer", "web-1")]
    assert api.get("/api/vps/servers/inner").status_code == 404


# -- grants on topics and metrics ----------------------------------------------------------


def granted_only_web_1(
    api: TestClient[Litestar],
    make_user: Callable[[str, str], str],
    add_server: Callable[..., dict[str, Any]],
    sshd: Sshd,
) -> dict[str, str]:
    """Servers web-1 and db-1; an operator granted web-1 alone (their bearer header)."""
    add_server("web-1", sshd)
    add_server("db-1", sshd)
    make_user("gus", "operator")
    grant = {"username": "gus", "kind": "vps", "resource": "web-1"}
    assert api.post("/api/grants", json=grant).status_code == 201
    return bearer(login(api, "gus", "gus-password"))


def follow(ws: Any) -> list[dict[str, Any]]:
    """A run's messages until it is done (or nothing comes for 10 s)."""
    messages = []
    while True:
        try:
            data = ws.receive_json(timeout=10)["data"]
        except queue.Empty:
            return messages
        messages.append(data)
        if data.get("done"):
            return messages


def test_a_run_topic_carries_only_the_subscribers_servers(
    api: TestClient[Litestar],
    make_user: Callable[[str, str], str],
    add_server: Callable[..., dict[str, Any]],
    sshd: Sshd,
) -> None:
    gus = granted_only_web_1(api, make_user, add_server, sshd)
    job = "job-of-the-admin-1"
    topic = {"type": "subscribe", "topics": [f"vps.run:{job}"]}
    with (
        api.websocket_connect("/ws", headers=gus) as spy,
        api.websocket_connect("/ws", headers=dict(api.headers)) as owner,
    ):
        for ws in (spy, owner):
            ws.send_json(topic)
            assert ws.receive_json(timeout=10)["type"] == "subscribed"
        body = {"command": "echo secret-of-$(hostname)", "all": True, "job": job}
        assert api.post("/api/vps/run", json=body).status_code == 200
        seen, everything = follow(spy), follow(owner)

    assert {m["server"] for m in everything if "server" in m} == {"web-1", "db-1"}
    assert {m["server"] for m in seen if "server" in m} == {"web-1"}
    done = seen[-1]["job"]
    assert done["servers"] == ["web-1"] and list(done["results"]) == ["web-1"]


def test_metrics_show_only_granted_servers(
    make_settings: Callable[..., Any],
    make_user: Callable[[str, str], str],
    sshd: Sshd,
    keys: Keys,
) -> None:
    from skyport.app import create_app
    from skyport.plugins import PluginManager
    from skyport.testing import ADMIN_PASSWORD
    from skyport_vps import plugin

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="vps")
    settings = make_settings(
        vps={"metrics_interval": 1.0}, metrics={"interval": 1.0, "history": True}
    )
    with TestClient(create_app(settings, plugins=manager)) as api:
        api.headers.update(bearer(login(api, "admin", ADMIN_PASSWORD)))

        def add(name: str, _sshd: Sshd) -> dict[str, Any]:
            answer = api.post("/api/vps/servers", json=server_body(name, _sshd, keys))
            assert answer.status_code == 201, answer.text
            return dict(answer.json())

        gus = granted_only_web_1(api, make_user, add, sshd)

        def names(snapshot: dict[str, Any]) -> set[str]:
            return {s["name"] for s in (snapshot["collectors"]["vps"] or {}).get("servers", [])}

        wait_for(lambda: names(api.get("/api/metrics").json()) == {"web-1", "db-1"}, "both sampled")
        mine = api.get("/api/metrics", headers=gus).json()
        assert names(mine) == {"web-1"} and mine["collectors"]["vps"]["up"] == 1
        assert 'name="db-1"' in api.get("/metrics").text
        text = api.get("/metrics", headers=gus).text
        assert 'name="web-1"' in text and 'name="db-1"' not in text
        history = api.get("/api/metrics/history", params={"collector": "vps"}, headers=gus)
        points = history.json()["points"]
        assert points and all(
            {s["name"] for s in p["data"]["servers"]} <= {"web-1"} for p in points
        )
        with api.websocket_connect("/ws", headers=gus) as ws:
            ws.send_json({"type": "subscribe", "topics": ["metrics"]})
            assert ws.receive_json(timeout=10)["type"] == "subscribed"
            while (message := ws.receive_json(timeout=10))["data"]["collector"] != "vps":
                pass
        assert names({"collectors": {"vps": message["data"]["data"]}}) == {"web-1"}
