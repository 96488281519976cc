"""Schema migrations: Alembic, one history per distribution, applied under a lock.

The core's revision scripts live in ``store/versions``; a plugin returns the
folder of its own from ``register_migrations``. Each history is an Alembic
branch labelled with its component's name (``core``, ``docker``, …), all
recorded in one ``alembic_version`` table. Start-up brings each branch to its
head, the core first and then one plugin at a time, so one plugin's broken
revision leaves the others working. The whole run holds a lock, so servers
starting together on one database migrate it once: a PostgreSQL advisory
lock, or a file lock beside an SQLite database.

A database made by SkyPort 0.1.0 (its own ``schema_migrations`` table, no
Alembic) is adopted: each revision naming a ``skyport_legacy_id`` that the old
table lists is stamped as applied, then the rest runs as usual.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from skyport.store.revisions import CORE_VERSIONS

CORE = "core"

_LOCK_ID = 0x736B79706F7274  # "skyport": the PostgreSQL advisory lock of migrations
_LEGACY_TABLE = "schema_migrations"


class MigrationError(Exception):
    """A component's revisions could not be read or applied."""


class ComponentState(msgspec.Struct, frozen=True):
    """Where one component's schema stands."""

    component: str
    current: str | None
    head: str
    behind: list[str]
    """Revisions still to apply, oldest first."""


class RevisionInfo(msgspec.Struct, frozen=True):
    component: str
    revision: str
    down_revision: str | None
    description: str
    applied: bool


class Migrations:
    """The revision histories of the core and the given plugins, against one engine."""

    def __init__(self, engine: AsyncEngine, plugins: Mapping[str, Path] | None = None) -> None:
        self.engine = engine
        self.locations = {CORE: CORE_VERSIONS, **(plugins or {})}
        self._script: ScriptDirectory | None = None

    @property
    def script(self) -> ScriptDirectory:
        if self._script is None:
            self._script = ScriptDirectory(
                CORE_VERSIONS.parent, version_locations=[str(p) for p in self.locations.values()]
            )
            for component in self.locations:
                self._check_root(component)  # a history without its labelled root is told now
        return self._script

    async def upgrade(
        self, on_failure: Callable[[str, Exception], None] | None = None
    ) -> list[str]:
        """Bring every component to its head; return the revisions applied, in order.

        The core failing raises :class:`MigrationError`; a plugin failing is passed to
        ``on_failure`` (when given; else it raises too) and the others go on.
        """
        applied: list[str] = []
        async with self._locked() as conn:
            for component in self.locations:
                try:
                    await conn.run_sync(self._adopt_legacy, component)
                    await conn.run_sync(self._upgrade_component, component, applied)
                except Exception as exc:
                    failure = MigrationError(f"migrating {component!r} failed: {exc}")
                    if component == CORE or on_failure is None:
                        raise failure from exc
                    on_failure(component, failure)
        return applied

    async def states(self) -> list[ComponentState]:
        """Each component's current and head revision, without changing anything."""
        async with self.engine.connect() as conn:
            current = await conn.run_sync(_current_heads)
            legacy = await conn.run_sync(_legacy_ids)
        return [self._state(c, current, legacy) for c in self.locations]

    async def behind(self) -> bool:
        """Whether any component has revisions still to apply."""
        return any(state.behind for state in await self.states())

    async def history(self) -> list[RevisionInfo]:
        """Every revision of every component, oldest first."""
        infos = []
        for state in await self.states():
            for script in self._revisions(state.component):
                infos.append(
                    RevisionInfo(
                        state.component,
                        script.revision,
                        _single(script.down_revision),
                        (script.doc or "").strip().split("\n")[0],
                        script.revision not in state.behind,
                    )
                )
        return infos

    # -- Alembic -------------------------------------------------------------------

    def _check_root(self, component: str) -> None:
        roots = [s for s in self._revisions(component) if s.down_revision is None]
        if not any(component in (s.branch_labels or ()) for s in roots):
            raise MigrationError(
                f"{component!r}: the first revision in {self.locations[component]} needs "
                f"down_revision = None and branch_labels = ({component!r},)"
            )

    def _revisions(self, component: str) -> list[Script]:
        """The component's revisions (the scripts in its folder), oldest first."""
        folder = self.locations[component].resolve()
        newest_first = self.script.walk_revisions()
        return [s for s in reversed(list(newest_first)) if Path(s.path).parent.resolve() == folder]

    def _known(self, revision: str) -> bool:
        try:
            return self.script.get_revision(revision) is not None
        except Exception:  # a revision of a plugin that is not installed (any more)
            return False

    def _state(self, component: str, current: list[str], legacy: set[str]) -> ComponentState:
        revisions = self._revisions(component)
        names = [s.revision for s in revisions]
        mine = [r for r in current if r in names]
        if not mine:  # SkyPort 0.1.0's table: what adoption will stamp
            mine = [s.revision for s in revisions if _legacy_id(s) in legacy][-1:]
        position = names.index(mine[0]) + 1 if mine else 0
        return ComponentState(component, mine[0] if mine else None, names[-1], names[position:])

    def _run(
        self,
        conn: Connection,
        fn: Callable[[Any, MigrationContext], Any],
        applied: list[str] | None = None,
    ) -> None:
        """Run Alembic's ``fn``: each revision in a transaction of its own, DDL included."""
        if conn.in_transaction():  # what was read before: Alembic begins its own
            conn.commit()
        with EnvironmentContext(Config(), self.script, fn=fn) as env:
            env.configure(
                connection=conn,
                target_metadata=None,
                transaction_per_migration=True,
                transactional_ddl=True,  # SQLite too: the engine begins its transactions
                on_version_apply=lambda step, **_: (
                    applied.append(step.up_revision_id) if applied is not None else None
                ),
            )
            with env.begin_transaction():
                env.run_migrations()
        if conn.in_transaction():
            conn.commit()

    def _upgrade_component(self, conn: Connection, component: str, applied: list[str]) -> None:
        def upgrade(heads: Any, _context: MigrationContext) -> Any:
            # Heads of plugins no longer installed are left alone (and in the table).
            known: Any = tuple(h for h in heads if self._known(h))
            return self.script._upgrade_revs(f"{component}@head", known)

        self._run(conn, upgrade, applied)

    def _adopt_legacy(self, conn: Connection, component: str) -> None:
        """Stamp what SkyPort 0.1.0 applied of ``component``, the first time it is seen.

        Adopted rows leave the old table, which goes when it is empty: a plugin
        installed but left out at the first start is adopted when it comes back.
        """
        legacy = _legacy_ids(conn)
        revisions = self._revisions(component)
        if not legacy or any(r.revision in _current_heads(conn) for r in revisions):
            return
        adopted = [(r.revision, _legacy_id(r)) for r in revisions if _legacy_id(r) in legacy]
        if not adopted:
            return
        newest = adopted[-1][0]
        self._run(conn, lambda heads, _context: self.script._stamp_revs(newest, heads))
        table = sa.table(_LEGACY_TABLE, sa.column("component"), sa.column("id"))
        for _revision, legacy_id in adopted:
            owner, _, old_id = str(legacy_id).partition(":")
            conn.execute(table.delete().where(table.c.component == owner, table.c.id == old_id))
        if legacy == {str(legacy_id) for _, legacy_id in adopted}:
            sa.Table(_LEGACY_TABLE, sa.MetaData()).drop(conn)
        conn.commit()

    # -- the lock ------------------------------------------------------------------------

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[Any]:
        async with self.engine.connect() as conn:
            if self.engine.dialect.name == "postgresql":
                await conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": _LOCK_ID})
                await conn.commit()
                try:
                    yield conn
                finally:
                    await conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": _LOCK_ID})
                    await conn.commit()
                return
            async with _file_lock(self.engine.url.database):
                yield conn


@asynccontextmanager
async def _file_lock(database: str | None) -> AsyncIterator[None]:
    """An exclusive ``flock`` on ``<database>.lock`` (nothing for an in-memory database).

    Waited for in a thread: another server of this process may hold it on this loop.
    """
    if not database or database == ":memory:":
        yield
        return
    fd = os.open(f"{database}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _current_heads(conn: Connection) -> list[str]:
    return list(MigrationContext.configure(conn).get_current_heads())


def _legacy_ids(conn: Connection) -> set[str]:
    if not sa.inspect(conn).has_table(_LEGACY_TABLE):
        return set()
    legacy = sa.table(_LEGACY_TABLE, sa.column("component"), sa.column("id"))
    rows = conn.execute(sa.select(legacy.c.component, legacy.c.id)).all()
    return {f"{row.component}:{row.id}" for row in rows}


def _legacy_id(script: Script) -> str | None:
    """``component:id`` of the SkyPort 0.1.0 migration this revision stands for, if any."""
    return getattr(script.module, "skyport_legacy_id", None)


def _single(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ", ".join(value)
