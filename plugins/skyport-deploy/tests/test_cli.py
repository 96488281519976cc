"""``skyport deploy`` in local mode: the node sample deployed, listed, its logs, removed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from skyport.testing import CliResult, cli_ok, free_port, one_line_error

from .conftest import PM2, answer, copy_sample


def test_skyport_deploy_runs_a_folder_and_prints_its_url(
    run_cli: Callable[..., CliResult],
    pm2_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SKYPORT_PM2__HOME", str(pm2_home))
    monkeypatch.setenv("SKYPORT_PM2__BIN", PM2.pm2_binary() or "")
    project, port = copy_sample("node-http", tmp_path / "my-app"), free_port()
    done = cli_ok(run_cli("deploy", str(project), "--port", str(port), "--set", "GREETING=cli"))
    assert "detected node" in done.out
    assert f"my-app is live at http://127.0.0.1:{port}/" in done.out
    assert json.loads(answer(port) or "{}")["greeting"] == "cli"
    listed = cli_ok(run_cli("deploy", "ls", "--json")).json()
    assert [(a["name"], a["status"]["state"]) for a in listed] == [("my-app", "running")]
    assert "listening" in cli_ok(run_cli("deploy", "logs", "my-app")).out
    assert "--yes" in one_line_error(run_cli("deploy", "rm", "my-app"))
    cli_ok(run_cli("deploy", "rm", "my-app", "--yes"))
    assert answer(port) is None


def test_a_failed_deploy_is_one_line_with_its_reason(
    run_cli: Callable[..., CliResult], pm2_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    failed = run_cli("deploy", str(tmp_path / "empty"))
    assert "no project found" in one_line_error(failed)
