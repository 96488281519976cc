"""Running commands: in parallel, per-host results by name, a dead host, live output, audit."""

from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from .conftest import Keys, Sshd


def test_a_command_runs_on_a_list_a_tag_and_all_with_results_by_name(
    api: TestClient[Litestar],
    sshd: Sshd,
    second_sshd: Sshd,
    add_server: Callable[..., dict[str, Any]],
) -> None:
    add_server("web-1", sshd, tags=["web"])
    add_server("web-2", sshd, tags=["web"])  # the same endpoint under another name
    add_server("db-1", second_sshd, tags=["db"])

    one = api.post(
        "/api/vps/run", json={"command": "echo out; echo err >&2; exit 3", "servers": ["db-1"]}
    )
    assert one.status_code == 200, one.text
    result = one.json()["results"]["db-1"]
    assert result["exit_code"] == 3 and result["ok"] is False
    assert result["stdout"] == "out\n" and result["stderr"] == "err\n"
    assert result["duration"] > 0 and one.json()["ok"] is False

    tagged = api.post("/api/vps/run", json={"command": "echo $((6 * 7))", "tags": ["web"]}).json()
    assert sorted(tagged["results"]) == ["web-1", "web-2"]
    assert all(r["stdout"] == "42\n" and r["exit_code"] == 0 for r in tagged["results"].values())
    assert tagged["ok"] is True

    everywhere = api.post("/api/vps/run", json={"command": "true", "all": True}).json()
    assert list(everywhere["results"]) == ["db-1", "web-1", "web-2"]
    job = api.get(f"/api/vps/jobs/{everywhere['id']}")
    assert job.status_code == 200 and job.json()["results"]["web-2"]["exit_code"] == 0

    for bad, field in (
        ({"command": "true"}, "servers"),
        ({"command": "true", "all": True, "servers": ["db-1"]}, "all"),
        ({"command": "", "all": True}, "command"),
        ({"command": "true", "all": True, "job": "x"}, "job"),
        ({"command": "true", "all": True, "timeout": 0}, "timeout"),
    ):
        answer = api.post("/api/vps/run", json=bad)
        assert answer.status_code == 400, (bad, answer.text)
        assert field in answer.text
    assert (
        api.post("/api/vps/run", json={"command": "true", "servers": ["nope"]}).status_code == 404
    )
    assert api.post("/api/vps/run", json={"command": "true", "tags": ["nope"]}).status_code == 404


def test_a_dead_host_does_not_hold_up_the_others_and_output_streams_live(
    api: TestClient[Litestar],
    sshd: Sshd,
    keys: Keys,
    silent_port: int,
    closed_port: int,
    add_server: Callable[..., dict[str, Any]],
) -> None:
    add_server("good", sshd)
    for name, port in (("slow", silent_port), ("dead", closed_port)):
        body = {"name": name, "host": "127.0.0.1", "port": port, "agent": True}
        assert api.post("/api/vps/servers", json=body).status_code == 201

    job = "live-job-0001"
    with api.websocket_connect("/ws", headers=dict(api.headers)) as ws:
        ws.send_json({"type": "subscribe", "topics": [f"vps.run:{job}"]})
        assert ws.receive_json(timeout=10)["type"] == "subscribed"
        body = {"command": "echo first; echo second", "all": True, "job": job, "timeout": 5}
        answer = api.post("/api/vps/run", json=body)
        assert answer.status_code == 200, answer.text
        messages = []
        while True:
            try:
                message = ws.receive_json(timeout=10)
            except queue.Empty:
                break
            messages.append(message["data"])
            if message["data"].get("done"):
                break

    results = answer.json()["results"]
    assert results["good"]["ok"] is True and results["good"]["stdout"] == "first\nsecond\n"
    assert results["slow"]["reason"] == "timeout" and results["slow"]["exit_code"] is None
    assert results["dead"]["reason"] == "refused"

    finished = [m["server"] for m in messages if "result" in m]
    assert set(finished) == {"good", "slow", "dead"}
    assert finished.index("good") < finished.index("slow")  # not held up by the slow one
    streamed = "".join(m["data"] for m in messages if m.get("server") == "good" and "data" in m)
    assert streamed == "first\nsecond\n"
    assert messages[-1]["done"] is True and messages[-1]["job"]["ok"] is False

    entries = api.get("/api/audit", params={"action": "vps.run echo first; echo second"}).json()
    entry = entries["items"][0]
    assert entry["username"] == "admin" and entry["target"] == "dead,good,slow"
    assert "good=0" in entry["result"] and "slow=timeout" in entry["result"]


def test_a_command_that_runs_too_long_is_cut_at_its_timeout(
    api: TestClient[Litestar], sshd: Sshd, add_server: Callable[..., dict[str, Any]]
) -> None:
    add_server("web-1", sshd)
    body = {"command": "echo started; sleep 30", "servers": ["web-1"], "timeout": 1}
    result = api.post("/api/vps/run", json=body).json()["results"]["web-1"]
    assert result["reason"] == "command_timeout" and result["stdout"] == "started\n"
    again = api.post("/api/vps/run", json={"command": "echo ok", "servers": ["web-1"]}).json()
    assert again["results"]["web-1"]["stdout"] == "ok\n"


def test_connections_are_pooled_and_reused(
    api: TestClient[Litestar],
    vps_app: Litestar,
    sshd: Sshd,
    add_server: Callable[..., dict[str, Any]],
) -> None:
    add_server("web-1", sshd)
    add_server("web-2", sshd)
    for _ in range(100):
        answer = api.post("/api/vps/run", json={"command": "true", "all": True})
        assert answer.json()["ok"] is True
    pool = vps_app.state.contexts["vps"].state["vps"].pool
    assert pool.opened == 2 and pool.size() == 2
    # Changing a server closes its connection; the next use makes a new one.
    assert api.patch("/api/vps/servers/web-1", json={"notes": "x"}).status_code == 200
    api.post("/api/vps/run", json={"command": "true", "all": True})
    assert pool.opened == 3
    # Idle connections are closed.
    pool.settings = type(pool.settings)(idle_close=0.001)
    assert pool.reap() == 2 and pool.size() == 0


def test_large_output_is_cut_at_the_limit(
    api: TestClient[Litestar], sshd: Sshd, add_server: Callable[..., dict[str, Any]]
) -> None:
    add_server("web-1", sshd)
    body = {"command": "head -c 3000000 /dev/zero | tr '\\0' x", "servers": ["web-1"]}
    result = api.post("/api/vps/run", json=body).json()["results"]["web-1"]
    assert result["exit_code"] == 0 and result["truncated"] is True
    assert len(result["stdout"]) == 1024 * 1024


def test_thousands_of_calls_leak_no_threads_or_files(
    api: TestClient[Litestar],
    vps_app: Litestar,
    sshd: Sshd,
    add_server: Callable[..., dict[str, Any]],
) -> None:
    import threading

    import psutil

    names = [f"web-{i}" for i in range(10)]
    for name in names:
        add_server(name, sshd)
    body = {"command": "true", "all": True}
    assert api.post("/api/vps/run", json=body).json()["ok"] is True
    process = psutil.Process()

    def other_threads() -> int:  # the worker pool grows on demand, up to max_parallel
        return sum(1 for t in threading.enumerate() if not t.name.startswith("vps"))

    threads, files = other_threads(), process.num_fds()
    for _ in range(150):  # 1,500 commands
        assert api.post("/api/vps/run", json=body).json()["ok"] is True
    assert other_threads() <= threads + 2
    workers = [t for t in threading.enumerate() if t.name.startswith("vps")]
    assert len(workers) <= 64
    assert process.num_fds() <= files + len(workers) + 5
    pool = vps_app.state.contexts["vps"].state["vps"].pool
    assert pool.opened == len(names)


def test_parallel_bounds_how_many_servers_run_at_once(
    api: TestClient[Litestar],
    sshd: Sshd,
    add_server: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    for i in range(4):
        add_server(f"web-{i}", sshd)
    lock = tmp_path / "lock"
    # Fails on any server that starts while another holds the lock.
    command = f"mkdir {lock} && sleep 0.2 && rmdir {lock}"
    one_at_a_time = api.post("/api/vps/run", json={"command": command, "all": True, "parallel": 1})
    assert one_at_a_time.json()["ok"] is True, one_at_a_time.text


def test_a_dead_pooled_connection_is_replaced_transparently(
    api: TestClient[Litestar],
    vps_app: Litestar,
    make_sshd: Callable[..., Sshd],
    add_server: Callable[..., dict[str, Any]],
) -> None:
    first = make_sshd()
    add_server("web-1", first)
    assert api.post("/api/vps/run", json={"command": "true", "all": True}).json()["ok"] is True
    first.stop()  # the server restarts: its connections drop
    make_sshd(first.port)
    again = api.post("/api/vps/run", json={"command": "echo back", "all": True}).json()
    assert again["results"]["web-1"]["stdout"] == "back\n", again
    assert vps_app.state.contexts["vps"].state["vps"].pool.opened == 2
