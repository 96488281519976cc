"""Engines: ``/api/docker/engines``, a remote engine over ``ssh://`` to a private sshd on
127.0.0.1 (reaching this machine's engine), and an engine that goes away mid-test.

The engine that goes away is the local engine behind a proxy on a unix socket that
the test stops and restarts, so the shared engine itself is never stopped.
"""

from __future__ import annotations

import contextlib
import datetime
import getpass
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.store import Database
from skyport.testing import (
    ADMIN_PASSWORD,
    TerminalProbe,
    bearer,
    free_port,
    login,
    require_backend,
    schema_differences,
)
from skyport_docker import plugin
from skyport_docker.engines import engines_table

from .test_events_terminal import next_event
from .test_stacks import compose_file, states

ENGINE_SOCKET = "/var/run/docker.sock"
WAIT = 30.0


# -- a stoppable path to the engine ------------------------------------------------------


class SocketProxy:
    """Forwards connections on a unix socket of its own to the engine's socket."""

    def __init__(self, path: Path, target: str = ENGINE_SOCKET) -> None:
        self.path = path
        self.target = target
        self.url = f"unix://{path}"
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def listen(self) -> socket.socket:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        listener.bind(str(self.path))
        return listener

    def wrap(self, client: socket.socket) -> socket.socket:
        """The accepted connection as the proxy speaks on it (TLS in :class:`TLSProxy`)."""
        return client

    def start(self) -> None:
        listener = self.listen()
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a stopped engine would."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                accepted, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(accepted,), daemon=True).start()

    def _serve(self, accepted: socket.socket) -> None:
        try:
            client = self.wrap(accepted)
        except OSError:  # e.g. a TLS handshake the proxy refused
            accepted.close()
            return
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.target)
        except OSError:
            client.close()
            return
        with self._lock:
            self._open.update((client, upstream))
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class TLSProxy(SocketProxy):
    """The engine behind ``tcp://127.0.0.1:<port>`` with mutual TLS, as dockerd --tlsverify."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder / "unused.sock")
        self.port = free_port()
        self.url = f"tcp://127.0.0.1:{self.port}"
        self.files = make_certificates(folder)
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(self.files["server_cert"], self.files["server_key"])
        self._context.load_verify_locations(self.files["ca"])
        self._context.verify_mode = ssl.CERT_REQUIRED  # a client certificate or nothing

    def listen(self) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        return listener

    def wrap(self, client: socket.socket) -> socket.socket:
        client.settimeout(10)
        wrapped = self._context.wrap_socket(client, server_side=True)
        wrapped.settimeout(None)
        return wrapped


def make_certificates(folder: Path) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def issue(
        subject: str, key: Any, issuer: x509.Name, signer: Any, extensions: list[Any]
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signer, hashes.SHA256())

    def write(stem: str, certificate: x509.Certificate, key: Any) -> tuple[str, str]:
        cert_path, key_path = folder / f"{stem}-cert.pem", folder / f"{stem}-key.pem"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return str(cert_path), str(key_path)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = issue(
        "skyport test CA", ca_key, name("skyport test CA"), ca_key,
        [(x509.BasicConstraints(ca=True, path_length=None), True)],
    )  # fmt: skip
    server_key, client_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    import ipaddress

    server = issue(
        "127.0.0.1", server_key, ca.subject, ca_key,
        [(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
          False),
         (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)],
    )  # fmt: skip
    client = issue(
        "skyport", client_key, ca.subject, ca_key,
        [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)],
    )  # fmt: skip
    ca_path, _ = write("ca", ca, ca_key)
    server_cert, server_key_path = write("server", server, server_key)
    client_cert, client_key_path = write("client", client, client_key)
    other_ca_key = ec.generate_private_key(ec.SECP256R1())
    other_ca = issue(
        "another CA", other_ca_key, name("another CA"), other_ca_key,
        [(x509.BasicConstraints(ca=True, path_length=None), True)],
    )  # fmt: skip
    other_ca_path, _ = write("other-ca", other_ca, other_ca_key)
    return {
        "ca": ca_path,
        "other_ca": other_ca_path,
        "server_cert": server_cert,
        "server_key": server_key_path,
        "client_cert": client_cert,
        "client_key": client_key_path,
    }


@pytest.fixture
def proxy(engine: docker.APIClient, tmp_path: Path) -> Iterator[SocketProxy]:
    server = SocketProxy(tmp_path / "engine-proxy.sock")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tls_proxy(engine: docker.APIClient, tmp_path: Path) -> Iterator[TLSProxy]:
    server = TLSProxy(tmp_path)
    server.start()
    yield server
    server.stop()


# -- a private sshd on 127.0.0.1 ---------------------------------------------------------


class SSHServer:
    def __init__(self, port: int, user: str, process: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.user = user
        self.process = process
        self.url = f"ssh://{user}@127.0.0.1:{port}"


def _keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "skyport-test", "-f", str(path)],
        check=True,
        timeout=30,
    )
    return path.with_suffix(".pub").read_text().strip()


@pytest.fixture
def sshd(engine: docker.APIClient, tmp_path: Path) -> Iterator[SSHServer]:
    """sshd on a free loopback port; this user's client key and known_hosts in ``$HOME/.ssh``."""
    binary = "/usr/sbin/sshd"
    require_backend(os.path.exists(binary) and bool(shutil.which("ssh-keygen")), "no sshd")
    require_backend(bool(shutil.which("docker")), "no docker CLI (the SSH side runs dial-stdio)")
    with contextlib.suppress(OSError):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation dir
    folder = tmp_path / "sshd"
    folder.mkdir()
    host_key = _keygen(folder / "host_key")
    client_key = _keygen(folder / "client_key")
    (folder / "authorized_keys").write_text(client_key + "\n")
    port, user = free_port(), getpass.getuser()
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPidFile {folder / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
        f"PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nAllowUsers {user}\n"
        "LogLevel ERROR\n"
    )
    ssh_dir = Path.home() / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    shutil.copy(folder / "client_key", ssh_dir / "id_ed25519")
    (ssh_dir / "id_ed25519").chmod(0o600)
    key_type, key_data = host_key.split()[:2]
    (ssh_dir / "known_hosts").write_text(f"[127.0.0.1]:{port} {key_type} {key_data}\n")
    log = folder / "sshd.log"  # a file, not a pipe: a full pipe would stall sshd
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [binary, "-D", "-e", "-f", str(folder / "sshd_config")],
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                require_backend(False, f"sshd did not start: {log.read_text().strip()}")
            time.sleep(0.05)
        yield SSHServer(port, user, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# -- helpers -------------------------------------------------------------------------------


def subscribe_events(api: TestClient[Litestar]) -> WebSocketTestSession:
    ws = api.websocket_connect("/ws", headers=dict(api.headers)).__enter__()
    ws.send_json({"type": "subscribe", "topics": ["docker.events"]})
    # An event of the shared engine may come before the acknowledgement: pass over it.
    deadline = time.monotonic() + WAIT
    while ws.receive_json(timeout=WAIT).get("type") != "subscribed":
        assert time.monotonic() < deadline, "no 'subscribed' answer"
    return ws


# -- the tests -------------------------------------------------------------------------------


def test_the_local_engine_is_listed_and_described(
    api: TestClient[Litestar], engine: docker.APIClient
) -> None:
    listed = api.get("/api/docker/engines").json()
    assert listed == [
        {
            "name": "local",
            "url": "unix:///var/run/docker.sock",
            "source": "settings",
            "tls": False,
            "insecure": False,
            "available": None,
            "error": None,
            "version": None,
        }
    ]
    checked = api.get("/api/docker/engines", params={"check": True}).json()
    assert checked[0]["available"] is True and checked[0]["version"] == engine.version()["Version"]
    detail = api.get("/api/docker/engines/local")
    assert detail.status_code == 200
    body = detail.json()
    assert body["id"] == engine.info()["ID"] and body["version"] == engine.version()["Version"]
    assert body["cpus"] >= 1 and body["memory"] > 0 and body["source"] == "settings"
    assert api.get("/api/docker/engines/nowhere").status_code == 404


@pytest.mark.every_database
def test_adding_engines_is_validated(api: TestClient[Litestar], tmp_path: Path) -> None:
    def add(**body: Any) -> Any:
        return api.post("/api/docker/engines", json=body)

    for bad in (
        {"name": "all", "url": "unix:///x"},
        {"name": "a/b", "url": "unix:///x"},
        {"name": "", "url": "unix:///x"},
    ):
        answer = add(**bad)
        assert answer.status_code == 400, answer.text
        assert "name" in answer.text
    answer = add(name="odd", url="ftp://host")
    assert answer.status_code == 400 and answer.json()["extra"]["field"] == "url"
    answer = add(name="tls", url="tcp://127.0.0.1:2376", tls_ca=str(tmp_path / "nope.pem"))
    assert answer.status_code == 400 and answer.json()["extra"]["field"] == "tls_ca"
    assert add(name="local", url="unix:///var/run/docker.sock").status_code == 409
    assert api.delete("/api/docker/engines/local").status_code == 400
    assert api.delete("/api/docker/engines/nowhere").status_code == 404

    # Nothing answers there: 503 naming the engine's URL, and it is not added.
    dead = f"unix://{tmp_path / 'nothing.sock'}"
    answer = add(name="dead", url=dead)
    assert answer.status_code == 503, answer.text
    assert answer.json()["detail"] == (
        f"Docker engine 'dead' ({dead}) is unavailable: no such socket {tmp_path / 'nothing.sock'}"
    )
    refused = f"tcp://127.0.0.1:{free_port()}"
    answer = add(name="refused", url=refused, insecure=True)
    assert answer.status_code == 503, answer.text
    assert answer.json()["detail"] == (
        f"Docker engine 'refused' ({refused}) is unavailable: connection refused"
    )
    assert [e["name"] for e in api.get("/api/docker/engines").json()] == ["local"]

    # Unless asked not to check: then it is listed, and reported unavailable.
    assert add(name="later", url=dead, check=False).status_code == 201
    checked = {e["name"]: e for e in api.get("/api/docker/engines?check=true").json()}
    assert checked["later"]["available"] is False and dead in checked["later"]["error"]
    assert checked["later"]["error"].endswith(f"is unavailable: no such socket {dead[7:]}")
    with api.websocket_connect("/ws", headers=dict(api.headers)) as events:
        events.send_json({"type": "subscribe", "topics": ["docker.events"]})
        lost = next_event(events, lambda e: e["engine"] == "later" and e.get("Type") == "engine")
    assert lost["Action"] == "disconnected"
    assert lost["error"].endswith(f"is unavailable: no such socket {dead[7:]}")
    assert api.delete("/api/docker/engines/later").status_code == 204


@pytest.mark.every_database
def test_changing_engines_needs_docker_engines(api: TestClient[Litestar]) -> None:
    """The server connects wherever an engine points: only admins add or remove them."""
    for role in ("viewer", "operator"):
        body = {"username": role, "password": f"{role}-password", "role": role}
        assert api.post("/api/users", json=body).status_code == 201
        user = bearer(login(api, role, f"{role}-password"))
        assert api.get("/api/docker/engines", headers=user).status_code == 200
        for refused in (
            api.post("/api/docker/engines", json={"name": "x", "url": "unix:///x"}, headers=user),
            api.delete("/api/docker/engines/local", headers=user),
        ):
            assert refused.status_code == 403
            assert refused.json()["extra"]["missing_scope"] == "docker:engines"


def test_an_engine_that_stops_answers_503_then_recovers(
    api: TestClient[Litestar],
    proxy: SocketProxy,
    engine: docker.APIClient,
    make_container: Callable[..., dict[str, Any]],
) -> None:
    added = api.post("/api/docker/engines", json={"name": "edge", "url": proxy.url})
    assert added.status_code == 201, added.text
    assert added.json()["id"] == engine.info()["ID"] and added.json()["source"] == "api"
    events = subscribe_events(api)
    try:
        # Events come from every engine, each marked with its name.
        container = make_container("sleep 3600")
        seen: set[str] = set()
        while seen != {"local", "edge"}:
            started = next_event(
                events,
                lambda e: e.get("id") == container["Id"] and e.get("Action") == "start",
            )
            seen.add(started["engine"])
        assert seen == {"local", "edge"}

        edge = {"engine": "edge", "all": True}
        assert container["Id"] in {c["id"] for c in api.get("/api/docker/ps", params=edge).json()}
        proxy.stop()
        assert api.get("/api/docker/ps", params=edge).status_code == 503  # kept-alive reads too
        down = api.get("/api/docker/engines/edge")
        assert down.status_code == 503, down.text
        assert proxy.url in down.json()["detail"] and "edge" in down.json()["detail"]
        assert api.get("/api/docker/stacks", params={"engine": "edge"}).status_code == 503
        lost = next_event(events, lambda e: e["engine"] == "edge" and e.get("Type") == "engine")
        assert lost["Action"] == "disconnected"

        # The rest of SkyPort keeps serving, the other engine included.
        assert api.get("/api/status").status_code == 200
        assert api.get("/api/docker/engines/local").status_code == 200
        across = api.get("/api/docker/stacks", params={"engine": "all"})
        assert across.status_code == 200
        assert across.headers.get("x-docker-unavailable") == "edge"

        proxy.start()
        deadline = time.monotonic() + WAIT
        while (back := api.get("/api/docker/engines/edge")).status_code != 200:
            assert back.status_code == 503 and time.monotonic() < deadline, back.text
            time.sleep(0.2)
        listed = api.get("/api/docker/ps", params=edge)
        assert listed.status_code == 200 and container["Id"] in {c["id"] for c in listed.json()}
        found = next_event(events, lambda e: e["engine"] == "edge" and e.get("Type") == "engine")
        assert found["Action"] == "connected"
        engine.kill(container["Id"])
        died = next_event(
            events,
            lambda e: (
                e["engine"] == "edge"
                and e.get("id") == container["Id"]
                and e.get("Action") == "die"
            ),
        )
        assert died["Type"] == "container"
    finally:
        events.__exit__(None, None, None)
    assert api.delete("/api/docker/engines/edge").status_code == 204
    assert api.get("/api/docker/engines/edge").status_code == 404


def test_a_tcp_engine_with_mutual_tls(
    api: TestClient[Litestar],
    tls_proxy: TLSProxy,
    engine: docker.APIClient,
    make_container: Callable[..., dict[str, Any]],
    stack_names: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = tls_proxy.files
    # A machine-wide CA bundle setting must not replace the engine's own CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", files["other_ca"])
    body = {
        "name": "secure",
        "url": tls_proxy.url,
        "tls_ca": files["ca"],
        "tls_cert": files["client_cert"],
        "tls_key": files["client_key"],
    }
    added = api.post("/api/docker/engines", json=body)
    assert added.status_code == 201, added.text
    assert added.json()["id"] == engine.info()["ID"] and added.json()["tls"] is True
    container = make_container("sleep 3600")
    listed = api.get("/api/docker/ps", params={"engine": "secure", "all": True})
    assert listed.status_code == 200
    row = next(c for c in listed.json() if c["id"] == container["Id"])
    assert row["engine"] == "secure"
    # Compose goes through the same TLS (its own flags, the same files).
    name = stack_names()
    stack = {"name": name, "compose": compose_file(), "env": {"GREETING": "hi"}}
    deployed = api.post("/api/docker/stacks", json=stack, params={"engine": "secure"})
    assert deployed.status_code == 201, deployed.text
    assert states(engine, name) == {"web": "running", "worker": "running"}
    removed = api.delete(f"/api/docker/stacks/{name}", params={"engine": "secure", "volumes": True})
    assert removed.status_code == 204, removed.text
    assert api.delete("/api/docker/engines/secure").status_code == 204

    # An engine whose certificate another CA signed is not trusted: 503 naming it.
    refused = api.post("/api/docker/engines", json={**body, "tls_ca": files["other_ca"]})
    assert refused.status_code == 503, refused.text
    assert tls_proxy.url in refused.json()["detail"]
    assert "is unavailable: TLS certificate verify failed: " in refused.json()["detail"]
    assert "SSL" not in refused.json()["detail"]
    # Without a client certificate the engine refuses the connection.
    anonymous = {"name": "anon", "url": tls_proxy.url, "tls_ca": files["ca"]}
    assert api.post("/api/docker/engines", json=anonymous).status_code == 503
    assert [e["name"] for e in api.get("/api/docker/engines").json()] == ["local"]


def fresh_app(make_settings: Callable[..., Settings], **docker: Any) -> Litestar:
    """A new application on the same data directory (a server restart)."""
    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="docker")
    return create_app(make_settings(docker=docker), plugins=manager)


@pytest.mark.every_database
def test_added_engines_are_kept_across_restarts(
    make_settings: Callable[..., Settings], proxy: SocketProxy
) -> None:
    with TestClient(fresh_app(make_settings)) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        assert (
            client.post("/api/docker/engines", json={"name": "kept", "url": proxy.url}).status_code
            == 201
        )
    with TestClient(fresh_app(make_settings)) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        listed = {e["name"]: e for e in client.get("/api/docker/engines").json()}
        assert listed["kept"] == {
            "name": "kept",
            "url": proxy.url,
            "source": "api",
            "tls": False,
            "insecure": False,
            "available": None,
            "error": None,
            "version": None,
        }
        assert client.get("/api/docker/engines/kept").status_code == 200
        assert client.delete("/api/docker/engines/kept").status_code == 204


def test_a_remote_engine_over_ssh(
    api: TestClient[Litestar],
    sshd: SSHServer,
    engine: docker.APIClient,
    make_container: Callable[..., dict[str, Any]],
) -> None:
    added = api.post("/api/docker/engines", json={"name": "viassh", "url": sshd.url})
    assert added.status_code == 201, added.text
    assert added.json()["id"] == engine.info()["ID"]  # the same engine, reached through SSH
    assert added.json()["url"] == sshd.url

    container = make_container("sleep 3600")
    listed = api.get("/api/docker/stacks", params={"engine": "viassh"})
    assert listed.status_code == 200
    checked = {e["name"]: e for e in api.get("/api/docker/engines?check=true").json()}
    assert checked["viassh"]["available"] is True

    # Events arrive through SSH too.
    events = subscribe_events(api)
    try:
        # (The SSH connection takes a moment: signal until its stream is live.)
        deadline = time.monotonic() + WAIT
        while True:
            engine.kill(container["Id"], signal="SIGUSR1")  # ignored by the container's sh
            with contextlib.suppress(AssertionError):
                event = next_event(
                    events,
                    lambda e: e["engine"] == "viassh" and e.get("id") == container["Id"],
                    timeout=1.0,
                )
                break
            assert time.monotonic() < deadline, "no event came through SSH"
        assert event["Action"] == "kill" and event["Type"] == "container"
    finally:
        events.__exit__(None, None, None)

    # An interactive terminal over the SSH engine; closing it ends the shell.
    ws = api.websocket_connect(
        f"/ws/terminal?provider=docker&target=viassh/{container['Id']}",
        headers=dict(api.headers),
    ).__enter__()
    try:
        term = TerminalProbe(ws)
        term.type("echo over-$((40 + 2))\n")
        term.expect(b"over-42\r\n")
        term.control(type="close")
        assert "code" in term.expect_control("exit")
    finally:
        ws.__exit__(None, None, None)
    deadline = time.monotonic() + WAIT
    while any(p[-1] == "sh" for p in engine.top(container["Id"])["Processes"]):
        assert time.monotonic() < deadline, engine.top(container["Id"])["Processes"]
        time.sleep(0.1)
    assert api.delete("/api/docker/engines/viassh").status_code == 204


def test_a_compose_stack_on_an_ssh_engine(
    api: TestClient[Litestar],
    sshd: SSHServer,
    engine: docker.APIClient,
    stack_names: Callable[[], str],
) -> None:
    """The Compose tool reaches the remote engine through SSH as well (``-H ssh://…``)."""
    assert (
        api.post("/api/docker/engines", json={"name": "viassh", "url": sshd.url}).status_code == 201
    )
    remote = {"engine": "viassh"}
    name = stack_names()
    body = {"name": name, "compose": compose_file(), "env": {"GREETING": "hi"}}
    deployed = api.post("/api/docker/stacks", json=body, params=remote)
    assert deployed.status_code == 201, deployed.text
    assert states(engine, name) == {"web": "running", "worker": "running"}
    listed = {s["name"]: s for s in api.get("/api/docker/stacks", params=remote).json()}
    assert listed[name]["engine"] == "viassh"
    stopped = api.post(f"/api/docker/stacks/{name}/stop", params=remote)
    assert stopped.status_code == 200, stopped.text
    assert set(states(engine, name).values()) == {"exited"}
    removed = api.delete(f"/api/docker/stacks/{name}", params={**remote, "volumes": True})
    assert removed.status_code == 204, removed.text
    assert states(engine, name) == {}


def test_engine_check_says_compose_reaches_an_ssh_engine(
    api: TestClient[Litestar], sshd: SSHServer
) -> None:
    assert (
        api.post("/api/docker/engines", json={"name": "viassh", "url": sshd.url}).status_code == 201
    )
    checked = api.get("/api/docker/engines/viassh/check")
    assert checked.status_code == 200, checked.text
    assert checked.json()["ok"] is True, checked.json()
    assert checked.json()["compose_error"] is None and checked.json()["compose"]


def test_compose_without_paramiko_is_named_before_and_when_a_stack_fails(
    make_settings: Callable[..., Settings], sshd: SSHServer, tmp_path: Path
) -> None:
    """Debian's docker-compose 1.x reaches ssh:// engines through paramiko; without it
    (here: the real docker-compose, with paramiko made impossible to import), the check and
    the deploy's 503 say which tool lacks which package."""
    legacy = shutil.which("docker-compose")
    require_backend(legacy is not None, "no docker-compose (Compose 1.x) to run without paramiko")
    wrapper = tmp_path / "compose_without_paramiko.py"
    wrapper.write_text(
        "import runpy, sys\n"
        "sys.modules['paramiko'] = None  # as if the package were not installed\n"
        f"sys.argv[0] = {legacy!r}\n"
        f"runpy.run_path({legacy!r}, run_name='__main__')\n"
    )
    interpreter = Path(legacy).read_text().splitlines()[0].removeprefix("#!").strip()
    app = fresh_app(make_settings, compose_command=f"{interpreter} {wrapper}")
    with TestClient(app) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        added = client.post("/api/docker/engines", json={"name": "viassh", "url": sshd.url})
        assert added.status_code == 201, added.text
        checked = client.get("/api/docker/engines/viassh/check").json()
        assert checked["ok"] is False and checked["engine_error"] is None
        assert "install python3-paramiko" in checked["compose_error"]
        body = {"name": "nopara", "compose": compose_file()}
        refused = client.post("/api/docker/stacks", json=body, params={"engine": "viassh"})
        assert refused.status_code == 503, refused.text
        assert (
            "Compose 1.x) reaches ssh:// engines through the Python package paramiko"
            in (refused.json()["detail"])
        )


def test_an_ssh_engine_with_an_unknown_host_key_is_refused_with_503(
    api: TestClient[Litestar], sshd: SSHServer
) -> None:
    (Path.home() / ".ssh" / "known_hosts").write_text("")
    answer = api.post("/api/docker/engines", json={"name": "unknown", "url": sshd.url})
    assert answer.status_code == 503, answer.text
    assert sshd.url in answer.json()["detail"]
    reason = f"Server '[127.0.0.1]:{sshd.port}' not found in known_hosts"
    assert answer.json()["detail"].endswith(f"is unavailable: {reason}")


@pytest.mark.every_database
async def test_the_engines_table_matches_its_migrations(database_url: str) -> None:
    database = Database(database_url)
    await database.migrate({"docker": plugin.register_migrations()})
    assert await schema_differences(database, engines_table.metadata) == []
    await database.dispose()
