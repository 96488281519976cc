"""Real clusters for the tests (:mod:`skyport.cluster.testing`): ``skyport serve`` nodes
on one PostgreSQL behind HAProxy running the shipped ``deploy/cluster/haproxy.cfg``."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from skyport.cluster.testing import (
    REPOSITORY,
    SKYPORT,
    Balancer,
    Node,
    make_nodes,
    render_nginx,
    start_all,
    system_binary,
)
from skyport.testing import (
    ADMIN_PASSWORD,
    free_port,
    fresh_postgres_database,
    module_from_file,
    require_backend,
)

START_POSTGRES = REPOSITORY / ".ci" / "start-postgres"
VPS = module_from_file(REPOSITORY / "plugins/skyport-vps/tests/conftest.py", "vps_test_helpers")
# The vps plugin's private sshd and its keys: a server both nodes know.
keys = VPS.keys
sshd = VPS.sshd
VPS_METRICS_INTERVAL = 1.0
"""Seconds between the vps metrics leader's rounds (the tests' setting)."""


def haproxy_binary() -> str:
    found = system_binary("haproxy")
    require_backend(found is not None, "HAProxy is not installed (Debian package haproxy)")
    assert found is not None
    return found


@dataclass
class Cluster:
    nodes: list[Node]
    balancer: Balancer
    database_url: str

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two nodes, ``node-a`` and ``node-b``, on a fresh database behind HAProxy."""
    haproxy_binary()
    require_backend(SKYPORT.exists(), f"no skyport command beside {sys.executable}")
    root = tmp_path_factory.mktemp("cluster")
    with fresh_postgres_database() as url:
        nodes = make_nodes(root, url, ["node-a", "node-b"])
        for node in nodes:
            node.extra_env["SKYPORT_VPS__METRICS_INTERVAL"] = str(VPS_METRICS_INTERVAL)
        balancer = Balancer((nodes[0], nodes[1]), root / "haproxy")
        try:
            start_all(nodes)
            balancer.start()
            yield Cluster(nodes, balancer, url)
        finally:
            balancer.stop()
            for node in nodes:
                node.stop()


def login(base_url: str, **headers: str) -> str:
    response = httpx.post(
        f"{base_url}/api/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        headers=headers,
        timeout=20,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ws_url(base_url: str, path: str = "/ws") -> str:
    return "ws" + base_url.removeprefix("http") + path


def pg_outage_server() -> Iterator[dict[str, Any]]:
    """A private PostgreSQL (``.ci/start-postgres``) that a test may stop and start."""
    require_backend(shutil.which("bash") is not None, "bash is needed for .ci/start-postgres")
    done = subprocess.run(
        ["bash", str(START_POSTGRES), "start"], capture_output=True, text=True, timeout=120
    )
    require_backend(
        done.returncode == 0, f"cannot start a private PostgreSQL: {done.stderr[-500:]}"
    )
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in done.stdout.splitlines()
        if line.startswith("export ")
    )
    server = {k: v.strip("'\"") for k, v in exports.items()}
    try:
        yield server
    finally:
        subprocess.run(
            ["bash", str(START_POSTGRES), "stop", server["PG_DIR"]],
            capture_output=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def busybox_image() -> str:
    """The test image (busybox, ``docker import``-ed) on this machine's engine."""
    import docker

    from skyport_docker.testing import TEST_IMAGE, build_test_image

    try:
        client = docker.APIClient(base_url="unix:///var/run/docker.sock")
        client.ping()
    except Exception:
        require_backend(False, "no Docker engine at unix:///var/run/docker.sock")
    with contextlib.closing(client):
        if not client.images(name=TEST_IMAGE):
            build_test_image(client)
    return TEST_IMAGE


@pytest.fixture(scope="module")
def nginx(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Nginx running the shipped template in front of the cluster's two nodes; its URL."""
    binary = system_binary("nginx")
    require_backend(binary is not None, "Nginx is not installed (Debian package nginx-light)")
    assert binary is not None
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    config = prefix / "nginx.conf"
    config.write_text(render_nginx(cluster.nodes[0], cluster.nodes[1], port))
    base = [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(config)]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [*base, "-g", f"daemon off; pid {prefix / 'nginx.pid'};"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)
