"""The data directory: created private (0700), its files 0600, also when an older
install left them readable by everyone.

It holds the SQLite database (password hashes, sessions, an audit log with
command lines), the master secret and plugins' files. SQLite creates its
``-wal`` and ``-shm`` files with the database file's mode, so creating the
database file 0600 before SQLite opens it keeps those private too.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import sqlalchemy as sa

log = logging.getLogger("skyport")

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def prepare_data_dir(data_dir: Path, database_url: str) -> None:
    """Create ``data_dir`` private; make it and the SQLite files private if they are not."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    _restrict(data_dir, DIR_MODE)
    for entry in data_dir.iterdir():
        if entry.is_file() and not entry.is_symlink():
            _restrict(entry, FILE_MODE)
    if database := sqlite_file(database_url):
        database.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        if not database.exists():
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        for suffix in SQLITE_SUFFIXES:
            companion = database.with_name(database.name + suffix)
            if companion.is_file():
                _restrict(companion, FILE_MODE)


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    url = sa.make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _restrict(path: Path, mode: int) -> None:
    """Take away the group's and others' rights to ``path`` (never add any)."""
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode:
        log.warning("%s was mode %o; making it %o", path, current, current & mode)
        path.chmod(current & mode)
