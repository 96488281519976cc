"""Fixtures for tests against real sshd instances on 127.0.0.1 (DESIGN.md §7).

Each sshd is private: ``sshd -D -f <tmp config>`` on a free loopback port with
temporary host keys and a temporary client key in its ``AuthorizedKeysFile``;
the system's sshd and its config are never touched. ``SetEnv HOME=<empty
dir>`` keeps the login user's ``~/.bashrc`` (which runs pyenv on these
machines, ~100 ms per command) out of every command. For failures: a closed
port, and a port that accepts connections but never says a word.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, bearer, free_port, login, require_backend

SSHD = "/usr/sbin/sshd"


def keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "skyport-test", "-f", str(path)],
        check=True,
        timeout=30,
    )
    return path


def fingerprint(public_key: Path) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key)],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    return out.split()[1]


@dataclass
class Keys:
    folder: Path
    host: Path
    other_host: Path
    client: Path
    stranger: Path
    """A client key no sshd accepts."""
    home: Path
    """HOME of every command: empty, so no ~/.bashrc runs."""

    @property
    def client_pem(self) -> str:
        return self.client.read_text()

    def host_fingerprint(self, other: bool = False) -> str:
        key = self.other_host if other else self.host
        return fingerprint(key.with_suffix(".pub"))


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    require_backend(
        os.path.exists(SSHD) and bool(shutil.which("ssh-keygen")),
        "no sshd (apt-get install openssh-server)",
    )
    folder = tmp_path_factory.mktemp("sshd-keys")
    keys = Keys(
        folder,
        keygen(folder / "host_key"),
        keygen(folder / "other_host_key"),
        keygen(folder / "client_key"),
        keygen(folder / "stranger_key"),
        folder / "home",
    )
    keys.home.mkdir()
    (folder / "authorized_keys").write_text(keys.client.with_suffix(".pub").read_text())
    return keys


class Sshd:
    """One private sshd process on 127.0.0.1."""

    def __init__(
        self, keys: Keys, port: int | None = None, *, other_key: bool = False, sftp: bool = True
    ) -> None:
        self.keys = keys
        self.port = port or free_port()
        self.user = getpass.getuser()
        self.host_key = keys.other_host if other_key else keys.host
        self.config = keys.folder / f"sshd_config_{self.port}"
        self.config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
            f"AuthorizedKeysFile {keys.folder / 'authorized_keys'}\n"
            f"PidFile {keys.folder / f'sshd_{self.port}.pid'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\n"
            f"UsePAM no\nAllowUsers {self.user}\nLogLevel ERROR\nMaxStartups 200\n"
            f"SetEnv HOME={keys.home}\n" + ("Subsystem sftp internal-sftp\n" if sftp else "")
        )
        with contextlib.suppress(OSError):
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation dir
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 1),
            ):
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                errors = self.process.stderr.read().decode() if self.process.stderr else ""
                self.stop()
                require_backend(False, f"sshd did not start: {errors.strip()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop this sshd and its per-connection children (open connections drop)."""
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    child.kill()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stderr:
            self.process.stderr.close()


@pytest.fixture(scope="session")
def sshd(keys: Keys) -> Iterator[Sshd]:
    server = Sshd(keys)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def second_sshd(keys: Keys) -> Iterator[Sshd]:
    server = Sshd(keys)
    yield server
    server.stop()


@pytest.fixture
def make_sshd(keys: Keys) -> Iterator[Callable[..., Sshd]]:
    """Start more sshd instances (stopped after the test)."""
    started: list[Sshd] = []

    def make(port: int | None = None, *, other_key: bool = False, sftp: bool = True) -> Sshd:
        server = Sshd(keys, port, other_key=other_key, sftp=sftp)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel does) but never says anything."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def closed_port() -> int:
    return free_port()


@pytest.fixture
def vps_app(make_settings: Callable[..., Settings]) -> Litestar:
    from skyport_vps import plugin

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="vps")
    settings = make_settings(
        vps={"connect_timeout": 2.0, "command_timeout": 20.0, "metrics_interval": 1.0},
        metrics={"interval": 1.0, "history": False},
    )
    return create_app(settings, plugins=manager)


@pytest.fixture
def api(vps_app: Litestar) -> Iterator[TestClient[Litestar]]:
    """A TestClient logged in as admin (Bearer header) on the vps-enabled app."""
    with TestClient(vps_app) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client


def server_body(name: str, sshd: Sshd, keys: Keys, **extra: Any) -> dict[str, Any]:
    """The body that adds ``sshd`` as server ``name``, its host key trusted."""
    body: dict[str, Any] = {
        "name": name,
        "host": "127.0.0.1",
        "port": sshd.port,
        "user": sshd.user,
        "private_key": keys.client_pem,
        "fingerprint": keys.host_fingerprint(sshd.host_key == keys.other_host),
    }
    body.update(extra)
    return body


@pytest.fixture
def add_server(api: TestClient[Litestar], keys: Keys) -> Callable[..., dict[str, Any]]:
    """Add a trusted server through the API; returns its JSON."""

    def add(name: str, sshd: Sshd, **extra: Any) -> dict[str, Any]:
        response = api.post("/api/vps/servers", json=server_body(name, sshd, keys, **extra))
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return add
