"""``skyport db``: the database schema of this machine's SkyPort (core and plugins).

These commands work on the database in the settings (``database.url``, or
SQLite in the data dir) directly, not through a server: run them where
SkyPort runs. ``skyport serve`` applies the same migrations at start-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from cyclopts import App

from skyport.cli.config_cmd import ConfigFlag
from skyport.cli.output import CliError, JsonFlag, print_json, print_table

if TYPE_CHECKING:
    from skyport.store.migrations import Migrations

app = App(name="db", help="Show and apply the database schema migrations (core and plugins).")

T = TypeVar("T")


def _with_migrations(config: Any, work: Callable[[Migrations], Awaitable[T]]) -> T:
    """Run ``work`` on the histories of the core and every active plugin."""
    from skyport.assembly import migration_folders
    from skyport.config import load_settings
    from skyport.plugins import PluginManager
    from skyport.store import Database

    settings = load_settings(str(config) if config else None)
    manager = PluginManager(disabled=settings.plugins.disabled, strict=settings.plugins.strict)
    folders = migration_folders(manager.load())

    async def run() -> T:
        database = Database(settings.database_url)
        try:
            return await work(database.migrations(folders))
        finally:
            await database.dispose()

    return asyncio.run(run())


@app.command
def upgrade(*, config: ConfigFlag = None, json: JsonFlag = False) -> int:
    """Apply every migration not yet applied (the server does this at start-up too)."""
    failures: dict[str, str] = {}

    async def work(migrations: Migrations) -> list[str]:
        return await migrations.upgrade(lambda name, exc: failures.update({name: str(exc)}))

    applied = _with_migrations(config, work)
    if json:
        print_json({"applied": applied, "failed": failures})
    else:
        print("applied: " + ", ".join(applied) if applied else "the schema is up to date")
        for name, reason in failures.items():
            print(f"plugin {name!r} left out: {reason}")
    return 1 if failures else 0


@app.command
def current(*, config: ConfigFlag = None, json: JsonFlag = False) -> int:
    """Where each history stands: its current and newest revision. Exit 3 when behind."""

    async def work(migrations: Migrations) -> Any:
        return await migrations.states()

    states = _with_migrations(config, work)
    if json:
        print_json(msgspec.to_builtins(states))
    else:
        print_table(
            states,
            [
                ("COMPONENT", lambda s: s.component),
                ("CURRENT", lambda s: s.current or "(none)"),
                ("HEAD", lambda s: s.head),
                ("STATE", lambda s: f"{len(s.behind)} to apply" if s.behind else "up to date"),
            ],
        )
    return 3 if any(s.behind for s in states) else 0


@app.command
def history(*, config: ConfigFlag = None, json: JsonFlag = False) -> None:
    """Every revision of every history, oldest first, and whether it is applied."""

    async def work(migrations: Migrations) -> Any:
        return await migrations.history()

    revisions = _with_migrations(config, work)
    if not revisions:
        raise CliError("no migrations found")
    if json:
        print_json(msgspec.to_builtins(revisions))
        return
    print_table(
        revisions,
        [
            ("COMPONENT", lambda r: r.component),
            ("REVISION", lambda r: r.revision),
            ("AFTER", lambda r: r.down_revision or "-"),
            ("APPLIED", lambda r: r.applied),
            ("DESCRIPTION", lambda r: r.description),
        ],
    )
