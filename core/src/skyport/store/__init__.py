"""Persistent state: the database engine, the core's tables and migrations."""

import logging

from skyport.store.database import Database

# Alembic tells every step (and its own set-up) at INFO; SkyPort reports what it applied.
logging.getLogger("alembic").setLevel(logging.WARNING)

__all__ = ["Database"]
