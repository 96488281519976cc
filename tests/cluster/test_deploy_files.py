"""The compose file of the deployment files is valid (it cannot be run here: no image pulls)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

from skyport.testing import require_backend

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "cluster" / "compose.yaml"


def test_the_compose_file_starts_postgresql_two_nodes_and_haproxy(tmp_path: Path) -> None:
    tool = shutil.which("docker-compose")
    require_backend(tool is not None, "docker-compose is not installed (Debian docker-compose)")
    env = {
        **os.environ,
        "POSTGRES_PASSWORD": "a-database-password",
        "SKYPORT_SECRET_KEY": "a-shared-secret",
        "SKYPORT_ADMIN_PASSWORD": "an-admin-password",
    }
    done = subprocess.run(
        [str(tool), "-f", str(COMPOSE), "config"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert set(services) == {"postgres", "node1", "node2", "haproxy"}
    nodes = [services["node1"]["environment"], services["node2"]["environment"]]
    assert nodes[0]["SKYPORT_SECRET_KEY"] == nodes[1]["SKYPORT_SECRET_KEY"] == "a-shared-secret"
    assert {n["SKYPORT_NODE_NAME"] for n in nodes} == {"node1", "node2"}
    assert "8080:8080" in str(services["haproxy"]["ports"][0])


def test_the_compose_file_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    tool = shutil.which("docker-compose")
    require_backend(tool is not None, "docker-compose is not installed (Debian docker-compose)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "SKYPORT_"))}
    done = subprocess.run(
        [str(tool), "-f", str(COMPOSE), "config"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "POSTGRES_PASSWORD" in done.stderr
