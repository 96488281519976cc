"""``skyport pm2 …`` run in-process (``main([...])``) against the real daemon.

No server is configured, so the CLI runs in local mode: the application
runs in-process on the test's data dir, with the pm2 plugin pointed at the
session's daemon through ``SKYPORT_PM2__*``. The last test logs in to a
real server and follows logs from a separate ``skyport`` process.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from skyport.testing import ADMIN_PASSWORD, CliResult, LiveServer, one_line_error, wait_for
from skyport.testing import cli_ok as ok

from .conftest import WAIT, pm2_binary, rpc

Result = CliResult
Run = Callable[..., Result]


@pytest.fixture
def cli(daemon: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``cli("list", "--json")`` is ``skyport pm2 list --json``: exit code, stdout, stderr."""
    monkeypatch.setenv("SKYPORT_PLUGINS__STRICT", "true")
    monkeypatch.setenv("SKYPORT_DISABLE_PLUGINS", "hello,docker,vps")
    monkeypatch.setenv("SKYPORT_PM2__HOME", str(daemon))
    monkeypatch.setenv("SKYPORT_PM2__BIN", pm2_binary() or "")

    def run(*args: str, stdin: str = "", group: str = "pm2") -> Result:
        return run_cli(*([group, *args] if group else args), stdin=stdin)

    return run


def test_start_list_describe_and_the_life_cycle(
    cli: Run, scripts: Path, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("cli")
    monkeypatch.chdir(scripts)  # a relative script is taken from here
    started = ok(cli("start", "logger.js", "--name", name, "--set", "API_KEY=cli-secret", "--json"))
    (pm_id,) = started.json()["ids"]

    table = ok(cli("list")).out.splitlines()
    assert table[0].split()[:3] == ["ID", "NAME", "NAMESPACE"]
    assert any(line.split()[:2] == [str(pm_id), name] and "online" in line for line in table)
    rows = ok(cli("ls", "--json")).json()
    assert [(r["name"], r["status"]) for r in rows] == [(name, "online")]

    described = ok(cli("describe", name)).out
    assert "env API_KEY" in described and "cli-secret" not in described
    assert [line.split() for line in described.splitlines() if line.startswith("script ")] == [
        ["script", str(scripts / "logger.js")]
    ]
    (detail,) = ok(cli("describe", str(pm_id), "--json")).json()
    assert detail["env"]["API_KEY"] == "<redacted>"
    (revealed,) = ok(cli("describe", name, "--reveal-env", "--json")).json()
    assert revealed["env"]["API_KEY"] == "cli-secret"  # local mode acts as the first admin
    # the app's own metrics show with their units, as pm2 describe shows them
    wait_for(
        lambda: "Heap Size" in ok(cli("describe", name, "--json")).json()[0]["metrics"],
        "the app's metrics",
    )
    (metrics,) = ok(cli("describe", name, "--json")).json()
    assert metrics["metric_units"]["Heap Size"] == "MiB"
    heap = next(
        line for line in ok(cli("describe", name)).out.splitlines() if "metric Heap Size " in line
    )
    assert heap.endswith(" MiB"), heap

    assert ok(cli("stop", name, "--json")).json()[0]["status"] == "stopped"
    assert "online" in ok(cli("restart", str(pm_id))).out
    assert ok(cli("reload", name, "--json")).json()[0]["status"] == "online"
    assert ok(cli("reset", name, "--json")).json()[0]["restarts"] == 0
    assert ok(cli("sendSignal", "SIGCONT", name, "--json")).json()[0]["name"] == name
    assert ok(cli("delete", name)).out == f"[{name}]({pm_id}) deleted\n"
    assert ok(cli("list")).out == "no PM2 process\n"
    for action in ("stop", "restart", "delete"):
        assert ok(cli(action, "all")).out == "no PM2 process\n"
    assert ok(cli("stop", "all", "--json")).json() == []


def test_cluster_start_with_instances_args_and_scale(
    cli: Run, scripts: Path, unique: Callable[[str], str]
) -> None:
    name = unique("cli-cluster")
    script = str(scripts / "server.js")
    started = ok(cli("start", script, "-i", "2", "--name", name, "--set", "PORT=0", "--json"))
    assert len(started.json()["ids"]) == 2
    assert {p["mode"] for p in started.json()["processes"]} == {"cluster"}
    assert ok(cli("scale", name, "3")).out == f"[{name}] scaled to 3 instances\n"
    assert ok(cli("scale", name, "-1", "--json")).json()["instances"] == 2
    args_name = unique("cli-args")
    logger = str(scripts / "logger.js")
    node_args = ("--node-args", "--max-old-space-size=64")
    ok(cli("start", logger, "--name", args_name, *node_args, "--", "--verbose", "-x"))
    (detail,) = ok(cli("describe", args_name, "--json")).json()
    assert detail["args"] == ["--verbose", "-x"]
    assert detail["interpreter_args"] == ["--max-old-space-size=64"]


def test_logs_and_flush(cli: Run, scripts: Path, unique: Callable[[str], str]) -> None:
    name = unique("cli-logs")
    started = ok(cli("start", str(scripts / "crasher.js"), "--name", name, "--no-autorestart"))
    pm_id = started.out.splitlines()[1].split()[0]
    wait_for(
        lambda: rpc_status(name) == "stopped",
        "the crasher to end",
    )
    # as pm2 logs: every line on stdout (pipes see errors too); --raw keeps stderr apart
    shown = ok(cli("logs", name, "--lines", "5"))
    assert shown.out.endswith(f"|{name} | about to crash\n{pm_id}|{name} | crash: no reason\n")
    assert shown.err == ""
    raw = ok(cli("logs", name, "--raw"))
    assert (raw.out, raw.err) == ("about to crash\n", "crash: no reason\n")
    lines = ok(cli("logs", name, "--json")).json()["lines"]
    assert [line["stream"] for line in lines] == ["out", "err"]
    flushed = ok(cli("flush", name)).out.splitlines()
    assert len(flushed) == 2 and all(line.startswith("flushed ") for line in flushed)
    assert ok(cli("logs", name, "--raw")).out == ""
    assert ok(cli("flush", "--json")).json()["files"] is not None


_HOME: list[Path] = []


def rpc_status(name: str) -> str | None:
    procs = rpc(_HOME[0], "getMonitorData", {})
    return next((p["pm2_env"]["status"] for p in procs if p["name"] == name), None)


@pytest.fixture(autouse=True)
def _remember_home(daemon: Path) -> Iterator[None]:
    _HOME[:] = [daemon]
    yield


def test_save_resurrect_ecosystem(cli: Run, scripts: Path, daemon: Path) -> None:
    file = str(scripts / "ecosystem.config.js")
    listed = ok(cli("ecosystem", file)).out
    assert "eco-logger" in listed and "ECO_SECRET" in listed and "eco-hunter2" not in listed
    started = ok(cli("start", file, "--only", "eco-logger", "--json")).json()
    assert [p["name"] for p in started["processes"]] == ["eco-logger"]
    assert ok(cli("ecosystem", file, "--json")).json()["apps"][0]["running"] == 1
    saved = ok(cli("save")).out
    assert saved == f"saved 1 processes in {daemon / 'dump.pm2'}\n"
    ok(cli("delete", "all"))
    assert [r["name"] for r in ok(cli("resurrect", "--json")).json()] == ["eco-logger"]


def test_errors_are_one_line(cli: Run, scripts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "no PM2 process named 'ghost'" in one_line_error(cli("stop", "ghost"))
    assert "404" in one_line_error(cli("describe", "ghost"))
    missing = one_line_error(cli("start", str(scripts / "missing.js")))
    assert str(scripts / "missing.js") in missing
    monkeypatch.chdir(scripts)
    assert str(scripts / "gone.js") in one_line_error(cli("start", "gone.js"))
    assert "KEY=VALUE" in one_line_error(cli("start", str(scripts / "logger.js"), "--set", "X"))
    partly = cli("stop", "ghost", "phantom")
    assert partly.code == 1 and partly.err.count("\n") == 2


def test_an_unknown_start_option_is_refused_not_passed_to_the_script(
    cli: Run, scripts: Path, unique: Callable[[str], str]
) -> None:
    name = unique("typo")
    # as pm2 start: a typo (--instance for --instances) must not start the app with it as args
    typo = cli("start", str(scripts / "logger.js"), "--name", name, "--instance", "2")
    assert typo.code != 0 and "--instance" in typo.err, typo
    assert ok(cli("list", "--json")).json() == []


def test_cli_module_imports_nothing_heavy() -> None:
    code = (
        "import sys; import skyport_pm2.cli; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('litestar', 'httpx') "
        "or m.startswith(('skyport_pm2.api', 'skyport_pm2.service'))); print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.fixture
def remote(cli: Run, pm2_app: Litestar) -> Iterator[LiveServer]:
    """A real server with the pm2 plugin on loopback, logged in to as admin."""
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)
    with LiveServer(pm2_app) as server:
        login = cli(
            "login", server.url, "-u", "admin", "--password-stdin", stdin=ADMIN_PASSWORD, group=""
        )
        assert login.code == 0, login
        yield server
    httpx_log.setLevel(level)


def test_remote_mode_lists_and_follows_logs(
    cli: Run, remote: LiveServer, scripts: Path, unique: Callable[[str], str]
) -> None:
    name = unique("remote")
    ok(cli("start", str(scripts / "logger.js"), "--name", name))
    assert [r["name"] for r in ok(cli("list", "--json")).json()] == [name]
    wait_for(lambda: "warn" in ok(cli("logs", name, "--raw")).err, "a first warning")
    command = [sys.executable, "-m", "skyport.cli", "pm2", "logs", name, "-f", "--lines", "1"]
    follower = subprocess.Popen(
        [*command, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SKYPORT_DISABLE_PLUGINS": "hello,docker,vps"},
    )
    try:
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and sum("warn" in s["line"] for s in seen) < 2:
            line = follower.stdout.readline() if follower.stdout else ""
            if not line:
                break
            seen.append(json.loads(line))
        # past lines (from the files) and live ones (from the bus) look the same: one line each
        assert {s["stream"] for s in seen[:2]} == {"out", "err"}, seen
        assert any(s["stream"] == "out" and s["line"].startswith("tick") for s in seen), seen
        assert any(s["stream"] == "err" and s["line"].startswith("warn") for s in seen), seen
        assert all("\n" not in s["line"] for s in seen), seen
        assert all(set(s) - {"at"} == {"name", "pm_id", "stream", "line"} for s in seen), seen
        assert {s["name"] for s in seen} == {name}
    finally:
        follower.send_signal(signal.SIGINT)
        follower.communicate(timeout=WAIT)
    assert follower.returncode == 0, follower.stderr
