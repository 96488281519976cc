"""Plugins' command aliases (entry points in ``skyport.aliases``): ``skyport market`` is
``skyport marketplace``, ``skyport detect`` is ``skyport deploy detect``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def skyport(*args: str) -> subprocess.CompletedProcess[str]:
    """A ``skyport`` run in a new process (the aliases are read when the CLI starts)."""
    return subprocess.run(
        [sys.executable, "-m", "skyport.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_aliases_are_listed_with_what_they_stand_for() -> None:
    listed = skyport("--help").stdout
    assert "Same as: skyport marketplace" in listed
    assert "Same as: skyport deploy detect" in listed


def test_an_alias_runs_the_plugin_command_it_names() -> None:
    sources = skyport("market", "sources", "--json")
    assert sources.returncode == 0, sources.stderr
    assert json.loads(sources.stdout) == json.loads(
        skyport("marketplace", "sources", "--json").stdout
    )
    sample = REPO / "plugins" / "skyport-deploy" / "tests" / "samples" / "node-http"
    detected = skyport("detect", str(sample), "--json")
    assert detected.returncode == 0, detected.stderr
    assert json.loads(detected.stdout)["type"] == "node"
