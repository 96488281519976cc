"""Host keys (first contact, trust, a changed key) and every kind of connection failure."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.testing import bearer

from .conftest import Keys, Sshd


def _add(api: TestClient[Litestar], keys: Keys, name: str, port: int, **extra: Any) -> None:
    body = {"name": name, "host": "127.0.0.1", "port": port, "private_key": keys.client_pem}
    answer = api.post("/api/vps/servers", json={**body, "user": "root", **extra})
    assert answer.status_code == 201, answer.text


def test_first_contact_needs_an_explicit_trust(
    api: TestClient[Litestar], sshd: Sshd, keys: Keys
) -> None:
    _add(api, keys, "fresh", sshd.port, user=sshd.user)
    expected = keys.host_fingerprint()

    refused = api.get("/api/vps/servers/fresh/test")
    assert refused.status_code == 409, refused.text
    assert refused.json()["extra"]["reason"] == "unknown_host_key"
    assert refused.json()["extra"]["fingerprint"] == expected
    assert expected in refused.json()["detail"]
    ran = api.post("/api/vps/run", json={"command": "true", "servers": ["fresh"]}).json()
    assert ran["results"]["fresh"]["reason"] == "unknown_host_key"

    shown = api.get("/api/vps/servers/fresh/host-key").json()
    assert shown["fingerprint"] == expected and shown["trusted"] is False
    wrong = api.post("/api/vps/servers/fresh/trust", json={"fingerprint": "SHA256:nope-nope"})
    assert wrong.status_code == 409 and expected in wrong.json()["detail"]
    assert api.get("/api/vps/servers/fresh").json()["trusted"] is False

    bare = expected.removeprefix("SHA256:") + "="  # as some tools print it
    trusted = api.post("/api/vps/servers/fresh/trust", json={"fingerprint": bare})
    assert trusted.status_code == 200, trusted.text
    assert trusted.json()["trusted"] is True
    assert trusted.json()["host_key_fingerprint"] == expected
    test = api.get("/api/vps/servers/fresh/test")
    assert test.status_code == 200, test.text
    assert test.json()["ok"] is True and test.json()["os"].startswith("Linux")
    assert test.json()["uptime"] > 0
    assert api.get("/api/vps/servers/fresh/host-key").json()["trusted"] is True
    audited = api.get("/api/audit", params={"action": "/test"}).json()["items"]
    assert [(i["target"], i["result"]) for i in audited] == [
        ("/api/vps/servers/fresh/test", "ok (200)"),
        ("/api/vps/servers/fresh/test", "failed (409)"),
    ]


def test_a_new_servers_host_key_is_shown_before_anything_is_sent(
    api: TestClient[Litestar], sshd: Sshd, keys: Keys, closed_port: int
) -> None:
    scanned = api.post("/api/vps/servers/scan", json={"host": "127.0.0.1", "port": sshd.port})
    assert scanned.status_code == 200, scanned.text
    assert scanned.json() == {
        "host": "127.0.0.1",
        "port": sshd.port,
        "key_type": "ssh-ed25519",
        "fingerprint": keys.host_fingerprint(),
    }
    assert api.get("/api/vps/servers").json() == []  # nothing was added
    body = {"user": sshd.user, "fingerprint": scanned.json()["fingerprint"]}
    _add(api, keys, "scanned", sshd.port, **body)
    assert api.get("/api/vps/servers/scanned/test").json()["ok"] is True
    refused = api.post("/api/vps/servers/scan", json={"host": "127.0.0.1", "port": closed_port})
    assert refused.status_code == 502 and "connection refused" in refused.json()["detail"]
    bad = api.post("/api/vps/servers/scan", json={"host": "a b", "port": 22})
    assert bad.status_code == 400 and bad.json()["extra"]["field"] == "host"
    unknown_jump = {"host": "127.0.0.1", "port": sshd.port, "jump": "nowhere"}
    assert api.post("/api/vps/servers/scan", json=unknown_jump).status_code == 400


def test_a_changed_host_key_is_refused_until_an_admin_trusts_it(
    api: TestClient[Litestar],
    keys: Keys,
    make_sshd: Callable[..., Sshd],
    make_user: Callable[[str, str], str],
) -> None:
    first = make_sshd()
    _add(api, keys, "moved", first.port, user=first.user, fingerprint=keys.host_fingerprint())
    assert api.get("/api/vps/servers/moved/test").status_code == 200
    first.stop()
    make_sshd(first.port, other_key=True)  # same address, another host key
    old, new = keys.host_fingerprint(), keys.host_fingerprint(other=True)

    refused = api.get("/api/vps/servers/moved/test")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["extra"]["reason"] == "host_key_changed"
    assert old in body["detail"] and new in body["detail"]
    assert body["extra"]["trusted_fingerprint"] == old and body["extra"]["fingerprint"] == new
    ran = api.post("/api/vps/run", json={"command": "true", "servers": ["moved"]}).json()
    assert ran["results"]["moved"]["reason"] == "host_key_changed"

    operator = bearer(make_user("olga", "operator"))
    denied = api.post("/api/vps/servers/moved/trust", json={"fingerprint": new}, headers=operator)
    assert denied.status_code == 403, denied.text
    assert api.get("/api/vps/servers/moved/test").status_code == 409

    accepted = api.post("/api/vps/servers/moved/trust", json={"fingerprint": new})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["host_key_fingerprint"] == new
    assert api.get("/api/vps/servers/moved/test").status_code == 200
    audit = api.get("/api/audit", params={"action": "vps.trust"}).json()["items"]
    assert any(e["target"] == "moved" and new in e["result"] for e in audit)


def test_each_failure_has_its_own_clear_answer(
    api: TestClient[Litestar],
    sshd: Sshd,
    keys: Keys,
    closed_port: int,
    silent_port: int,
) -> None:
    fp = keys.host_fingerprint()
    _add(api, keys, "refused", closed_port)
    _add(api, keys, "silent", silent_port)
    # An empty label: the name fails before any resolver query leaves the machine.
    body = {"name": "nodns", "host": "no-such-host..invalid", "port": 22, "agent": True}
    assert api.post("/api/vps/servers", json=body).status_code == 201
    stranger = keys.stranger.read_text()
    _add(api, keys, "badkey", sshd.port, user=sshd.user, private_key=stranger, fingerprint=fp)

    cases = {
        "refused": (502, "refused", "connection refused"),
        "silent": (504, "timeout", "did not speak SSH"),
        "nodns": (502, "dns", "cannot resolve host"),
        "badkey": (502, "auth_failed", "authentication failed"),
    }
    for name, (status, reason, words) in cases.items():
        answer = api.get(f"/api/vps/servers/{name}/test")
        assert answer.status_code == status, (name, answer.text)
        assert answer.json()["extra"]["reason"] == reason, (name, answer.text)
        assert words in answer.json()["detail"] and name in answer.json()["detail"]
        assert "PRIVATE" not in answer.text and stranger[40:80] not in answer.text

    ran = api.post(
        "/api/vps/run", json={"command": "true", "servers": list(cases), "timeout": 5}
    ).json()
    assert {n: r["reason"] for n, r in ran["results"].items()} == {
        n: reason for n, (_, reason, _) in cases.items()
    }


def test_a_server_is_reached_through_its_jump_host(
    api: TestClient[Litestar],
    sshd: Sshd,
    second_sshd: Sshd,
    keys: Keys,
    add_server: Callable[..., dict[str, Any]],
) -> None:
    add_server("bastion", sshd)
    inner = add_server("inner", second_sshd, jump="bastion")
    assert inner["jump"] == "bastion"
    ran = api.post("/api/vps/run", json={"command": "echo $SSH_CONNECTION", "servers": ["inner"]})
    result = ran.json()["results"]["inner"]
    assert result["exit_code"] == 0, result
    assert result["stdout"].split()[2:] == ["127.0.0.1", str(second_sshd.port)]
    assert api.delete("/api/vps/servers/bastion").status_code == 409  # still in use
    loop = api.patch("/api/vps/servers/bastion", json={"jump": "inner"})
    assert loop.status_code == 400 and "loop" in loop.text


def test_a_key_with_a_passphrase_needs_it(
    api: TestClient[Litestar], sshd: Sshd, keys: Keys, tmp_path: Path
) -> None:
    import subprocess

    locked = tmp_path / "locked_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "sesame-123", "-f", str(locked)],
        check=True,
        timeout=30,
    )
    (keys.folder / "authorized_keys").write_text(
        keys.client.with_suffix(".pub").read_text() + locked.with_suffix(".pub").read_text()
    )
    body = {
        "name": "locked",
        "host": "127.0.0.1",
        "port": sshd.port,
        "user": sshd.user,
        "private_key": locked.read_text(),
        "fingerprint": keys.host_fingerprint(),
    }
    missing = api.post("/api/vps/servers", json=body)
    assert missing.status_code == 400 and "passphrase" in missing.text
    wrong = api.post("/api/vps/servers", json={**body, "passphrase": "nope"})
    assert wrong.status_code == 400
    assert (
        api.post("/api/vps/servers", json={**body, "passphrase": "sesame-123"}).status_code == 201
    )
    assert api.get("/api/vps/servers/locked/test").json()["ok"] is True


def test_no_secret_reaches_the_logs(
    api: TestClient[Litestar],
    sshd: Sshd,
    keys: Keys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    password = "hunter2-but-longer-and-secret"
    body = {"name": "pw", "host": "127.0.0.1", "port": sshd.port, "user": sshd.user}
    body |= {"password": password, "fingerprint": keys.host_fingerprint()}
    with caplog.at_level(logging.DEBUG):
        assert api.post("/api/vps/servers", json=body).status_code == 201
        answer = api.get("/api/vps/servers/pw/test")
        ran = api.post("/api/vps/run", json={"command": "true", "servers": ["pw"]})
    assert answer.status_code == 502 and answer.json()["extra"]["reason"] == "auth_failed"
    assert ran.json()["results"]["pw"]["reason"] == "auth_failed"
    assert password not in caplog.text and password not in answer.text + ran.text
    audit = api.get("/api/audit").text
    assert password not in audit


def test_the_ssh_agent_logs_in(
    api: TestClient[Litestar],
    sshd: Sshd,
    keys: Keys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil
    import subprocess

    from skyport.testing import require_backend

    require_backend(bool(shutil.which("ssh-agent") and shutil.which("ssh-add")), "no ssh-agent")
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket_path)], stdout=subprocess.DEVNULL)
    try:
        environment = {"SSH_AUTH_SOCK": str(socket_path), "PATH": "/usr/bin:/bin"}
        for _ in range(100):
            if socket_path.exists():
                break
            time.sleep(0.05)
        subprocess.run(["ssh-add", "-q", str(keys.client)], env=environment, check=True, timeout=30)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket_path))
        body = {"name": "agent", "host": "127.0.0.1", "port": sshd.port, "user": sshd.user}
        body |= {"agent": True, "fingerprint": keys.host_fingerprint()}
        assert api.post("/api/vps/servers", json=body).status_code == 201
        tested = api.get("/api/vps/servers/agent/test")
        assert tested.status_code == 200, tested.text
        assert api.get("/api/vps/servers/agent").json()["auth"] == "agent"
    finally:
        agent.terminate()
        agent.wait(10)
