"""Copy the dashboard screenshots the end-to-end tests took into the documentation.

The browser tests (``tests/dashboard``) save a screenshot of every page they check to
``test-artifacts/dashboard/<name>.png`` (``$SKYPORT_TEST_ARTIFACTS`` moves the folder).
The site shows copies of some of them, kept in ``docs/images/dashboard/``; refresh them
after the dashboard changes::

    uv run pytest tests/dashboard && uv run python docs/screenshots.py

Copies, not links: a test run must not change the committed tree, and the site must
build without running the browser tests first.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "images" / "dashboard"
SHOWN = (
    "login",
    "overview",
    "containers",
    "container",
    "images",
    "volumes",
    "networks",
    "stacks",
    "processes",
    "process",
    "servers",
    "server-add",
    "server",
    "marketplace",
    "marketplace-app",
    "marketplace-installed",
    "marketplace-sources",
    "plugin-panels",
    "admin-users",
    "admin-roles",
    "admin-tokens",
    "admin-audit",
    "admin-plugins",
    "terminal",
    "phone-processes",
    "phone-menu",
)
"""The screenshots the guides show (every page), by the name the tests give them."""


def main() -> int:
    artifacts = Path(os.environ.get("SKYPORT_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    source = artifacts / "dashboard"
    missing = [name for name in SHOWN if not (source / f"{name}.png").is_file()]
    if missing:
        print(f"no {', '.join(missing)} in {source}: run `uv run pytest tests/dashboard` first")
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in SHOWN:
        shutil.copyfile(source / f"{name}.png", TARGET / f"{name}.png")
        print(f"{TARGET / name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
