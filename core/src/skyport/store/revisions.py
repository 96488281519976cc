"""The revision files: where the core's are, and whether a database is behind them,
told without loading Alembic.

Loading Alembic (and the template engine it imports) costs more than a short
CLI command does in all: every in-process command would pay it to learn that
nothing is to do. The revision files declare ``revision`` and
``down_revision`` as plain strings, so their heads are read from the source;
when a file says something this reading cannot follow, the answer is "don't
know" and Alembic decides, as it always does when there is work.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

CORE_VERSIONS = Path(__file__).parent / "versions"
"""The core's revision scripts."""


def declared_heads(folders: Iterable[Path]) -> set[str] | None:
    """The newest revision of each history in ``folders``, or ``None`` if unsure."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for folder in folders:
        for path in folder.glob("[!_]*.py"):
            declared = _declarations(path)
            if declared is None:
                return None
            revision, down = declared
            revisions.add(revision)
            parents.update(down)
    return revisions - parents


def recorded_heads(conn: Connection) -> set[str]:
    """The revisions Alembic recorded as applied heads (none before its first run)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return set()
    return set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def _declarations(path: Path) -> tuple[str, tuple[str, ...]] | None:
    values: dict[str, object] = {}
    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and node.value is not None:
                    try:
                        values[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        values[target.id] = ...
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
        return revision, tuple(down)
    return None
