"""Hatch build hook: build the dashboard (``../frontend``) into ``src/skyport/web``.

Runs for every build of the core: wheels, sdists and editable installs
(``uv sync``; ``[tool.uv] cache-keys`` makes uv rebuild when ``frontend/``
changes). The build is skipped when ``web/`` already holds a build of the
same sources (a hash of them is kept in ``web/.source-hash``). From an sdist,
which carries the built ``web/`` and no ``frontend/``, nothing is built.
Without npm, or when its build fails, an editable install goes on without
the dashboard (with a warning; ``GET /`` says how to build it); a wheel or
sdist cannot.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SKIPPED_DIRS = {"node_modules", "dist", "coverage"}
HASH_FILE = ".source-hash"
LOCK_STAMP = ".skyport-lock-hash"


def source_hash(frontend: Path) -> str:
    """A hash of every source file of the dashboard (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(frontend.rglob("*")):
        parts = path.relative_to(frontend).parts
        if path.is_dir() or any(p in SKIPPED_DIRS or p.startswith(".") for p in parts):
            continue
        digest.update("/".join(parts).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _say(message: str) -> None:
    print(f"skyport-core build: {message}", file=sys.stderr, flush=True)


def _npm(npm: str, frontend: Path, *args: str) -> None:
    _say(f"npm {' '.join(args)}")
    subprocess.run([npm, *args], cwd=frontend, check=True, stdout=sys.stderr)


def build_dashboard(frontend: Path, web: Path, npm: str) -> None:
    """``npm ci`` (when the lock file changed) and ``npm run build`` into ``web``."""
    lock = hashlib.sha256((frontend / "package-lock.json").read_bytes()).hexdigest()
    stamp = frontend / "node_modules" / LOCK_STAMP
    if not stamp.is_file() or stamp.read_text() != lock:
        _npm(npm, frontend, "ci", "--no-audit", "--no-fund", "--loglevel=error")
        stamp.write_text(lock)
    _npm(npm, frontend, "run", "build")


class DashboardBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        web = root / "src" / "skyport" / "web"
        frontend = root.parent / "frontend"
        editable = version == "editable"
        build_data["artifacts"].append("src/skyport/web/")
        if not (frontend / "package.json").is_file():
            if not (web / "index.html").is_file() and not editable:
                raise RuntimeError(f"no dashboard build in {web} and no frontend/ to build it from")
            return
        wanted = source_hash(frontend)
        built = web / HASH_FILE
        if (web / "index.html").is_file() and built.is_file() and built.read_text() == wanted:
            return
        npm = shutil.which("npm")
        if npm is None:
            if editable:
                _say("npm not found: installed without the dashboard (GET / explains)")
                return
            raise RuntimeError("building the dashboard needs Node.js and npm on PATH")
        try:
            build_dashboard(frontend, web, npm)
        except subprocess.CalledProcessError as exc:
            if not editable:
                raise
            # The API and CLI work without the dashboard: say so instead of failing `uv sync`.
            _say(f"building the dashboard failed ({exc}): installed without it")
            return
        built.write_text(wanted)
