"""The dashboard's own component and data-layer tests (Vitest), run from ``uv run pytest``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from skyport.testing import require_backend

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def test_vitest_suite_passes() -> None:
    npm = shutil.which("npm")
    require_backend(npm is not None, "npm is not installed (the dashboard's tests need Node.js)")
    require_backend(
        (FRONTEND / "node_modules" / ".bin" / "vitest").exists(),
        "frontend/node_modules is missing (uv sync installs it when npm is present)",
    )
    assert npm is not None
    result = subprocess.run(
        [npm, "test", "--", "--reporter=dot", "--no-color"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout, result.stdout[-2000:]
