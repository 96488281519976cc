"""Two nodes on one PostgreSQL behind HAProxy: one system, whichever node answers.

The last test kills a node: tests after it would see one node only.
The nodes sample vps metrics every second (``VPS_METRICS_INTERVAL``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from skyport.cluster.signing import CLIENT_HEADER, SIGNATURE_HEADER
from skyport.testing import ADMIN_PASSWORD, free_port, wait_for

from .conftest import REPOSITORY, SKYPORT, VPS, Cluster, Node, bearer, login, make_nodes, ws_url

WAIT = 15.0
"""Seconds an event or a revocation may take to reach the other node (polling is 60 s)."""


@pytest.fixture(scope="module")
def token(cluster: Cluster) -> str:
    """An admin session opened through the balancer."""
    return login(cluster.balancer.url)


def frames(socket: ClientConnection, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first frame ``wanted`` accepts within :data:`WAIT` seconds."""
    deadline = time.monotonic() + WAIT
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            break
        if wanted(frame):
            return frame
    raise AssertionError(f"no such frame within {WAIT:g} s")


def subscribe(socket: ClientConnection, *topics: str) -> None:
    socket.send(json.dumps({"type": "subscribe", "topics": list(topics)}))
    frames(socket, lambda f: f.get("type") == "subscribed")


def test_nodes_racing_on_a_fresh_database_migrate_it_once(cluster: Cluster) -> None:
    """The fixture started both nodes at once on an empty database: both came up, one
    applied the schema under the advisory lock, the other found it done; one admin."""
    applied = [n.name for n in cluster.nodes if "database schema: applied" in n.log_text()]
    assert len(applied) == 1, applied
    created = [n.name for n in cluster.nodes if "SkyPort created the first user" in n.log_text()]
    assert len(created) <= 1  # (the password comes from the environment: nothing printed)


def test_a_second_node_under_a_running_nodes_name_is_refused(
    cluster: Cluster, tmp_path: Path
) -> None:
    (twin,) = make_nodes(tmp_path, cluster.database_url, ["node-a"])
    twin.secret = cluster.nodes[0].secret
    twin.start()
    try:
        assert twin.process is not None
        assert twin.process.wait(timeout=90) != 0
    finally:
        twin.stop()
    assert "node name 'node-a' is taken by a running node" in twin.log_text()


def test_each_node_lists_both_up_with_what_it_manages(cluster: Cluster, token: str) -> None:
    for node in cluster.nodes:
        listed = httpx.get(f"{node.url}/api/nodes", headers=bearer(token), timeout=10).json()
        assert {n["name"]: n["state"] for n in listed} == {"node-a": "up", "node-b": "up"}
        this = next(n for n in listed if n["this"])
        assert this["name"] == node.name and this["url"] == node.url
    assert all(
        {"docker", "pm2"} <= set(n["manages"]) and str(n["manages"]["pm2"]).endswith("/pm2")
        for n in listed
    )

    def leaders() -> list[str]:
        listed = httpx.get(f"{cluster.balancer.url}/api/nodes", headers=bearer(token)).json()
        return [n["name"] for n in listed if "core.housekeeping" in n["roles"]]

    assert len(wait_for(leaders, "a node leading core.housekeeping", timeout=WAIT)) == 1


def test_a_session_opened_through_the_balancer_works_on_every_node(
    cluster: Cluster, token: str
) -> None:
    answered_by = set()
    for _ in range(4):
        response = httpx.get(f"{cluster.balancer.url}/api/auth/me", headers=bearer(token))
        assert response.status_code == 200
        answered_by.add(response.headers["x-skyport-node"])
    assert answered_by == {"node-a", "node-b"}  # round robin
    for node in cluster.nodes:
        me = httpx.get(f"{node.url}/api/auth/me", headers=bearer(token)).json()
        assert me["username"] == "admin"


def test_a_browser_sticks_to_one_node_through_the_balancer(cluster: Cluster) -> None:
    with httpx.Client(base_url=cluster.balancer.url) as browser:  # keeps cookies
        logged_in = browser.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert logged_in.status_code == 200
        answered_by = {browser.get("/api/auth/me").headers["x-skyport-node"] for _ in range(6)}
    assert answered_by == {logged_in.headers["x-skyport-node"]}


def test_failed_logins_on_one_node_lock_the_client_out_on_the_other(cluster: Cluster) -> None:
    node_a, node_b = cluster.nodes
    guesser = {"X-Forwarded-For": "203.0.113.77"}
    wrong = {"username": "admin", "password": "not-the-password"}
    for _ in range(5):
        answer = httpx.post(f"{node_a.url}/api/auth/login", json=wrong, headers=guesser)
        assert answer.status_code == 401
    answer = httpx.post(
        f"{node_b.url}/api/auth/login",
        json={"username": "admin", "password": "still-wrong"},
        headers=guesser,
    )
    assert answer.status_code == 429, answer.text


def test_logout_on_one_node_ends_the_websocket_on_the_other(cluster: Cluster) -> None:
    node_a, node_b = cluster.nodes
    session = login(node_a.url)
    with connect(ws_url(node_b.url), additional_headers=bearer(session)) as socket:
        subscribe(socket, "metrics")
        assert httpx.post(f"{node_a.url}/api/auth/logout", headers=bearer(session)).is_success
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                socket.recv(timeout=WAIT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_the_audit_feed_of_one_node_reaches_the_admins_of_the_other(
    cluster: Cluster, token: str
) -> None:
    node_a, node_b = cluster.nodes
    with connect(ws_url(node_b.url), additional_headers=bearer(token)) as socket:
        subscribe(socket, "audit")
        created = httpx.post(
            f"{node_a.url}/api/users",
            json={"username": "cluster-viewer", "password": "viewer-password-1", "role": "viewer"},
            headers=bearer(token),
        )
        assert created.status_code == 201, created.text
        frame = frames(socket, lambda f: f.get("topic") == "audit")
    assert frame["node"] == "node-a"
    assert frame["data"]["action"] == "POST /api/users" and frame["data"]["username"] == "admin"


def test_a_viewer_may_not_follow_the_audit_feed(cluster: Cluster) -> None:
    viewer = httpx.post(
        f"{cluster.balancer.url}/api/auth/login",
        json={"username": "cluster-viewer", "password": "viewer-password-1"},
    ).json()["token"]
    with connect(ws_url(cluster.nodes[1].url), additional_headers=bearer(viewer)) as socket:
        socket.send(json.dumps({"type": "subscribe", "topics": ["audit"]}))
        refused = frames(socket, lambda f: f.get("type") == "error")
    assert "audit:read" in refused["message"]


def test_a_docker_engine_added_on_one_node_is_known_to_the_other(
    cluster: Cluster, token: str
) -> None:
    node_a, node_b = cluster.nodes

    def engines_on_b() -> set[str]:
        listed = httpx.get(f"{node_b.url}/api/docker/engines", headers=bearer(token)).json()
        return {e["name"] for e in listed}

    added = httpx.post(
        f"{node_a.url}/api/docker/engines",
        json={"name": "shared-too", "url": "unix:///var/run/docker.sock", "check": False},
        headers=bearer(token),
    )
    assert added.status_code == 201, added.text
    wait_for(lambda: "shared-too" in engines_on_b(), "node-b to know the engine", timeout=WAIT)
    removed = httpx.delete(f"{node_b.url}/api/docker/engines/shared-too", headers=bearer(token))
    assert removed.is_success, removed.text

    def engines_on_a() -> set[str]:
        listed = httpx.get(f"{node_a.url}/api/docker/engines", headers=bearer(token)).json()
        return {e["name"] for e in listed}

    wait_for(lambda: "shared-too" not in engines_on_a(), "node-a to forget it", timeout=WAIT)


def test_docker_events_of_every_node_reach_a_client_of_one(
    cluster: Cluster, token: str, busybox_image: str
) -> None:
    """node-b's client follows docker.events: node-a starts following its own engine
    too (the nodes share this machine's engine, so both report the container)."""
    node_a, node_b = cluster.nodes
    name = f"cluster-events-{int(time.time() * 1000)}"
    with connect(ws_url(node_b.url), additional_headers=bearer(token)) as socket:
        subscribe(socket, "docker.events")
        time.sleep(2 * 1.0)  # node-a hears of the interest (at once, or on its heartbeat)
        run = httpx.post(
            f"{node_a.url}/api/docker/run",
            json={"image": busybox_image, "name": name, "command": "true", "network_mode": "none"},
            headers=bearer(token),
            timeout=60,
        )
        assert run.status_code in (200, 201), run.text
        seen: set[str] = set()
        while seen != {"node-a", "node-b"}:
            frame = frames(
                socket,
                lambda f: f.get("topic") == "docker.events" and name in json.dumps(f["data"]),
            )
            seen.add(frame["node"])
    httpx.delete(
        f"{node_a.url}/api/docker/containers/{name}",
        params={"force": "true"},
        headers=bearer(token),
    )


def test_pm2_events_of_one_node_reach_a_client_of_the_other(
    cluster: Cluster, token: str, tmp_path: Path
) -> None:
    """A process started on node-b's own daemon: node-a's client hears of it."""
    node_a, node_b = cluster.nodes
    script = tmp_path / "heard.js"
    script.write_text("setInterval(() => {}, 1000);\n")
    with connect(ws_url(node_a.url), additional_headers=bearer(token)) as socket:
        subscribe(socket, "pm2.events")
        time.sleep(2 * 1.0)  # node-b hears of the interest (at once, or on its heartbeat)
        started = httpx.post(
            f"{node_b.url}/api/pm2/start",
            json={"script": str(script), "name": "heard-on-a"},
            headers=bearer(token),
            timeout=60,
        )
        assert started.status_code == 201, started.text
        frame = frames(
            socket, lambda f: f.get("topic") == "pm2.events" and "heard-on-a" in json.dumps(f)
        )
    assert frame["node"] == "node-b"
    httpx.delete(f"{node_b.url}/api/pm2/processes/heard-on-a", headers=bearer(token), timeout=30)


def test_node_reaches_the_other_nodes_pm2_processes(
    cluster: Cluster, token: str, tmp_path: Path
) -> None:
    node_a = cluster.nodes[0]
    script = tmp_path / "idle.js"
    script.write_text("setInterval(() => {}, 1000);\n")
    started = httpx.post(
        f"{node_a.url}/api/pm2/start",
        params={"node": "node-b"},
        json={"script": str(script), "name": "lives-on-b"},
        headers=bearer(token),
        timeout=60,
    )
    assert started.status_code == 201, started.text
    assert started.headers["x-skyport-node"] == "node-b"

    def names(node: str) -> set[str]:
        answer = httpx.get(
            f"{node_a.url}/api/pm2/list", params={"node": node}, headers=bearer(token), timeout=30
        )
        assert answer.status_code == 200, answer.text
        return {p["name"] for p in answer.json()}

    assert "lives-on-b" in names("node-b")
    assert "lives-on-b" not in names("node-a")
    everywhere = httpx.get(
        f"{node_a.url}/api/pm2/list", params={"node": "all"}, headers=bearer(token), timeout=30
    )
    assert {(p["name"], p["node"]) for p in everywhere.json()} >= {("lives-on-b", "node-b")}
    assert "x-skyport-nodes-left-out" not in everywhere.headers


def run_cli(cluster: Cluster, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``skyport ARGS`` as a program, pointed at node-a with ``token``; it must succeed."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SKYPORT_")},
        "SKYPORT_URL": cluster.nodes[0].url,
        "SKYPORT_TOKEN": token,
        "HOME": str(cluster.nodes[0].home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    done = subprocess.run(
        [str(SKYPORT), *args], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_cli_lists_nodes_and_acts_on_another_node(cluster: Cluster, token: str) -> None:
    def cli(*args: str) -> Any:
        return json.loads(run_cli(cluster, token, *args).stdout)

    assert {n["name"] for n in cli("nodes", "--json")} == {"node-a", "node-b"}
    assert "lives-on-b" in {p["name"] for p in cli("--node", "node-b", "pm2", "list", "--json")}
    assert "lives-on-b" not in {p["name"] for p in cli("pm2", "list", "--json", "--node=node-a")}


def test_deploy_runs_a_project_on_the_node_named(
    cluster: Cluster, token: str, tmp_path: Path
) -> None:
    project, port = tmp_path / "on-b", free_port()
    shutil.copytree(REPOSITORY / "plugins/skyport-deploy/tests/samples/node-http", project)
    deploy = ("deploy", str(project), "--port", str(port), "--node", "node-b", "--json")
    release = json.loads(run_cli(cluster, token, *deploy).stdout)
    assert release["state"] == "live", release
    assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).json()["app"] == "node"
    listed = json.loads(run_cli(cluster, token, "deploy", "ls", "--json", "--node", "all").stdout)
    assert [(a["name"], a["node"]) for a in listed if a["name"] == "on-b"] == [("on-b", "node-b")]
    # Node A's PM2 does not run it: node A says where it runs.
    elsewhere = httpx.get(f"{cluster.nodes[0].url}/api/deploy/apps/on-b", headers=bearer(token))
    assert elsewhere.status_code == 404 and "is on node node-b" in elsewhere.json()["detail"]
    run_cli(cluster, token, "--node", "node-b", "deploy", "rm", "on-b", "--yes")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_a_websocket_reaches_the_other_nodes_live_data(cluster: Cluster, token: str) -> None:
    node_a = cluster.nodes[0]
    url = ws_url(node_a.url, "/ws?node=node-b")
    with connect(url, additional_headers=bearer(token)) as socket:
        subscribe(socket, "metrics")
        frame = frames(socket, lambda f: f.get("topic") == "metrics")
    assert frame["node"] == "node-b"


def shell_home(url: str, token: str) -> str:
    """The HOME of a host shell opened at ``url`` (/ws/terminal…), i.e. which node's."""
    output = b""
    with connect(url, additional_headers=bearer(token)) as socket:
        socket.send(json.dumps({"type": "input", "data": 'echo "at:$HOME:"; exit\n'}))
        deadline = time.monotonic() + WAIT
        while (found := re.search(rb"at:(/[^:\r\n]+):", output)) is None:
            left = deadline - time.monotonic()
            assert left > 0, output[-500:]
            frame = socket.recv(timeout=left)
            output += frame if isinstance(frame, bytes) else b""
    return found.group(1).decode()


def test_a_terminal_opens_on_the_node_named(cluster: Cluster, token: str) -> None:
    """A shell on node-b through node-a: its HOME is node-b's."""
    url = ws_url(cluster.nodes[0].url, "/ws/terminal?provider=host&node=node-b")
    assert shell_home(url, token) == str(cluster.nodes[1].home)


def test_terminals_through_the_balancer_stick_to_one_node(cluster: Cluster, token: str) -> None:
    url = ws_url(cluster.balancer.url, "/ws/terminal?provider=host")
    homes = {shell_home(url, token) for _ in range(3)}
    assert len(homes) == 1 and homes <= {str(n.home) for n in cluster.nodes}


def test_an_unknown_node_is_a_404_and_node_all_is_for_reading(cluster: Cluster, token: str) -> None:
    base = cluster.nodes[0].url
    unknown = httpx.get(f"{base}/api/metrics", params={"node": "nope"}, headers=bearer(token))
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    write = httpx.post(
        f"{base}/api/pm2/start", params={"node": "all"}, json={}, headers=bearer(token)
    )
    assert write.status_code == 400 and "node=all" in write.json()["detail"]


def test_a_forged_node_signature_is_refused(cluster: Cluster, token: str) -> None:
    forged = {
        **bearer(token),
        SIGNATURE_HEADER: f"node-a {int(time.time())} {'0' * 64}",
        CLIENT_HEADER: "198.51.100.1",
    }
    answer = httpx.get(f"{cluster.nodes[1].url}/api/metrics", headers=forged)
    assert answer.status_code == 403 and "node-to-node" in answer.json()["detail"]


def test_nginx_in_front_balances_sessions_and_websockets(nginx: str) -> None:
    token = login(nginx)
    answered_by = {
        httpx.get(f"{nginx}/api/auth/me", headers=bearer(token)).headers["x-skyport-node"]
        for _ in range(4)
    }
    assert answered_by == {"node-a", "node-b"}
    with connect(ws_url(nginx), additional_headers=bearer(token)) as socket:
        subscribe(socket, "metrics")
        assert frames(socket, lambda f: f.get("topic") == "metrics")["node"] in answered_by


def sshd_connections(node: Node, port: int) -> int:
    """The open TCP connections of ``node``'s process (and its children) to ``port``."""
    assert node.process is not None
    process = psutil.Process(node.process.pid)
    count = 0
    for each in (process, *process.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            count += sum(
                1
                for c in each.net_connections(kind="tcp")
                if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
            )
    return count


def test_one_node_polls_the_servers_and_every_node_shows_their_metrics(
    cluster: Cluster, token: str, sshd: Any, keys: Any
) -> None:
    """The vps metrics poller is leader work: one node holds ``vps.metrics`` and SSHes to
    the servers; the other has no connection to them, yet shows the same server up."""
    headers = bearer(token)

    def leaders() -> list[str]:
        listed = httpx.get(f"{cluster.balancer.url}/api/nodes", headers=headers, timeout=10)
        return [n["name"] for n in listed.json() if "vps.metrics" in n["roles"]]

    (leading,) = wait_for(leaders, "a node leading vps.metrics", timeout=WAIT)
    leader = cluster.node(leading)
    (other,) = [n for n in cluster.nodes if n is not leader]
    body = VPS.server_body("polled", sshd, keys)  # added through the node that does not poll
    added = httpx.post(f"{other.url}/api/vps/servers", json=body, headers=headers, timeout=30)
    assert added.status_code == 201, added.text
    try:

        def polled_up(node: Node, after: float = 0.0) -> dict[str, Any] | None:
            """Server ``polled`` as ``node`` shows it, if up and sampled after ``after``."""
            answer = httpx.get(f"{node.url}/api/metrics", headers=headers, timeout=30).json()
            servers = (answer["collectors"].get("vps") or {}).get("servers", [])
            return next(
                (
                    s
                    for s in servers
                    if s["name"] == "polled" and s["up"] and s["sampled_at"] > after
                ),
                None,
            )

        for node in cluster.nodes:
            shown = wait_for(lambda n=node: polled_up(n), f"{node.name}: up", timeout=WAIT)
            assert shown["memory_total"] > 0 and shown["uptime"] > 0
        # The leader holds a pooled connection to the server, the other node none: were
        # it polling too, it would hold its own (it shows the server up). So for two
        # more rounds, as the other node sees them.
        last = 0.0
        for _ in range(2):
            newer = wait_for(lambda t=last: polled_up(other, t), "a newer round", timeout=WAIT)
            last = newer["sampled_at"]
            assert sshd_connections(leader, sshd.port) >= 1
            assert sshd_connections(other, sshd.port) == 0
        assert leaders() == [leading]
    finally:
        httpx.delete(f"{cluster.balancer.url}/api/vps/servers/polled", headers=headers, timeout=30)


def test_a_killed_node_is_taken_out_and_shown_down(cluster: Cluster, token: str) -> None:
    """300 requests through HAProxy while node-b is killed: at least 99 % are answered
    (HAProxy retries what the dead node dropped), and node-a shows node-b down."""
    node_a, node_b = cluster.nodes
    total, answered, sent = 300, [], threading.Semaphore(0)

    def call(_: int) -> int:
        sent.release()
        try:
            return httpx.get(
                f"{cluster.balancer.url}/api/metrics", headers=bearer(token), timeout=30
            ).status_code
        except httpx.HTTPError:
            return 0

    with ThreadPoolExecutor(8) as pool:
        results = pool.map(call, range(total))
        for _ in range(60):
            sent.acquire(timeout=30)
        node_b.kill(signal.SIGKILL)
        killed_at = time.monotonic()
        answered = [status for status in results if status == 200]
    assert len(answered) >= 0.99 * total, f"{len(answered)} of {total} answered"

    def b_state() -> str:
        listed = httpx.get(f"{node_a.url}/api/nodes", headers=bearer(token), timeout=10).json()
        return str(next(n["state"] for n in listed if n["name"] == "node-b"))

    while b_state() != "down":
        assert time.monotonic() - killed_at < 45, "node-b still shown up 45 s after SIGKILL"
        time.sleep(0.5)
    listed = httpx.get(f"{node_a.url}/api/nodes", headers=bearer(token), timeout=10).json()
    a = next(n for n in listed if n["name"] == "node-a")
    # The leader roles move to the survivor (housekeeping, the vps metrics poller).
    while not {"core.housekeeping", "vps.metrics"} <= set(a["roles"]):
        assert time.monotonic() - killed_at < 45, "node-a did not take the leader roles over"
        time.sleep(0.5)
        listed = httpx.get(f"{node_a.url}/api/nodes", headers=bearer(token), timeout=10).json()
        a = next(n for n in listed if n["name"] == "node-a")
    left_out = httpx.get(
        f"{node_a.url}/api/pm2/list", params={"node": "all"}, headers=bearer(token), timeout=30
    )
    assert left_out.status_code == 200
    assert left_out.headers["x-skyport-nodes-left-out"] == "node-b"
