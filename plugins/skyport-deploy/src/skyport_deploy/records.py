"""Apps and releases as stored (``deploy_apps``, ``deploy_releases``) and as the API shows them.

An app row is taken (``deploying``, ``removing``) for the length of a change:
a second change of the same app meanwhile is a 409. App names are unique in the
cluster; an app runs on the node that deployed it first, and only that node lists or
changes it (the others answer 404 naming it). The values given with
``--set``/``--env-file`` are kept encrypted; the API shows their names only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar.exceptions import ClientException, NotFoundException
from sqlalchemy.exc import IntegrityError

from skyport.api import AppStatus, PluginContext, Step
from skyport_deploy.plans import Detection
from skyport_deploy.tables import apps as apps_table
from skyport_deploy.tables import releases as releases_table

KEPT_STEPS = 300
"""Steps a release keeps (the last ones: a long build's first lines go)."""
TOPIC = "deploy.jobs:"
"""A running release's progress (``TOPIC + release id``): each step as it comes (a build
line, a state change), then one ``{"done": true, "release": Release}``."""


class Release(msgspec.Struct, kw_only=True):
    """One deploy of an app: while ``running`` it is a job (``deploy.jobs:<id>``)."""

    id: str
    app: str
    number: int
    state: str
    """``running``, ``live``, ``previous`` (stopped, kept for a rollback), ``failed``,
    ``retired``."""
    source: str
    resource_id: str
    port: int | None
    env: list[str]
    """The names of the variables the app was given."""
    steps: list[Step] = msgspec.field(default_factory=list)
    error: str | None = None
    detection: Detection | None = None
    username: str
    created: float
    finished: float | None = None


class App(msgspec.Struct, kw_only=True):
    """A deployed app: its live release, and where it answers."""

    name: str
    state: str
    """``deploying``, ``live``, ``failed`` (its first deploy is failing) or ``removing``."""
    type: str
    target: str
    deployer: str
    port: int | None
    url: str | None
    live: int | None
    previous: int | None
    env: list[str]
    created_by: str
    created: float
    updated: float
    node: str
    """The cluster node it runs on (its deployer is that node's Docker or PM2)."""
    status: AppStatus | None = None
    """Live, from its deployer: ``running``, ``stopped``, ``partial`` or ``missing``."""
    status_error: str | None = None
    releases: list[Release] = msgspec.field(default_factory=list)


class Book:
    """The rows, with the kept values through the plugin's secret box."""

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport

    # -- apps ------------------------------------------------------------------------------

    async def take(self, name: str, username: str) -> App:
        """The app, now ``deploying`` (made if new); 409 while another change has it."""
        now = time.time()
        row = {
            "name": name,
            "state": "deploying",
            "type": "",
            "target": "",
            "deployer": "",
            "created_by": username,
            "created": now,
            "updated": now,
            "node": self.skyport.node_name,
        }
        try:
            async with self.skyport.database.begin() as conn:
                await conn.execute(apps_table.insert().values(**row))
        except IntegrityError:
            await self.claim(name, "deploying")
        return await self.app(name)

    async def claim(self, name: str, state: str) -> App:
        async with self.skyport.database.begin() as conn:
            done = await conn.execute(
                apps_table.update()
                .where(
                    apps_table.c.name == name,
                    apps_table.c.state.in_(("live", "failed")),
                    self._on_this_node(),
                )
                .values(state=state, updated=time.time())
            )
        if done.rowcount != 1:
            app = await self.app(name)
            raise ClientException(
                f"{name!r} is {app.state}: wait for that to finish", status_code=409
            )
        return await self.app(name)

    async def app(self, name: str) -> App:
        async with self.skyport.database.connect() as conn:
            row = (
                await conn.execute(sa.select(apps_table).where(apps_table.c.name == name))
            ).first()
        if row is None:
            raise NotFoundException(f"no app named {name!r} is deployed")
        self.skyport.check_node(f"app {name!r}", row.node)
        return self._app(row._mapping)

    async def apps(self) -> list[App]:
        """The apps of this node."""
        async with self.skyport.database.connect() as conn:
            rows = await conn.execute(
                sa.select(apps_table).where(self._on_this_node()).order_by(apps_table.c.name)
            )
            return [self._app(row._mapping) for row in rows]

    async def ports_taken(self, but: str) -> set[int]:
        """The ports of this node's other apps."""
        async with self.skyport.database.connect() as conn:
            found = await conn.execute(
                sa.select(apps_table.c.port).where(apps_table.c.name != but, self._on_this_node())
            )
            return {p for p in found.scalars() if p is not None}

    def _on_this_node(self) -> sa.ColumnElement[bool]:
        return self.skyport.on_this_node(apps_table.c.node)

    async def env(self, name: str) -> dict[str, str]:
        """The values kept for the app (decrypted)."""
        async with self.skyport.database.connect() as conn:
            sealed = (
                await conn.execute(sa.select(apps_table.c.env).where(apps_table.c.name == name))
            ).scalar()
        if not sealed:
            return {}
        opened = self.skyport.secrets.decrypt(sealed, context=f"deploy:{name}")
        return msgspec.json.decode(opened, type=dict[str, str])

    async def update_app(
        self, name: str, env: Mapping[str, str] | None = None, **values: Any
    ) -> None:
        if env is not None:
            values["env"] = (
                self.skyport.secrets.encrypt(
                    msgspec.json.encode(dict(env)), context=f"deploy:{name}"
                )
                if env
                else None
            )
        async with self.skyport.database.begin() as conn:
            await conn.execute(
                apps_table.update()
                .where(apps_table.c.name == name)
                .values(updated=time.time(), **values)
            )

    async def drop_app(self, name: str) -> None:
        """The app's row only (its releases stay readable as jobs)."""
        async with self.skyport.database.begin() as conn:
            await conn.execute(apps_table.delete().where(apps_table.c.name == name))

    async def forget(self, name: str) -> None:
        """The app and its releases are gone."""
        async with self.skyport.database.begin() as conn:
            await conn.execute(releases_table.delete().where(releases_table.c.app == name))
            await conn.execute(apps_table.delete().where(apps_table.c.name == name))

    # -- releases -----------------------------------------------------------------------------

    async def new_release(self, release_id: str, app: str, source: str, username: str) -> Release:
        """A ``running`` release with the app's next number."""
        async with self.skyport.database.begin() as conn:
            last = (
                await conn.execute(
                    sa.select(sa.func.max(releases_table.c.number)).where(
                        releases_table.c.app == app
                    )
                )
            ).scalar()
            number = (last or 0) + 1
            await conn.execute(
                releases_table.insert().values(
                    id=release_id,
                    app=app,
                    number=number,
                    state="running",
                    source=source,
                    resource_id=f"{app}-{number}",
                    env_keys="[]",
                    steps="[]",
                    username=username,
                    server=self.skyport.node_name,
                    created=time.time(),
                )
            )
        return await self.release(release_id)

    async def update_release(self, release: Release) -> None:
        async with self.skyport.database.begin() as conn:
            await conn.execute(
                releases_table.update()
                .where(releases_table.c.id == release.id)
                .values(
                    state=release.state,
                    detection=None
                    if release.detection is None
                    else msgspec.json.encode(release.detection).decode(),
                    port=release.port,
                    env_keys=msgspec.json.encode(release.env).decode(),
                    steps=msgspec.json.encode(release.steps[-KEPT_STEPS:]).decode(),
                    error=release.error,
                    finished=release.finished,
                )
            )

    async def set_release_state(self, app: str, number: int, state: str) -> None:
        async with self.skyport.database.begin() as conn:
            await conn.execute(
                releases_table.update()
                .where(releases_table.c.app == app, releases_table.c.number == number)
                .values(state=state)
            )

    async def release(self, release_id: str) -> Release:
        async with self.skyport.database.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(releases_table).where(releases_table.c.id == release_id)
                )
            ).first()
        if row is None:
            raise NotFoundException(f"no deploy job {release_id!r}")
        return _release(row._mapping)

    async def releases(self, app: str) -> list[Release]:
        async with self.skyport.database.connect() as conn:
            rows = await conn.execute(
                sa.select(releases_table)
                .where(releases_table.c.app == app)
                .order_by(releases_table.c.number.desc())
            )
            return [_release(row._mapping) for row in rows]

    async def numbered(self, app: str, number: int) -> Release:
        found = [r for r in await self.releases(app) if r.number == number]
        if not found:
            raise NotFoundException(f"{app!r} has no release {number}")
        return found[0]

    async def fail_interrupted(self) -> None:
        """Releases this server was running before it restarted are failed; their apps go back
        to what they were (live if they have a live release, else failed)."""
        here = (
            releases_table.c.state == "running",
            releases_table.c.server == self.skyport.node_name,
        )
        async with self.skyport.database.begin() as conn:
            names = list(
                (await conn.execute(sa.select(releases_table.c.app).where(*here))).scalars()
            )
            await conn.execute(
                releases_table.update()
                .where(*here)
                .values(
                    state="failed", error="interrupted: the server restarted", finished=time.time()
                )
            )
            if names:
                busy = (apps_table.c.name.in_(names), apps_table.c.state == "deploying")
                await conn.execute(
                    apps_table.update()
                    .where(*busy)
                    .values(state=sa.case((apps_table.c.live.is_(None), "failed"), else_="live"))
                )

    def _app(self, row: Mapping[str, Any]) -> App:
        port = row["port"]
        return App(
            name=row["name"],
            state=row["state"],
            type=row["type"],
            target=row["target"],
            deployer=row["deployer"],
            port=port,
            url=f"http://127.0.0.1:{port}/" if port and row["live"] is not None else None,
            live=row["live"],
            previous=row["previous"],
            env=[],
            created_by=row["created_by"],
            node=row["node"] or self.skyport.node_name,
            created=row["created"],
            updated=row["updated"],
        )


def _release(row: Mapping[str, Any]) -> Release:
    return Release(
        id=row["id"],
        app=row["app"],
        number=row["number"],
        state=row["state"],
        source=row["source"],
        resource_id=row["resource_id"],
        port=row["port"],
        env=msgspec.json.decode(row["env_keys"], type=list[str]),
        steps=msgspec.json.decode(row["steps"], type=list[Step]),
        error=row["error"],
        detection=None
        if row["detection"] is None
        else msgspec.json.decode(row["detection"], type=Detection),
        username=row["username"],
        created=row["created"],
        finished=row["finished"],
    )
