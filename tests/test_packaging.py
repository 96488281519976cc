"""The distributions as people install them: wheels built from the repository, installed
into a fresh virtual environment with nothing else of the workspace, their dependencies
from the package index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from skyport.testing import free_port, wait_for

REPO = Path(__file__).resolve().parents[1]
CORE = "skyport_core"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``distribution -> wheel`` for every distribution of the workspace."""
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        ["uv", "build", "--all-packages", "--wheel", "--quiet", "--out-dir", str(out)],
        cwd=REPO,
        check=True,
        timeout=600,
    )
    return {path.name.split("-")[0]: path for path in out.glob("*.whl")}


def metadata(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name).decode().splitlines()


def test_every_plugin_requires_this_core_within_its_minor_version(
    wheels: dict[str, Path],
) -> None:
    assert {CORE, "skyport_docker", "skyport_pm2", "skyport_vps"} <= wheels.keys()
    for name, wheel in wheels.items():
        if name == CORE:
            continue
        requires = [line for line in metadata(wheel) if line.startswith("Requires-Dist:")]
        assert "Requires-Dist: skyport-core<0.2,>=0.1" in requires, (name, requires)
        assert not [r for r in requires if r.split()[1].startswith("skyport;")]


def test_the_core_wheel_holds_the_dashboard_and_the_migrations(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels[CORE]) as archive:
        names = archive.namelist()
    assert "skyport/web/index.html" in names
    assert "skyport/store/versions/core_0001_initial.py" in names
    assert not [n for n in names if "skyport_hello" in n or n.startswith("tests/")]


@pytest.fixture(scope="module")
def installed(wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the core and the docker plugin from their wheels."""
    venv = tmp_path_factory.mktemp("wheel-venv") / "venv"
    subprocess.run(["uv", "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            str(wheels[CORE]),
            str(wheels["skyport_docker"]),
        ],
        check=True,
        timeout=600,
    )
    return venv / "bin" / "skyport"


def outside_the_workspace(tmp_path: Path) -> dict[str, str]:
    """An environment naming nothing of the workspace: its own home and data dir."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HOME=str(tmp_path / "home"), SKYPORT_DATA_DIR=str(tmp_path / "data"))
    return env


def test_skyport_from_wheels_lists_its_plugins(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed), "plugins", "--json"],
        capture_output=True,
        text=True,
        env=outside_the_workspace(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)}
    assert set(plugins) == {"core", "docker"}
    assert plugins["docker"]["status"] == "loaded"
    assert plugins["docker"]["distribution"] == "skyport-docker"


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(installed), "serve", "--port", str(port)],
        env=outside_the_workspace(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return server.poll() is not None  # stop waiting: it died

    try:
        wait_for(healthy, "skyport serve from the wheels to answer", timeout=60)
        assert server.poll() is None, "skyport serve from the wheels exited"
        yield url
    finally:
        server.terminate()
        server.wait(30)


def test_skyport_serve_from_wheels_answers_health_and_the_dashboard(served: str) -> None:
    assert httpx.get(f"{served}/api/health").json()["status"] == "ok"
    page = httpx.get(f"{served}/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert httpx.get(f"{served}/api/plugins").status_code == 401  # still needs a login
