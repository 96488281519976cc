"""A project's files as the detectors see them: one fast walk, then cheap questions.

The walk skips what never decides a project's type and can be huge
(``node_modules``, ``.git``, virtual environments, caches, build output):
a 10,000-file tree is listed in milliseconds. Files are read only when a
detector asks, and only their beginning.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".next",
        ".nuxt",
        ".svelte-kit",
        ".turbo",
        ".cache",
        ".parcel-cache",
        "dist",
        "build",
        "out",
        "target",
        "coverage",
        "vendor",
        ".idea",
        ".vscode",
    }
)
"""Folders never walked: dependencies, VCS data, caches and build output (a build output
folder is still looked at by name, as a static site's files)."""
MAX_FILES = 200_000
"""The walk stops after this many files (a tree that big is not a project to deploy)."""
READ_LIMIT = 256 * 1024
"""The most of one file a detector reads."""


class NotAProject(Exception):
    """The path is not a folder of a project (missing, a file, unreadable)."""


class ProjectTree:
    """The files of the project at ``root`` (relative POSIX paths), listed once."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise NotAProject(f"{root} is not a folder" if root.exists() else f"{root} not found")
        self.root = root
        self.files, self.truncated = _walk(root)
        self._set = frozenset(self.files)

    def has(self, path: str) -> bool:
        """Whether the file exists (walked or not: ``dist/index.html`` is checked directly)."""
        return path in self._set or (self.root / path).is_file()

    def first(self, *paths: str) -> str | None:
        """The first of ``paths`` that exists."""
        return next((p for p in paths if self.has(p)), None)

    def read(self, path: str) -> str:
        """The beginning of a file as text ("" if it cannot be read)."""
        try:
            with open(self.root / path, "rb") as file:
                return file.read(READ_LIMIT).decode("utf-8", errors="replace")
        except OSError:
            return ""

    def json(self, path: str) -> dict[str, Any] | None:
        """A JSON object file, or None when it is missing or not an object."""
        try:
            data = json.loads(self.read(path))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def with_suffix(self, suffix: str, max_depth: int = 3) -> list[str]:
        """Files ending in ``suffix`` at most ``max_depth`` folders deep, shallowest first."""
        found = [f for f in self.files if f.endswith(suffix) and f.count("/") <= max_depth]
        return sorted(found, key=lambda f: (f.count("/"), f))

    @cached_property
    def top(self) -> frozenset[str]:
        """The names of the files at the root."""
        return frozenset(f for f in self.files if "/" not in f)


def _walk(root: Path) -> tuple[list[str], bool]:
    files: list[str] = []
    pending = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIPPED_DIRS:
                    pending.append((entry.path, f"{prefix}{entry.name}/"))
            elif entry.is_file(follow_symlinks=False):
                files.append(prefix + entry.name)
                if len(files) >= MAX_FILES:
                    return files, True
    return files, False
