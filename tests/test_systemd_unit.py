"""The shipped systemd unit (deploy/systemd/skyport.service) starts SkyPort as an
unprivileged user that reaches Docker through the docker group.

No systemd runs as PID 1 here (nor in CI), so the unit cannot be started with
``systemctl``. Instead: ``systemd-analyze verify`` checks the unit as systemd would
load it (every directive known and well formed, ExecStart executable), and its
ExecStart runs as the unit says — SkyPort installed from this checkout into a fresh
venv as in production, then started by ``setpriv`` as user ``nobody`` with the docker
group, the unit's Environment=, UMask= and NoNewPrivileges= — and must serve: log in,
list the engine's containers, keep its data private. The sandboxing directives
(ProtectSystem= …) need systemd itself and are only verified, not exercised.
"""

from __future__ import annotations

import grp
import os
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from skyport.testing import ADMIN_PASSWORD, bearer, free_port, require_backend, wait_for

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "deploy" / "systemd" / "skyport.service"
PREFIX, STATE, CONFIG = "/opt/skyport", "/var/lib/skyport", "/etc"
NOBODY = 65534


def _directives(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip()))
    return pairs


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    """A folder the unprivileged user can read (pytest's own tmp is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="skyport-unit-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def installed(root: Path) -> Path:
    """``/opt/skyport``: skyport-core and skyport-docker installed from this checkout
    into a venv of the system's Python, as the unit's comment says."""
    require_backend(shutil.which("systemd-analyze") is not None, "systemd-analyze is missing")
    venv = root / PREFIX.lstrip("/")
    venv.parent.mkdir(parents=True)
    subprocess.run(["uv", "venv", "--quiet", "--python", "/usr/bin/python3", venv], check=True)
    subprocess.run(
        [
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            venv / "bin" / "python",
            REPO / "core",
            REPO / "plugins" / "skyport-docker",
        ],
        check=True,
        timeout=600,
    )
    return venv


def test_systemd_accepts_the_unit(installed: Path, root: Path) -> None:
    unit = root / "skyport.service"
    unit.write_text(UNIT.read_text().replace(PREFIX, str(installed)))
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", unit], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout + verified.stderr == ""


def test_exec_start_serves_as_an_unprivileged_user_in_the_docker_group(
    installed: Path, root: Path
) -> None:
    try:
        docker_gid = grp.getgrnam("docker").gr_gid
    except KeyError:
        docker_gid = None
    require_backend(docker_gid is not None, "no docker group (install docker.io)")
    directives = _directives(UNIT.read_text())
    settings = dict(directives)
    assert settings["User"] != "root" and settings["SupplementaryGroups"] == "docker"
    state, etc = root / STATE.lstrip("/"), root / "etc"
    state.mkdir(parents=True, mode=0o700)
    os.chown(state, NOBODY, NOBODY)
    port = free_port()
    (etc / "skyport").mkdir(parents=True)
    (etc / "skyport" / "config.yaml").write_text(f"server: {{port: {port}}}\n")
    env = {"PATH": "/usr/bin:/bin", "SKYPORT_ADMIN_PASSWORD": ADMIN_PASSWORD}
    for key, value in directives:
        if key == "Environment":
            name, _, raw = value.partition("=")
            env[name] = raw.replace(STATE, str(state)).replace(CONFIG, str(etc), 1)
    command = shlex.split(settings["ExecStart"].replace(PREFIX, str(installed)))
    umask = f"umask {settings['UMask']} && exec {shlex.join(command)}"
    server = subprocess.Popen(
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            f"--groups={docker_gid}",
            "--no-new-privs" if settings["NoNewPrivileges"] == "yes" else "--",
            "--",
            "sh",
            "-c",
            umask,
        ],
        env=env,
        cwd="/",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url) or server.poll() is not None, "SkyPort to serve", timeout=60)
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        token = httpx.post(
            f"{url}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        ).json()["token"]
        ps = httpx.get(f"{url}/api/docker/ps", headers=bearer(token), timeout=30)
        assert ps.status_code == 200, ps.text
        data = state / "data"
        assert (data.stat().st_uid, stat.S_IMODE(data.stat().st_mode)) == (NOBODY, 0o700)
        for path in data.iterdir():
            assert (path.stat().st_uid, stat.S_IMODE(path.stat().st_mode)) == (NOBODY, 0o600)
        uid_line = next(
            line
            for line in Path(f"/proc/{server.pid}/status").read_text().splitlines()
            if line.startswith("Uid:")
        )
        assert uid_line.split()[1:] == [str(NOBODY)] * 4
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
