"""Persistent state: the database engine, the core's tables and migrations."""

from skyport.store.database import Database

__all__ = ["Database"]
