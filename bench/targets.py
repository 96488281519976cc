"""The servers under test: the Litestar floor, Glances 4 and SkyPort itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.procs import Server, ServerError, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
GLANCES_SPEC = "glances[web]>=4,<5"
DEFAULT_GLANCES_VENV = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    / "skyport-bench"
    / "glances-venv"
)


@dataclass
class Endpoint:
    name: str  # what the figure is compared as: "status", "metrics"
    path: str


@dataclass
class Target:
    """A running server plus how to talk to it."""

    name: str
    server: Server
    endpoints: list[Endpoint]
    headers: dict[str, str] = field(default_factory=dict)
    ws_path: str | None = None
    ws_query: str = ""
    cleanup_dirs: list[str] = field(default_factory=list)

    def ws_url(self) -> str:
        assert self.ws_path
        q = f"?{self.ws_query}" if self.ws_query else ""
        return f"ws://127.0.0.1:{self.server.port}{self.ws_path}{q}"

    def close(self) -> None:
        self.server.__exit__(None, None, None)
        for d in self.cleanup_dirs:
            shutil.rmtree(d, ignore_errors=True)


# --- floor ---------------------------------------------------------------------------
def start_floor(ws_interval: float = 2.0) -> Target:
    port = free_port()
    env = dict(os.environ, FLOOR_WS_INTERVAL=str(ws_interval), PYTHONPATH=str(REPO_ROOT))
    server = Server(
        "floor",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.floor_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        port,
        env=env,
        cwd=str(REPO_ROOT),
    )
    server.start()
    try:
        server.wait_http("/api/status", timeout=30, ok_any_status=False)
    except BaseException:
        server.stop()
        raise
    return Target(
        "floor",
        server,
        [Endpoint("status", "/api/status"), Endpoint("metrics", "/api/metrics")],
        ws_path="/ws",
    )


# --- glances ---------------------------------------------------------------------------
def glances_exe(venv: Path, install: bool) -> Path:
    """The glances executable in its own venv, installed there with uv if asked."""
    exe = venv / "bin" / "glances"
    if exe.exists():
        return exe
    on_path = shutil.which("glances")
    if on_path and not install:
        return Path(on_path)
    if not install:
        raise ServerError(f"glances not found (looked in {venv}); run with --install-glances")
    uv = shutil.which("uv")
    if uv is None:
        raise ServerError("uv is needed to install glances into its own venv")
    print(f"installing {GLANCES_SPEC} into {venv} ...", file=sys.stderr)
    subprocess.run(
        [uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, timeout=300
    )
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), GLANCES_SPEC],
        check=True,
        timeout=900,
    )
    return exe


def glances_version(exe: Path) -> str:
    try:
        out = subprocess.run(
            [str(exe), "--version"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    for line in out.splitlines():
        if line.lower().startswith("glances version"):
            return line.split(":", 1)[1].strip()
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def start_glances(exe: Path) -> Target:
    port = free_port()
    conf_dir = tempfile.mkdtemp(prefix="bench-glances-")
    # Its own empty config and HOME-independent state; no update check (no outside calls).
    env = dict(os.environ, XDG_CONFIG_HOME=conf_dir)
    server = Server(
        "glances",
        [
            str(exe),
            "-w",
            "--disable-webui",
            "-B",
            "127.0.0.1",
            "-p",
            str(port),
            "--disable-check-update",
            "--disable-autodiscover",
        ],
        port,
        env=env,
        cwd=conf_dir,
    )
    server.start()
    try:
        server.wait_http("/api/4/all", timeout=90, ok_any_status=False)
    except BaseException:
        server.stop()
        shutil.rmtree(conf_dir, ignore_errors=True)
        raise
    return Target("glances", server, [Endpoint("metrics", "/api/4/all")], cleanup_dirs=[conf_dir])


# --- skyport ---------------------------------------------------------------------------
def skyport_argv(port: int, extra: list[str]) -> list[str]:
    exe = Path(sys.executable).with_name("skyport")
    base = [str(exe)] if exe.exists() else ["uv", "run", "skyport"]
    return [*base, "serve", "--port", str(port), *extra]


def start_skyport(
    extra_args: list[str],
    password: str = "bench-admin-password-123",
    extra_env: dict[str, str] | None = None,
) -> Target:
    """`skyport serve` on a free port with a throw-away data dir, logged in as admin."""
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="bench-skyport-")
    config = Path(data_dir) / "config.yaml"
    config.write_text("{}\n")
    env = dict(
        os.environ,
        SKYPORT_DATA_DIR=data_dir,
        SKYPORT_ADMIN_PASSWORD=password,
        SKYPORT_CONFIG=str(config),
        **(extra_env or {}),
    )
    server = Server("skyport", skyport_argv(port, extra_args), port, env=env, cwd=str(REPO_ROOT))
    server.start()
    try:
        server.wait_http("/api/status", timeout=90)
        r = httpx.post(
            f"{server.base_url}/api/auth/login",
            json={"username": "admin", "password": password},
            timeout=30,
        )
        if r.status_code >= 400:
            raise ServerError(f"login failed: HTTP {r.status_code} {r.text[:300]}")
        body = r.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            raise ServerError(f"login answered without a token: {r.text[:300]}")
    except BaseException:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return Target(
        "skyport",
        server,
        [Endpoint("status", "/api/status"), Endpoint("metrics", "/api/metrics")],
        headers={"Authorization": f"Bearer {token}"},
        ws_path="/ws",
        ws_query=f"token={token}",
        cleanup_dirs=[data_dir],
    )
