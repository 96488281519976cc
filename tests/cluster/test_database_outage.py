"""PostgreSQL stops under a running node: what needs it answers 503 naming the database,
the rest keeps serving, and everything works again once it is back — no restart.

The node runs on a private PostgreSQL of this test's own (the shared one is never stopped).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from skyport.testing import ADMIN_PASSWORD, wait_for

from .conftest import START_POSTGRES, Node, bearer, login, make_nodes, pg_outage_server

RECOVERY = 30.0


@pytest.fixture(scope="module")
def outage_server() -> Iterator[dict[str, Any]]:
    yield from pg_outage_server()


@pytest.fixture(scope="module")
def node(outage_server: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    root: Path = tmp_path_factory.mktemp("outage")
    (only,) = make_nodes(root, outage_server["SKYPORT_TEST_POSTGRES_URL"], ["node-solo"])
    try:
        yield only.start().wait_ready()
    finally:
        only.stop()


def postgres(action: str, server: dict[str, Any]) -> None:
    args = [server["PG_DIR"]] + ([server["PG_PORT"]] if action == "resume" else [])
    done = subprocess.run(
        ["bash", str(START_POSTGRES), action, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_database_down_is_a_503_naming_it_and_the_node_recovers_by_itself(
    node: Node, outage_server: dict[str, Any]
) -> None:
    token = login(node.url)
    postgres("pause", outage_server)
    try:
        body = {"username": "admin", "password": ADMIN_PASSWORD}
        answer = httpx.post(f"{node.url}/api/auth/login", json=body, timeout=30)
        assert answer.status_code == 503, answer.text
        detail = answer.json()["detail"]
        assert "database" in detail and f"127.0.0.1:{outage_server['PG_PORT']}" in detail
        assert answer.json()["extra"]["backend"] == "the database"
        ready = httpx.get(f"{node.url}/api/health/ready", timeout=30)
        assert ready.status_code == 503 and "database" in ready.json()["detail"]
        assert httpx.get(f"{node.url}/api/health", timeout=10).status_code == 200
    finally:
        postgres("resume", outage_server)

    def works_again() -> bool:
        me = httpx.get(f"{node.url}/api/auth/me", headers=bearer(token), timeout=10)
        ready = httpx.get(f"{node.url}/api/health/ready", timeout=10)
        return me.status_code == 200 and ready.status_code == 200

    wait_for(works_again, "the node to work again", timeout=RECOVERY, every=0.5)
    assert login(node.url)

    def listed_up() -> bool:
        nodes = httpx.get(f"{node.url}/api/nodes", headers=bearer(token), timeout=10).json()
        return nodes[0]["state"] == "up" and nodes[0]["heartbeat_at"] > time.time() - 5

    wait_for(listed_up, "the heartbeat to resume", timeout=RECOVERY, every=0.5)
