"""``skyport marketplace …`` in local mode (an in-process server on the test's data dir)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from skyport.testing import CliResult, cli_ok, one_line_error

OFFICIAL = "portainer_templates__v3__templates.json"


def test_add_a_source_search_and_show(run_cli: Callable[..., CliResult], catalogs: Path) -> None:
    added = cli_ok(
        run_cli("marketplace", "source", "add", "official", "portainer", str(catalogs / OFFICIAL))
    )
    assert "67 templates, 2 skipped" in added.out and "refresh official: done" in added.out
    listed = cli_ok(run_cli("marketplace", "sources"))
    assert "official" in listed.out and "67" in listed.out
    found = cli_ok(run_cli("marketplace", "search", "redis"))
    assert found.out.splitlines()[1].split()[0] == "official:redis"
    as_json = cli_ok(run_cli("marketplace", "search", "redis", "--json")).json()
    assert as_json["items"][0]["id"] == "official:redis"
    shown = cli_ok(run_cli("marketplace", "show", "official:redis"))
    assert "image" in shown.out and "redis" in shown.out


def test_a_failed_refresh_is_one_line_and_exit_1(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    error = one_line_error(run_cli("marketplace", "source", "add", "bad", "portainer", str(bad)))
    assert "refresh bad failed" in error and "not JSON" in error
    assert "not JSON" in cli_ok(run_cli("marketplace", "sources")).out


def test_install_mistakes_are_one_line(run_cli: Callable[..., CliResult], catalogs: Path) -> None:
    cli_ok(
        run_cli("marketplace", "source", "add", "official", "portainer", str(catalogs / OFFICIAL))
    )
    error = one_line_error(run_cli("marketplace", "install", "official:redis", "--set", "NOPE=1"))
    assert "unknown setting NOPE" in error
    assert "--set 'x'" in one_line_error(
        run_cli("marketplace", "install", "official:redis", "--set", "x")
    )
