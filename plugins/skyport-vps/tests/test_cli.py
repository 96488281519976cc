"""``skyport vps …`` run in-process (``main([...])``) in local mode against real sshd instances."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from skyport.testing import CliResult
from skyport.testing import cli_ok as ok

from .conftest import Keys, Sshd

Result = CliResult


@pytest.fixture
def cli(run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``cli("status", stdin="...")`` is ``skyport status``: exit code, stdout, stderr."""
    monkeypatch.setenv("SKYPORT_PLUGINS__STRICT", "true")
    monkeypatch.setenv("SKYPORT_DISABLE_PLUGINS", "hello,docker,pm2,marketplace")
    return run_cli


@pytest.fixture
def vps(cli: Any) -> Any:
    """``vps("servers")`` is ``skyport vps servers`` (local mode unless logged in)."""
    return lambda *args, **kwargs: cli("vps", *args, **kwargs)


def test_servers_are_added_trusted_tested_and_removed(vps: Any, sshd: Sshd, keys: Keys) -> None:
    port = str(sshd.port)
    added = ok(
        vps(
            "add",
            "web-1",
            "127.0.0.1",
            "--port",
            port,
            "--user",
            sshd.user,
            "--key",
            str(keys.client),
            "--tag",
            "web",
        )
    )
    fingerprint = keys.host_fingerprint()
    assert fingerprint in added.out and "Not trusted" in added.out
    assert "PRIVATE" not in added.out + added.err
    listed = ok(vps("servers", "--json")).json()
    assert [(s["name"], s["trusted"]) for s in listed] == [("web-1", False)]

    refused = vps("test", "web-1")
    assert refused.code == 1 and "not trusted yet" in refused.err

    wrong = vps("trust", "web-1", "--fingerprint", "SHA256:wrong")
    assert wrong.code == 1 and fingerprint in wrong.err
    ok(vps("trust", "web-1", "--fingerprint", fingerprint))
    tested = ok(vps("test", "web-1"))
    assert tested.out.startswith("web-1: ok,") and "Linux" in tested.out
    table = ok(vps("servers")).out
    assert "web-1" in table and fingerprint in table

    ok(
        vps(
            "add",
            "db-1",
            "127.0.0.1",
            "--port",
            port,
            "--user",
            sshd.user,
            "--key",
            str(keys.client),
            "--yes",
        )
    )
    assert ok(vps("show", "db-1", "--json")).json()["host_key_fingerprint"] == fingerprint
    assert "Removed db-1." in ok(vps("rm", "db-1")).out
    missing = vps("rm", "db-1")
    assert missing.code == 1 and "no server 'db-1'" in missing.err


def test_run_prefixes_each_line_and_sums_up(
    vps: Any, sshd: Sshd, keys: Keys, closed_port: int
) -> None:
    port = str(sshd.port)
    for name in ("web-1", "web-2"):
        ok(
            vps(
                "add",
                name,
                "127.0.0.1",
                "--port",
                port,
                "--user",
                sshd.user,
                "--key",
                str(keys.client),
                "--tag",
                "web",
                "--yes",
            )
        )

    ran = ok(vps("run", "--tag", "web", "--", "echo", "hello world; echo two"))
    lines = ran.out.splitlines()
    for name in ("web-1", "web-2"):
        assert f"{name} | hello world; echo two" in lines
    assert "[SUCCESS] web-1 exit 0" in ran.err and "2 of 2 servers succeeded" in ran.err

    shell = vps("run", "web-1", "web-2", "--", "echo $((6 * 7)); echo oops >&2; exit 4")
    assert shell.code == 1
    assert "web-1 | 42" in shell.out and "web-2 | oops" in shell.err
    assert "[FAILURE] web-1 exit 4" in shell.err and "0 of 2 servers succeeded" in shell.err

    as_json = ok(vps("run", "--all", "--json", "--", "uname -s"))
    assert {n: r["stdout"] for n, r in as_json.json()["results"].items()} == {
        "web-1": "Linux\n",
        "web-2": "Linux\n",
    }
    assert "give the command after --" in vps("run", "web-1").err


def test_files_and_the_shell(vps: Any, sshd: Sshd, keys: Keys, tmp_path: Path) -> None:
    ok(
        vps(
            "add",
            "web-1",
            "127.0.0.1",
            "--port",
            str(sshd.port),
            "--user",
            sshd.user,
            "--key",
            str(keys.client),
            "--yes",
        )
    )
    local = tmp_path / "hello.txt"
    local.write_text("hello over sftp\n")
    remote = tmp_path / "remote"
    remote.mkdir()
    ok(vps("put", "web-1", str(local), f"{remote}/", "--mode", "0640"))
    assert (remote / "hello.txt").read_text() == "hello over sftp\n"
    listing = ok(vps("files", "web-1", str(remote))).out
    assert "0640" in listing and "hello.txt" in listing
    back = tmp_path / "back.txt"
    got = ok(vps("get", "web-1", str(remote / "hello.txt"), str(back), "--json")).json()
    assert got["size"] == 16 and back.read_text() == "hello over sftp\n"
    missing = vps("get", "web-1", str(remote / "nope"), str(back))
    assert missing.code == 1 and "no such file" in missing.err

    shell = vps("ssh", "web-1", stdin="echo hi-$((40 + 2))\nexit 3\n")
    assert shell.code == 3, shell
    assert "hi-42" in shell.out
    one = vps("ssh", "web-1", "--", "sh", "-c", "echo via-$((1 + 1)); exit 5")
    assert one.code == 5, one
    assert "via-2" in one.out


def test_hosts_are_imported_from_an_ssh_config(
    vps: Any, sshd: Sshd, keys: Keys, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(
        f"Host box\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
        f"  IdentityFile {keys.client}\n"
    )
    imported = ok(vps("import-ssh-config", str(config), "--tag", "lab"))
    assert "Added box" in imported.out
    ok(vps("trust", "box", "--fingerprint", keys.host_fingerprint()))
    assert ok(vps("test", "box", "--json")).json()["ok"] is True


def test_remote_mode_streams_a_run_and_opens_a_shell(
    cli: Any, vps: Any, vps_app: Any, sshd: Sshd, keys: Keys
) -> None:
    """Against a real server on loopback: the run's live output comes over the WebSocket."""
    from skyport.testing import ADMIN_PASSWORD, LiveServer

    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)  # the server's handlers would print the client's lines
    try:
        with LiveServer(vps_app) as server:
            login = cli(
                "login", server.url, "-u", "admin", "--password-stdin", stdin=ADMIN_PASSWORD
            )
            assert login.code == 0, login
            ok(
                vps(
                    "add",
                    "web-1",
                    "127.0.0.1",
                    "--port",
                    str(sshd.port),
                    "--user",
                    sshd.user,
                    "--key",
                    str(keys.client),
                    "--yes",
                )
            )
            ran = ok(vps("run", "web-1", "--", "for i in 1 2 3; do echo line $i; done"))
            assert [line for line in ran.out.splitlines() if line.startswith("web-1 |")] == [
                "web-1 | line 1",
                "web-1 | line 2",
                "web-1 | line 3",
            ]
            shell = vps("ssh", "web-1", stdin="echo remote-$((20 + 1))\nexit 2\n")
            assert shell.code == 2 and "remote-21" in shell.out
    finally:
        httpx_log.setLevel(level)
