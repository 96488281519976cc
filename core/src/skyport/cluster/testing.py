"""Real clusters on this machine, for tests and benchmarks: ``skyport serve`` nodes on
one PostgreSQL behind HAProxy (or Nginx) running the shipped configurations.

Each :class:`Node` is a process of its own with its own data dir, HOME and PM2 home
(its own PM2 daemon), the shared ``SKYPORT_SECRET_KEY`` and database URL, and a
distinct name; nodes on one machine share its Docker engine. Everything listens on
127.0.0.1 and is stopped by whoever started it; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import httpx

from skyport.testing import ADMIN_PASSWORD, free_port

REPOSITORY = Path(__file__).resolve().parents[4]
"""The source checkout (the deployment files live in ``deploy/cluster``)."""
HAPROXY_CONFIG = REPOSITORY / "deploy" / "cluster" / "haproxy.cfg"
HEARTBEAT = 1.0
DOWN_AFTER = 5.0
"""Seconds: a node is shown down this long after its last heartbeat (the tests' setting)."""
STARTUP = 90.0
"""Seconds a node may take to come up (two starting at once on a busy machine)."""
SKYPORT = Path(sys.executable).with_name("skyport")


@dataclass
class Node:
    """One ``skyport serve`` process."""

    name: str
    home: Path
    database_url: str
    secret: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "serve.log"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SKYPORT_")}
        pm2_home = self.home / "pm2"
        pm2_home.mkdir(parents=True, exist_ok=True)
        (pm2_home / "touch").touch()
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
            PM2_HOME=str(pm2_home),
            PM2_DISABLE_VERSION_CHECK="1",
            SKYPORT_PM2__HOME=str(pm2_home),
            SKYPORT_PM2__BIN=os.environ.get("SKYPORT_TEST_PM2_BIN", ""),
            SKYPORT_DATA_DIR=str(self.home / "data"),
            SKYPORT_DATABASE_URL=self.database_url,
            SKYPORT_SECRET_KEY=self.secret,
            SKYPORT_ADMIN_PASSWORD=ADMIN_PASSWORD,
            SKYPORT_NODE_NAME=self.name,
            SKYPORT_CLUSTER__HEARTBEAT_SECONDS=str(HEARTBEAT),
            SKYPORT_CLUSTER__DOWN_AFTER_SECONDS=str(DOWN_AFTER),
            SKYPORT_SERVER__FORWARDED_ALLOW_IPS='["127.0.0.1"]',
            # Slow polling: a revocation that reaches another node fast came over NOTIFY.
            SKYPORT_AUTH__REVOCATION_CHECK_SECONDS="60",
            # A shell on the node, to show a terminal reached through another node.
            SKYPORT_TERMINAL__HOST_SHELL="true",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> Node:
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(SKYPORT), "serve", "--port", str(self.port)],
                env=self.environment(),
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = STARTUP) -> Node:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"node {self.name} exited:\n{self.log_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/health/ready", timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        raise AssertionError(
            f"node {self.name} not ready in {timeout:g} s:\n{self.log_text()[-3000:]}"
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (SIGKILL after 20 s), then the PM2 daemon this node started."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        pid_file = self.home / "pm2" / "pm2.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Balancer:
    """HAProxy running the shipped configuration in front of two nodes."""

    nodes: tuple[Node, Node]
    home: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Balancer:
        first, second = self.nodes
        env = {
            **os.environ,
            "SKYPORT_LB_BIND": f"127.0.0.1:{self.port}",
            "SKYPORT_NODE1_NAME": first.name,
            "SKYPORT_NODE1_ADDR": f"127.0.0.1:{first.port}",
            "SKYPORT_NODE2_NAME": second.name,
            "SKYPORT_NODE2_ADDR": f"127.0.0.1:{second.port}",
        }
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / "haproxy.log").open("ab") as log:
            self.process = subprocess.Popen(
                [system_binary("haproxy") or "haproxy", "-db", "-f", str(HAPROXY_CONFIG)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 1),
            ):
                return self
            time.sleep(0.1)
        raise AssertionError("HAProxy did not listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def system_binary(name: str) -> str | None:
    """``name`` on the PATH or in /usr/sbin (Debian's haproxy and nginx live there)."""
    return shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )


def make_nodes(root: Path, database_url: str, names: list[str]) -> list[Node]:
    secret = secrets.token_hex(32)
    return [Node(name, root / name, database_url, secret) for name in names]


def start_all(nodes: list[Node]) -> None:
    """Start the nodes at once (they race on the database) and wait for each."""
    for node in nodes:
        node.start()
    for node in nodes:
        node.wait_ready()


NGINX_TEMPLATE = REPOSITORY / "deploy" / "cluster" / "nginx.conf.template"


def render_nginx(first: Node, second: Node, port: int) -> str:
    """The shipped template with its ``${VARS}`` filled in, as envsubst would."""
    return Template(NGINX_TEMPLATE.read_text()).safe_substitute(
        SKYPORT_LB_LISTEN=f"127.0.0.1:{port}",
        SKYPORT_NODE1_ADDR=f"127.0.0.1:{first.port}",
        SKYPORT_NODE2_ADDR=f"127.0.0.1:{second.port}",
    )
