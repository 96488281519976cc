"""SFTP round trip, the interactive shell over ``/ws/terminal``, the metrics collector."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from skyport.testing import TerminalProbe, bearer, login, promtool_problems

from .conftest import Sshd

WAIT = 20.0


def test_files_go_up_and_come_back_down(
    api: TestClient[Litestar],
    sshd: Sshd,
    add_server: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    add_server("web-1", sshd)
    folder = tmp_path / "remote"
    folder.mkdir()
    (folder / "sub").mkdir()
    payload = bytes(range(256)) * 4096  # 1 MiB, every byte value
    base = "/api/vps/servers/web-1/files"

    put = api.put(
        f"{base}/content",
        params={"path": str(folder / "blob.bin"), "mode": "0600"},
        content=payload,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 200, put.text
    assert put.json()["size"] == len(payload) and put.json()["mode"] == "0600"
    assert (folder / "blob.bin").read_bytes() == payload

    listed = api.get(base, params={"path": str(folder)})
    assert listed.status_code == 200, listed.text
    assert [(e["name"], e["kind"]) for e in listed.json()] == [("sub", "dir"), ("blob.bin", "file")]

    got = api.get(f"{base}/content", params={"path": str(folder / "blob.bin")})
    assert got.status_code == 200 and got.content == payload

    missing = api.get(f"{base}/content", params={"path": str(folder / "nope")})
    assert missing.status_code == 404 and "no such file" in missing.json()["detail"]
    is_dir = api.get(f"{base}/content", params={"path": str(folder)})
    assert is_dir.status_code == 400 and "is a directory" in is_dir.json()["detail"]
    not_dir = api.get(base, params={"path": str(folder / "blob.bin")})
    assert not_dir.status_code in (400, 404), not_dir.text
    bad_mode = api.put(
        f"{base}/content", params={"path": str(folder / "x"), "mode": "9z"}, content=b""
    )
    assert bad_mode.status_code == 400 and "mode" in bad_mode.text


def test_a_server_without_sftp_says_so(
    api: TestClient[Litestar],
    make_sshd: Callable[..., Sshd],
    add_server: Callable[..., dict[str, Any]],
) -> None:
    add_server("bare", make_sshd(sftp=False))
    answer = api.get("/api/vps/servers/bare/files", params={"path": "/"})
    assert answer.status_code == 502, answer.text
    assert "no SFTP" in answer.json()["detail"]
    ran = api.post("/api/vps/run", json={"command": "echo still", "servers": ["bare"]})
    assert ran.json()["results"]["bare"]["stdout"] == "still\n"


def test_files_beyond_the_limits_are_refused(
    make_settings: Callable[..., Any],
    sshd: Sshd,
    tmp_path: Path,
) -> None:
    from skyport.app import create_app
    from skyport.plugins import PluginManager
    from skyport.testing import ADMIN_PASSWORD, bearer, login
    from skyport_vps import plugin

    from .conftest import server_body

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="vps")
    app = create_app(make_settings(vps={"max_upload": 1000, "max_download": 1000}), plugins=manager)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 5000)
    with TestClient(app) as api:
        api.headers.update(bearer(login(api, "admin", ADMIN_PASSWORD)))
        assert (
            api.post("/api/vps/servers", json=server_body("web-1", sshd, sshd.keys)).status_code
            == 201
        )
        base = "/api/vps/servers/web-1/files/content"
        down = api.get(base, params={"path": str(big)})
        assert down.status_code == 413 and "download limit" in down.json()["detail"]
        up = api.put(base, params={"path": str(tmp_path / "up.bin")}, content=b"y" * 5000)
        assert up.status_code == 413
        assert not (tmp_path / "up.bin").exists()


def test_an_interactive_shell_echoes_and_resizes(
    api: TestClient[Litestar], sshd: Sshd, add_server: Callable[..., dict[str, Any]]
) -> None:
    add_server("web-1", sshd)
    providers = {t["name"]: t for t in api.get("/api/terminals").json()}
    assert providers["vps"]["scope"] == "vps:shell" and providers["vps"]["allowed"] is True
    url = "/ws/terminal?provider=vps&target=web-1&cols=100&rows=30"
    with api.websocket_connect(url, headers=dict(api.headers)) as ws:
        term = TerminalProbe(ws)
        ws.send_bytes(b"echo hi-$((40 + 2)); stty size\n")
        term.expect(b"hi-42\r\n")
        term.expect(b"30 100\r\n")
        ws.send_text(json.dumps({"type": "resize", "cols": 120, "rows": 40}))
        ws.send_bytes(b"stty size; exit 7\n")
        term.expect(b"40 120\r\n")
        assert term.expect_control("exit")["code"] == 7

    with api.websocket_connect(
        "/ws/terminal?provider=vps&target=nowhere", headers=dict(api.headers)
    ) as ws:
        error = TerminalProbe(ws).expect_control("error")
        assert "nowhere" in error["message"]


def test_a_shell_needs_a_grant_for_its_server(
    api: TestClient[Litestar],
    sshd: Sshd,
    add_server: Callable[..., dict[str, Any]],
    make_user: Callable[[str, str], str],
) -> None:
    add_server("web-1", sshd)
    add_server("db-1", sshd)
    role = {"name": "shell-user", "scopes": ["auth:self", "vps:read", "vps:shell"]}
    assert api.post("/api/roles", json=role).status_code == 201
    make_user("sam", "shell-user")
    grant = {"username": "sam", "kind": "vps", "resource": "web-1"}
    assert api.post("/api/grants", json=grant).status_code == 201
    sam = bearer(login(api, "sam", "sam-password"))

    with api.websocket_connect("/ws/terminal?provider=vps&target=db-1", headers=sam) as ws:
        refused = TerminalProbe(ws).expect_control("error")
        assert "db-1" in refused["message"]
    with api.websocket_connect("/ws/terminal?provider=vps&target=web-1", headers=sam) as ws:
        term = TerminalProbe(ws)
        ws.send_bytes(b"echo granted-$((6 * 7)); exit 3\n")
        term.expect(b"granted-42\r\n")
        assert term.expect_control("exit")["code"] == 3


def test_the_collector_reports_every_server_and_marks_dead_ones_down(
    api: TestClient[Litestar],
    sshd: Sshd,
    closed_port: int,
    add_server: Callable[..., dict[str, Any]],
) -> None:
    add_server("web-1", sshd)
    add_server("web-2", sshd)
    add_server("gone", sshd)
    assert api.patch("/api/vps/servers/gone", json={"port": closed_port}).status_code == 200
    deadline = time.monotonic() + WAIT
    while True:
        vps = api.get("/api/metrics").json()["collectors"].get("vps")
        if vps and len(vps["servers"]) == 3:
            break
        assert time.monotonic() < deadline, vps
        time.sleep(0.2)
    servers = {s["name"]: s for s in vps["servers"]}
    assert vps["up"] == 2 and vps["down"] == 1
    web = servers["web-1"]
    assert web["up"] is True and 0 <= web["cpu_percent"] <= 100
    assert web["memory_total"] > web["memory_available"] > 0 and 0 < web["memory_percent"] < 100
    assert web["disk_total"] > 0 and web["uptime"] > 0 and web["load1"] >= 0
    gone = servers["gone"]
    assert gone["up"] is False and "refused" in gone["error"] and gone["next_try"] > time.time()

    prometheus = api.get("/metrics").text
    assert 'skyport_vps_servers_cpu_percent{name="web-1"}' in prometheus
    assert promtool_problems(prometheus) == []


def test_a_down_server_is_not_retried_before_its_back_off(
    api: TestClient[Litestar],
    vps_app: Litestar,
    sshd: Sshd,
    closed_port: int,
    add_server: Callable[..., dict[str, Any]],
) -> None:
    from skyport_vps.metrics import Sampler

    add_server("gone", sshd)
    assert api.patch("/api/vps/servers/gone", json={"port": closed_port}).status_code == 200
    state = vps_app.state.contexts["vps"].state["vps"]
    sampler = Sampler(vps_app.state.contexts["vps"])
    server = state.inventory.get("gone")
    first = sampler.sample_one(server)
    assert first.up is False and first.next_try >= time.time() + 1.5  # two intervals of 1 s
    assert sampler.sample_one(server) is first  # within the back-off: not tried again
