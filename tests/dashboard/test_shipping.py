"""A wheel built from the repository carries the dashboard."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from skyport.testing import require_backend

ROOT = Path(__file__).resolve().parents[2]


def test_the_core_wheel_contains_the_built_dashboard(tmp_path: Path) -> None:
    require_backend(shutil.which("npm") is not None, "npm is not installed (needed to build)")
    subprocess.run(
        ["uv", "build", "--package", "skyport-core", "--wheel", "-o", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=110,
    )
    (wheel,) = tmp_path.glob("skyport_core-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "skyport/web/index.html" in names
    scripts = [n for n in names if n.startswith("skyport/web/assets/") and n.endswith(".js")]
    assert scripts, names
    index = zipfile.ZipFile(wheel).read("skyport/web/index.html").decode()
    assert "/assets/" in index
