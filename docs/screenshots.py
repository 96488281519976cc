"""Copy the screenshots the end-to-end tests took into the documentation.

The browser tests (``tests/dashboard``) save a screenshot of every page they check to
``test-artifacts/dashboard/<name>.png`` (``$SKYPORT_TEST_ARTIFACTS`` moves the folder);
the TUI tests save theirs to ``test-artifacts/tui/<name>.svg``
(``skyport.testing.tui_screenshot``). The site shows copies of some of them, kept in
``docs/images/dashboard/`` and ``docs/images/tui/``; refresh them after the dashboard or
the TUI changes::

    uv run pytest tests/dashboard core/tests/test_tui.py plugins/*/tests/test_tui.py
    uv run python docs/screenshots.py

Copies, not links: a test run must not change the committed tree, and the site must
build without running the browser tests first.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
TUI_SHOWN = ("overview", "containers", "pm2", "pm2-logs", "vps-run", "marketplace-install")
"""The TUI's, as SVG (Textual draws the terminal's cells as text)."""


def main() -> int:
    artifacts = Path(os.environ.get("SKYPORT_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    wanted = [("dashboard", name, ".png") for name in SHOWN]
    wanted += [("tui", name, ".svg") for name in TUI_SHOWN]
    missing = [f"{k}/{n}{x}" for k, n, x in wanted if not (artifacts / k / f"{n}{x}").is_file()]
    if missing:
        print(f"no {', '.join(missing)} in {artifacts}: run the tests named above first")
        return 1
    for kind, name, suffix in wanted:
        target = ROOT / "docs" / "images" / kind / f"{name}{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artifacts / kind / f"{name}{suffix}", target)
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
