"""The repository's own checks: ruff (lint and format) and mypy, as configured in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=110, check=False)


@pytest.mark.parametrize(
    "check", [("check", "."), ("format", "--check", ".")], ids=["lint", "format"]
)
def test_ruff(check: tuple[str, ...]) -> None:
    ruff = shutil.which("ruff") or pytest.fail("ruff is a dev dependency: uv sync")
    done = run(ruff, *check)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy() -> None:
    done = run(sys.executable, "-m", "mypy")
    assert done.returncode == 0, done.stdout + done.stderr
