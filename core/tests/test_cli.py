"""The ``skyport`` CLI, run in-process (``main([...])``) and, for start-up, as a program.

Local mode runs against an in-process app on the test's data dir; remote mode
against a real uvicorn server on loopback. No keyring backend exists in the
tests (``PYTHON_KEYRING_BACKEND`` is the fail backend), so logins go to the
0600 credentials file under the temporary home.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
from keyring.backend import KeyringBackend

from skyport import __version__
from skyport.cli import credentials
from skyport.client import Client
from skyport.config import load_settings
from skyport.store.revisions import CORE_VERSIONS, declared_heads
from skyport.testing import CliResult, one_line_error

from .conftest import ADMIN_PASSWORD, LiveServer, bearer, free_port

Result = CliResult
Run = Callable[..., Result]


@pytest.fixture
def cli(run_cli: Run) -> Run:
    """``cli("users", "list", stdin="...")`` → exit code, stdout, stderr."""
    return run_cli


@pytest.fixture
def logged_in(cli: Run, live_server: LiveServer) -> LiveServer:
    result = cli("login", live_server.url, "-u", "admin", "--password-stdin", stdin=ADMIN_PASSWORD)
    assert result.code == 0, result
    return live_server


# -- without a server: local mode -----------------------------------------------------


def test_version(cli: Run) -> None:
    assert cli("--version").out.strip() == __version__


def test_local_status_json_is_the_api_answer(cli: Run) -> None:
    result = cli("status", "--json")
    assert result.code == 0, result
    status = result.json()
    assert isinstance(status, dict)
    assert status["version"] == __version__ and status["plugins"]["loaded"][0] == "core"
    text = cli("status")
    assert "in-process (local mode)" in text.out and "uptime" in text.out


def test_local_users_add_list_role_remove(cli: Run) -> None:
    added = cli(
        "users",
        "add",
        "dave",
        "--role",
        "operator",
        "--password-stdin",
        "--json",
        stdin="dave-password\n",
    )
    assert added.code == 0, added
    user = added.json()
    assert isinstance(user, dict) and (user["username"], user["role"]) == ("dave", "operator")
    listed = cli("users", "list", "--json").json()
    assert [u["username"] for u in listed] == ["admin", "dave"]  # type: ignore[attr-defined]
    assert "dave" in cli("users", "list").out
    new_password = cli("users", "passwd", "dave", "--password-stdin", stdin="dave-password-2\n")
    assert new_password.code == 0 and "dave has a new password" in new_password.out
    changed = cli("users", "role", "dave", "viewer", "--json")
    assert changed.json()["role"] == "viewer"  # type: ignore[index]
    removed = cli("users", "remove", "dave", "--json")
    assert removed.code == 0 and removed.json() is None
    gone = cli("users", "remove", "dave")
    assert "no user 'dave'" in one_line_error(gone)


def test_local_users_add_reports_the_servers_validation(cli: Run) -> None:
    short = cli("users", "add", "erin", "--password-stdin", stdin="short\n")
    assert "password" in one_line_error(short) and "HTTP 400" in short.err
    missing = cli("users", "add", "erin", "--password-stdin", stdin="")
    assert "no password on standard input" in one_line_error(missing)


def test_local_tokens_create_list_revoke(cli: Run) -> None:
    created = cli(
        "tokens",
        "create",
        "ci",
        "--scope",
        "status:read",
        "-s",
        "metrics:read",
        "--expires-in-days",
        "7",
        "--json",
    )
    assert created.code == 0, created
    answer = created.json()
    assert isinstance(answer, dict) and answer["token"].startswith("skp_")
    info = answer["info"]
    assert info["scopes"] == ["metrics:read", "status:read"] and info["expires_at"]
    listed = cli("tokens", "list", "--json").json()
    assert [t["id"] for t in listed] == [info["id"]]  # type: ignore[attr-defined]
    assert cli("tokens", "revoke", info["id"], "--json").json() is None
    assert cli("tokens", "list", "--json").json()[0]["revoked"] is True  # type: ignore[index]
    assert "no active API token" in one_line_error(cli("tokens", "revoke", info["id"]))
    assert "--scope" in one_line_error(cli("tokens", "create", "noscope"))


def test_local_metrics_once(cli: Run) -> None:
    snapshot = cli("metrics", "--json").json()
    assert isinstance(snapshot, dict) and snapshot["collectors"]["host"]["memory"]["total"] > 0
    text = cli("metrics").out
    for label in ("== host", "cpu", "load", "memory", "swap", "INTERFACE", "TOP CPU"):
        assert label in text


def test_local_plugins(cli: Run) -> None:
    records = cli("plugins", "--json").json()
    assert isinstance(records, list) and records[0]["name"] == "core"
    assert "core (built in)" in cli("plugins").out


def test_logout_without_login_says_so(cli: Run) -> None:
    assert "not logged in" in one_line_error(cli("logout"))


# -- against a real server: remote mode ------------------------------------------------


def test_login_stores_a_0600_file_and_later_commands_go_remote(
    cli: Run, logged_in: LiveServer
) -> None:
    path = credentials.path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["current"] == logged_in.url
    assert stored["servers"][logged_in.url]["store"] == "file"
    status = cli("status", "--json").json()
    assert status["plugins"]["loaded"] == ["core"]  # type: ignore[index]
    assert logged_in.url in cli("status").out


def test_remote_metrics_once_and_watch(cli: Run, logged_in: LiveServer) -> None:
    snapshot = cli("metrics", "--json").json()
    assert "host" in snapshot["collectors"]  # type: ignore[index]
    watched = cli("metrics", "--watch", "--count", "1", "--json")
    assert watched.code == 0, watched
    lines = watched.out.splitlines()
    assert len(lines) == 1
    message = json.loads(lines[0])
    assert message["topic"] == "metrics" and message["data"]["collector"] == "host"
    page = cli("metrics", "--watch", "--count", "1")
    assert page.code == 0 and "== host" in page.out and "memory" in page.out


def test_logout_returns_to_local_mode(cli: Run, logged_in: LiveServer) -> None:
    result = cli("logout")
    assert result.code == 0 and f"Logged out of {logged_in.url}." in result.out
    assert "local mode again" in result.out
    assert credentials.current_url() is None
    local = cli("status")
    assert local.code == 0 and "local mode" in local.out


def test_logout_keeping_the_server_asks_to_log_in_again(cli: Run, logged_in: LiveServer) -> None:
    result = cli("logout", "--keep-server")
    assert result.code == 0 and "skyport login to log in again" in result.out
    error = one_line_error(cli("status"))
    assert "not logged in" in error and f"skyport login {logged_in.url}" in error
    assert credentials.current_url() == logged_in.url
    again = cli("logout")
    assert again.code == 0 and "nothing to end" in again.out
    assert credentials.current_url() is None


def test_viewer_gets_a_403_naming_the_scope(cli: Run, logged_in: LiveServer) -> None:
    added = cli(
        "users", "add", "vic", "--role", "viewer", "--password-stdin", stdin="vic-password\n"
    )
    assert added.code == 0, added
    login = cli("login", "-u", "vic", "--password-stdin", stdin="vic-password\n")
    assert login.code == 0 and "as vic (role viewer)" in login.out
    error = one_line_error(cli("users", "list"))
    assert error == "skyport: error: permission denied: missing scope users:admin\n"


def test_an_ended_session_reads_as_expired(cli: Run, logged_in: LiveServer) -> None:
    cli("users", "add", "ivy", "--role", "viewer", "--password-stdin", stdin="ivy-password\n")
    admin_token = credentials.token_for(logged_in.url)
    cli("login", "-u", "ivy", "--password-stdin", stdin="ivy-password\n")
    # An admin changes ivy's role: her sessions end at once.
    response = httpx.patch(
        f"{logged_in.url}/api/users/ivy",
        json={"role": "operator"},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert response.status_code == 200
    error = one_line_error(cli("status"))
    assert "session expired" in error and "skyport login" in error


def test_wrong_password_is_one_line(cli: Run, live_server: LiveServer) -> None:
    result = cli("login", live_server.url, "-u", "admin", "--password-stdin", stdin="wrong\n")
    assert "login to" in one_line_error(result) and "invalid username or password" in result.err
    assert credentials.current_url() is None


def test_unreachable_server_names_the_url(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    login = cli("login", url, "-u", "admin", "--password-stdin", stdin="x\n")
    assert f"cannot reach the SkyPort server at {url}" in one_line_error(login)
    monkeypatch.setenv("SKYPORT_URL", url)
    monkeypatch.setenv("SKYPORT_TOKEN", "skp_whatever")
    assert url in one_line_error(cli("status"))


# -- config ------------------------------------------------------------------------------


def test_config_show_and_path(cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "skyport.yaml"
    config.write_text(
        "server:\n  port: 9123\n"
        "database:\n  url: postgresql+asyncpg://sky:hunter2@db.local/skyport\n"
        "hello:\n  greeting: hi\n  api_token: abc\n"
    )
    monkeypatch.setenv("SKYPORT_CONFIG", str(config))
    shown = cli("config", "show")
    assert shown.code == 0, shown
    assert "port: 9123" in shown.out and "greeting: hi" in shown.out
    assert "hunter2" not in shown.out and "abc" not in shown.out
    as_json = cli("config", "show", "--json").json()
    assert as_json["hello"]["api_token"] == "********"  # type: ignore[index]
    assert as_json["database"]["url"] == "postgresql+asyncpg://sky:********@db.local/skyport"  # type: ignore[index]
    where = cli("config", "path", "--json").json()
    assert where["config_files"] == [str(config)]  # type: ignore[index]
    assert where["data_dir"] == os.environ["SKYPORT_DATA_DIR"]  # type: ignore[index]
    assert str(config) in cli("config", "path").out


def test_config_path_lists_the_default_places(cli: Run) -> None:
    result = cli("config", "path")
    assert result.code == 0
    assert "config.yaml  (not present)" in result.out and "data dir" in result.out


def test_bad_config_is_one_line_and_exit_2(cli: Run, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("server:\n  port: lots\n")
    result = cli("serve", "--config", str(config))
    assert result.code == 2 and "server.port = 'lots'" in one_line_error(result)
    missing = cli("serve", "--config", str(tmp_path / "nope.yaml"))
    assert missing.code == 2 and "does not exist" in one_line_error(missing)
    no_cert = cli("serve", "--keyfile", str(config))
    assert no_cert.code == 2 and "--keyfile needs --certfile" in one_line_error(no_cert)


def test_serve_on_a_taken_port_or_a_foreign_address_says_so_before_starting(cli: Run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = cli("serve", "--host", "127.0.0.1", "--port", str(port))
    assert busy.code == 1, busy
    assert one_line_error(busy) == (
        f"skyport: error: cannot listen on 127.0.0.1:{port}: the port is already in use"
        " (another SkyPort, or another program); choose another with --port (or server.port)\n"
    )
    assert "serving on" not in busy.out + busy.err and "startup" not in busy.err
    elsewhere = cli("serve", "--host", "192.0.2.1", "--port", str(free_port()))  # TEST-NET-1
    assert elsewhere.code == 1 and "no such address on this machine" in one_line_error(elsewhere)


def test_a_missing_config_file_points_to_config_init_which_writes_every_section(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "etc" / "skyport.yaml"
    monkeypatch.setenv("SKYPORT_CONFIG", str(config))
    missing = cli("users", "list")
    assert missing.code == 2
    assert f"`skyport config init {config}` writes one" in one_line_error(missing)

    written = cli("config", "init")
    assert written.code == 0 and written.out.strip() == f"wrote {config}"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    text = config.read_text()
    assert (
        "#   port: 8080" in text and "# auth:" in text and "# docker:  # the docker plugin" in text
    )
    assert "revocation_check_seconds: 2.0  # How often open WebSockets" in text
    assert cli("config", "show", "--json").json()["server"]["port"] == 8080  # type: ignore[index]
    assert cli("users", "list").code == 0

    again = cli("config", "init")
    assert again.code == 1 and "--force replaces it" in one_line_error(again)
    config.write_text(
        config.read_text().replace("#   port: 8080", "  port: 9001").replace("# server:", "server:")
    )
    assert cli("config", "show", "--json").json()["server"]["port"] == 9001  # type: ignore[index]


def test_install_completion_writes_a_script(cli: Run, tmp_path: Path) -> None:
    script = tmp_path / "skyport.bash"
    result = cli("--install-completion", "--shell", "bash", "--output", str(script))
    assert result.code == 0, result
    text = script.read_text()
    assert "users" in text and "passwd" in text and "--password-stdin" in text


# -- as a program: start-up, plugin groups, serve ----------------------------------------


def write_plugin(site: Path, name: str, module: str, body: str, summary: str) -> None:
    """An installed distribution (dist-info with an entry point) plus its module."""
    dist = site / f"{module}-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\nSummary: {summary}\n"
    )
    (dist / "entry_points.txt").write_text(f"[skyport]\n{name} = {module}\n")
    (site / f"{module}.py").write_text(textwrap.dedent(body))


PLUGIN = """
    import cyclopts
    from skyport import hookimpl

    app = cyclopts.App(name="something-else")

    @app.command
    def hi(who: str = "world") -> None:
        print(f"hi {who} from the plugin")

    @hookimpl
    def register_commands():
        return f"{__name__}:app"
"""


@pytest.fixture
def program_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    write_plugin(site, "fakeplug", "fakeplug_mod", PLUGIN, "A fake plugin for the CLI tests.")
    write_plugin(
        site,
        "brokenplug",
        "brokenplug_mod",
        "raise ImportError('no engine')\n",
        "A plugin that cannot load.",
    )
    write_plugin(site, "users", "clash_mod", "raise SystemExit('imported!')\n", "Clashes.")
    return {**os.environ, "PYTHONPATH": str(site)}


def run_program(
    env: dict[str, str], *args: str, code: str = ""
) -> subprocess.CompletedProcess[str]:
    script = code or "import sys; from skyport.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_help_lists_plugin_groups_without_importing_plugins(program_env: dict[str, str]) -> None:
    probe = (
        "import sys\n"
        "from skyport.cli import main\n"
        "code = main(['--help'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ("
        "'fakeplug_mod', 'brokenplug_mod', 'clash_mod', 'litestar', 'uvicorn', 'sqlalchemy',"
        " 'httpx', 'keyring', 'websockets', 'msgspec', 'textual'))\n"
        "print('IMPORTED', heavy)\n"
        "sys.exit(code)\n"
    )
    result = run_program(program_env, code=probe)
    assert result.returncode == 0, result.stderr
    assert "IMPORTED []" in result.stdout
    assert "fakeplug" in result.stdout and "A fake plugin for the CLI tests." in result.stdout
    assert "brokenplug" in result.stdout and "Plugins" in result.stdout


def test_running_a_plugin_group_imports_and_runs_it(program_env: dict[str, str]) -> None:
    result = run_program(program_env, "fakeplug", "hi", "--who", "tests")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hi tests from the plugin"


def test_a_broken_plugin_is_one_line(program_env: dict[str, str]) -> None:
    result = run_program(program_env, "brokenplug", "anything")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "skyport: error: plugin 'brokenplug' failed to load: ImportError: no engine"
    )


def test_a_plugin_cannot_take_a_core_command(program_env: dict[str, str]) -> None:
    result = run_program(program_env, "users", "--help")
    assert result.returncode == 0 and "Manage user accounts" in result.stdout


@contextmanager
def serving(*flags: str, scheme: str = "http", verify: Any = True) -> Iterator[str]:
    """``skyport serve --port <free> *flags`` as a program; yields its URL once healthy."""
    port = free_port()
    url = f"{scheme}://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "skyport.cli", "serve", "--port", str(port), *flags],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/api/health", timeout=2, verify=verify)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("skyport serve did not come up") from None
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        yield url
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"SkyPort serving on {url}" in output


def test_serve_answers_on_the_given_port() -> None:
    with serving() as url:
        assert url.startswith("http://127.0.0.1:")
        # On SQLite the server is a cluster of one: it lists itself, up, under its host name.
        token = httpx.post(
            f"{url}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        ).json()["token"]
        (node,) = httpx.get(f"{url}/api/nodes", headers={"Authorization": f"Bearer {token}"}).json()
        assert node["state"] == "up" and node["this"] and node["url"] == url


def test_local_commands_reach_a_running_server_through_its_socket(cli: Run) -> None:
    data_dir = Path(os.environ["SKYPORT_DATA_DIR"])
    path = data_dir / "skyport.sock"
    with serving() as url:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert f"the server on this machine (unix:{path})" in cli("status").out
        added = cli(
            "users", "add", "erin", "--role", "viewer", "--password-stdin", stdin="erin-password\n"
        )
        assert added.code == 0, added
        # The running server made the user: it can log in over TCP at once.
        login = {"username": "erin", "password": "erin-password"}
        assert httpx.post(f"{url}/api/auth/login", json=login).status_code == 200
        # The socket's session route is not part of the API served over TCP.
        assert httpx.post(f"{url}/local/session").status_code in (401, 404)
        # WebSockets go through the socket too.
        with Client.on_this_machine(load_settings()) as client, client.feed(["metrics"]) as feed:
            assert client.mode == "socket"
            sample = next(m["data"] for m in feed if m.get("topic") == "metrics")
        assert sample["collector"] and isinstance(sample["data"], dict)
        admin = {"username": "admin", "password": ADMIN_PASSWORD}
        token = httpx.post(f"{url}/api/auth/login", json=admin).json()["token"]
        audit = httpx.get(
            f"{url}/api/audit", params={"action": "auth.login"}, headers=bearer(token)
        ).json()
        assert any(e["result"] == "ok (local socket)" for e in audit["items"]), audit
    assert not path.exists()
    # A socket left by a server that was killed: the next command runs in-process.
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(path))
    left.close()
    assert "in-process (local mode)" in cli("status").out


def test_node_takes_a_name(cli: Run) -> None:
    result = cli("--node")
    assert result.code == 2 and "--node needs a node name" in result.err


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl program")
def test_serve_tls_and_talk_to_it(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    flags = ("--certfile", str(cert), "--keyfile", str(key))
    with serving(*flags, scheme="https", verify=ssl.create_default_context(cafile=cert)) as url:
        untrusted = cli("login", url, "-u", "admin", "--password-stdin", stdin=ADMIN_PASSWORD)
        assert "certificate" in one_line_error(untrusted)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        login = cli("login", url, "-u", "admin", "--password-stdin", stdin=ADMIN_PASSWORD)
        assert login.code == 0, login
        assert cli("status", "--json").json()["version"] == __version__  # type: ignore[index]
        watched = cli("metrics", "--watch", "--count", "1", "--json")
        assert watched.code == 0 and json.loads(watched.out)["topic"] == "metrics"


# -- credentials with an OS keyring ------------------------------------------------------


class MemoryKeyring(KeyringBackend):
    """A working keyring backend, as an OS keyring would be (tests have none)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def test_the_token_goes_to_a_real_keyring_when_there_is_one() -> None:
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        where = credentials.save("https://h.example", "secret-token", "admin", None)
        assert where.startswith("the OS keyring")
        stored = json.loads(credentials.path().read_text())
        assert "token" not in stored["servers"]["https://h.example"]
        assert "secret-token" not in credentials.path().read_text()
        assert credentials.token_for("https://h.example") == "secret-token"
        credentials.forget("https://h.example")
        assert memory.get_password("skyport", "https://h.example") is None
    finally:
        keyring.set_keyring(previous)


def test_the_fail_keyring_means_the_file() -> None:
    assert credentials.keyring_backend() is None  # PYTHON_KEYRING_BACKEND=fail in tests


def test_terminal_lists_providers_and_runs_a_command_in_the_host_shell(
    cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKYPORT_TERMINAL__HOST_SHELL", "true")
    monkeypatch.setenv("SKYPORT_TERMINAL__SHELL", "/bin/sh")
    listed = cli("terminal", "--list", "--json")
    assert listed.code == 0, listed
    host = next(p for p in listed.json() if p["name"] == "host")  # type: ignore[union-attr]
    assert host["allowed"] is True and host["scope"] == "host:shell"
    assert "host" in cli("terminal", "--list").out
    ran = cli("terminal", "host", "--", "sh", "-c", "echo from-$((6 * 7)); exit 3")
    assert ran.code == 3, ran
    assert "from-42" in ran.out and "exit 3" not in ran.out  # the typed line is not shown
    typed = cli("terminal", "host", stdin="echo typed-$((1 + 1))\nexit 4\n")
    assert typed.code == 4 and "typed-2" in typed.out


def test_terminal_refused_provider_is_one_line(cli: Run) -> None:
    result = cli("terminal", "host")  # the host shell is off by default
    assert result.code == 1
    assert one_line_error(result).startswith("skyport: error:")


def test_local_mode_server_warnings_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from skyport.client import Client

    with Client.local() as client:
        assert client.get("/api/health")["status"] == "ok"
        capsys.readouterr()
        logging.getLogger("skyport.docker").warning("docker engine x left out of a listing")
        logging.getLogger("skyport.docker").info("not shown")
    err = capsys.readouterr().err
    assert err == "skyport: WARNING: docker engine x left out of a listing\n"


def test_usage_errors_are_one_line_with_exit_2(cli: Run) -> None:
    unknown = cli("users", "add", "--nosuch-flag")
    assert unknown.code == 2 and unknown.out == ""
    assert len(unknown.err.splitlines()) == 1
    assert unknown.err.startswith("skyport: error: Unknown option: --nosuch-flag")
    assert unknown.err.rstrip().endswith("(see 'skyport users add --help')")
    bad = cli("metrics", "--count", "many")
    assert bad.code == 2 and len(bad.err.splitlines()) == 1
    assert "--count" in bad.err and "'skyport metrics --help'" in bad.err
    nothing = cli("no-such-command")
    assert nothing.code == 2 and "Unknown command" in one_line_error(nothing)


# -- the database schema -------------------------------------------------------------------


def test_db_upgrade_current_and_history(cli: Run) -> None:
    behind = cli("db", "current", "--json")
    assert behind.code == 3, behind  # nothing applied yet: a script can tell
    core = next(s for s in behind.json() if s["component"] == "core")  # type: ignore[union-attr]
    assert core["current"] is None and core["behind"][0] == "core_0001"

    upgraded = cli("db", "upgrade", "--json")
    assert upgraded.code == 0, upgraded
    assert upgraded.json()["applied"][0] == "core_0001"  # type: ignore[index]
    assert cli("db", "upgrade").out.strip() == "the schema is up to date"

    current = cli("db", "current")
    assert current.code == 0, current
    core_head = max(declared_heads([CORE_VERSIONS]) or ())
    assert current.out.splitlines()[1].split() == [
        "core",
        core_head,
        core_head,
        "up",
        "to",
        "date",
    ]
    history = cli("db", "history", "--json").json()
    assert {"component": "core", "revision": "core_0001"}.items() <= history[0].items()  # type: ignore[index]
    assert all(r["applied"] for r in history)  # type: ignore[union-attr]


def test_a_first_admin_password_too_short_is_one_line(
    cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKYPORT_ADMIN_PASSWORD", "short")
    result = cli("users", "list")
    assert result.code == 2
    assert one_line_error(result) == (
        "skyport: error: SKYPORT_ADMIN_PASSWORD: password must be at least 8 characters\n"
    )
