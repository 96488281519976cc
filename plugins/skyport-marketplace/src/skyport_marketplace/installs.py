"""Installed apps: their records, and installing, updating and removing them through deployers.

An install is checked first (name, values, the user's scopes for what the
template needs), recorded as ``installing`` (the name is taken from then
on), then done by the deployer of the template's kind in a job. A deployer
that fails undoes its own work; the record is then dropped and the job says
why. Secret values are stored encrypted and never shown back.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from sqlalchemy.exc import IntegrityError

from skyport.api import (
    AppStatus,
    AppTemplate,
    BackendUnavailable,
    Deployer,
    DeployRequest,
    DeployResult,
    PluginContext,
    Principal,
    ProgressCallback,
    Requirement,
)
from skyport_marketplace import checkout
from skyport_marketplace.catalog import Catalog
from skyport_marketplace.jobs import Job, JobRunner
from skyport_marketplace.tables import installs as installs_table
from skyport_marketplace.values import check_name, check_values, secret_names

INSTALL_SCOPE = "marketplace:install"
STATUS_TIMEOUT = 10.0
REDACTED = "***"


class InstalledApp(msgspec.Struct, kw_only=True):
    """An installed app as the API shows it."""

    name: str
    app_id: str
    title: str
    kind: str
    state: str
    """``installing``, ``installed``, ``updating``, ``removing`` or ``failed``."""
    deployer: str
    resource_id: str
    message: str
    node: str
    """The cluster node it runs on."""
    values: dict[str, str]
    """Secret values read ``***``."""
    created_by: str
    created: float
    updated: float
    status: AppStatus | None = None
    """Live: ``running``, ``stopped``, ``partial`` or ``missing`` (None while not installed)."""
    status_error: str | None = None


class Record(msgspec.Struct, kw_only=True):
    """An install as stored, with its secret values decrypted (never sent out as is)."""

    name: str
    app_id: str
    title: str
    kind: str
    state: str
    deployer: str
    resource_id: str
    message: str
    node: str
    template: AppTemplate
    values: dict[str, str]
    created_by: str
    created: float
    updated: float

    def shown(self) -> InstalledApp:
        hidden = secret_names(self.template)
        return InstalledApp(
            name=self.name,
            app_id=self.app_id,
            title=self.title,
            kind=self.kind,
            state=self.state,
            deployer=self.deployer,
            resource_id=self.resource_id,
            message=self.message,
            node=self.node,
            values={k: REDACTED if k in hidden and v else v for k, v in self.values.items()},
            created_by=self.created_by,
            created=self.created,
            updated=self.updated,
        )


class InstallBook:
    """The ``marketplace_installs`` rows; secret values through the plugin's secret box."""

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport

    async def reserve(
        self, name: str, template: AppTemplate, values: Mapping[str, str], username: str
    ) -> None:
        """Record a new install as ``installing``; 409 if the name is taken."""
        now = time.time()
        row = {
            "name": name,
            "app_id": template.id,
            "title": template.title,
            "kind": template.kind,
            "state": "installing",
            "deployer": "",
            "resource_id": "",
            "message": "",
            "created_by": username,
            "created": now,
            "updated": now,
            "node": self.skyport.node_name,
            **self._stored(name, template, values),
        }
        try:
            async with self.skyport.database.begin() as conn:
                await conn.execute(installs_table.insert().values(**row))
        except IntegrityError:
            raise ClientException(
                f"an app named {name!r} is installed already: pick another name",
                status_code=409,
                extra={"field": "name"},
            ) from None

    async def installed(
        self, name: str, template: AppTemplate, values: Mapping[str, str], result: DeployResult
    ) -> None:
        await self._update(
            name,
            state="installed",
            deployer=result.deployer,
            resource_id=result.resource_id,
            message=result.message,
            app_id=template.id,
            title=template.title,
            **self._stored(name, template, values),
        )

    async def set_state(self, name: str, state: str, message: str | None = None) -> None:
        await self._update(name, state=state, **({} if message is None else {"message": message}))

    async def claim(self, name: str, state: str) -> Record:
        """The install, now ``state`` (``updating``, ``removing``); 409 while another job has it."""
        async with self.skyport.database.begin() as conn:
            done = await conn.execute(
                installs_table.update()
                .where(
                    installs_table.c.name == name,
                    installs_table.c.state.in_(("installed", "failed")),
                    self.skyport.on_this_node(installs_table.c.node),
                )
                .values(state=state, updated=time.time())
            )
        if done.rowcount != 1:
            record = await self.get(name)
            raise ClientException(
                f"{name!r} is {record.state}: wait for that to finish", status_code=409
            )
        return await self.get(name)

    async def forget(self, name: str) -> None:
        async with self.skyport.database.begin() as conn:
            await conn.execute(installs_table.delete().where(installs_table.c.name == name))

    async def get(self, name: str) -> Record:
        async with self.skyport.database.connect() as conn:
            row = (
                await conn.execute(sa.select(installs_table).where(installs_table.c.name == name))
            ).first()
        if row is None:
            raise NotFoundException(f"no installed app named {name!r}")
        self.skyport.check_node(f"app {name!r}", row.node)
        return self._record(row._mapping)

    async def all(self) -> list[Record]:
        """This node's installs."""
        here = self.skyport.on_this_node(installs_table.c.node)
        async with self.skyport.database.connect() as conn:
            rows = await conn.execute(
                sa.select(installs_table).where(here).order_by(installs_table.c.name)
            )
            return [self._record(row._mapping) for row in rows]

    async def fail_interrupted(self, names: list[str]) -> None:
        """Installs whose jobs a restart cut short (``names``) are marked failed."""
        if not names:
            return
        async with self.skyport.database.begin() as conn:
            await conn.execute(
                installs_table.update()
                .where(
                    installs_table.c.name.in_(names),
                    installs_table.c.state.in_(("installing", "updating", "removing")),
                )
                .values(state="failed", message="interrupted: the server restarted")
            )

    async def _update(self, name: str, **values: Any) -> None:
        async with self.skyport.database.begin() as conn:
            await conn.execute(
                installs_table.update()
                .where(installs_table.c.name == name)
                .values(updated=time.time(), **values)
            )

    def _stored(
        self, name: str, template: AppTemplate, values: Mapping[str, str]
    ) -> dict[str, Any]:
        hidden = secret_names(template)
        plain = {k: v for k, v in values.items() if k not in hidden}
        secret = {k: v for k, v in values.items() if k in hidden}
        return {
            "template": msgspec.json.encode(template).decode(),
            "values": msgspec.json.encode(plain).decode(),
            "secrets": self.skyport.secrets.encrypt(msgspec.json.encode(secret), context=name)
            if secret
            else None,
        }

    def _record(self, row: Mapping[str, Any]) -> Record:
        values = msgspec.json.decode(row["values"], type=dict[str, str])
        if row["secrets"]:
            secret = self.skyport.secrets.decrypt(row["secrets"], context=row["name"])
            values.update(msgspec.json.decode(secret, type=dict[str, str]))
        return Record(
            name=row["name"],
            app_id=row["app_id"],
            title=row["title"],
            kind=row["kind"],
            state=row["state"],
            deployer=row["deployer"],
            resource_id=row["resource_id"],
            message=row["message"],
            node=row["node"] or self.skyport.node_name,
            template=msgspec.json.decode(row["template"], type=AppTemplate),
            values=values,
            created_by=row["created_by"],
            created=row["created"],
            updated=row["updated"],
        )


class Installer:
    """Installs, updates and removes apps through the deployers other plugins contribute."""

    def __init__(
        self,
        skyport: PluginContext,
        catalog: Catalog,
        jobs: JobRunner,
        book: InstallBook,
        apps_folder: Path,
    ) -> None:
        self.skyport = skyport
        self.catalog = catalog
        self.jobs = jobs
        self.book = book
        self.apps_folder = apps_folder

    # -- deployers and what they need ------------------------------------------------

    def deployer_for(self, kind: str) -> Deployer | None:
        return next((d for d in self.skyport.registry.deployers if kind in d.kinds), None)

    def _deployer(self, template: AppTemplate) -> Deployer:
        deployer = self.deployer_for(template.kind)
        if deployer is None:
            plugin = {"node": "skyport-pm2"}.get(template.kind, "skyport-docker")
            raise BackendUnavailable(
                f"a deployer for {template.kind} apps",
                f"no plugin installs them: install and enable {plugin}",
            )
        return deployer

    def _named(self, name: str) -> Deployer:
        found = next((d for d in self.skyport.registry.deployers if d.name == name), None)
        if found is None:
            raise BackendUnavailable(f"deployer {name!r}", "its plugin is not loaded")
        return found

    def requirements(self, template: AppTemplate) -> list[Requirement]:
        deployer = self.deployer_for(template.kind)
        return deployer.requirements(template) if deployer is not None else []

    def check_allowed(self, deployer: Deployer, template: AppTemplate, user: Principal) -> None:
        """403 naming each scope the user lacks for this template, and why it is needed."""
        lacking = [r for r in deployer.requirements(template) if not user.has_scope(r.scope)]
        if lacking:
            reasons = "; ".join(f"{r.scope} ({r.reason})" for r in lacking)
            raise PermissionDeniedException(
                f"installing {template.title!r} needs {reasons}",
                extra={"missing_scopes": sorted({r.scope for r in lacking})},
            )

    # -- the three jobs --------------------------------------------------------------------

    async def install(
        self, app_id: str, name: str, given: Mapping[str, str], user: Principal
    ) -> Job:
        template = self.catalog.app(app_id)
        check_name(name)
        values = check_values(template, given)
        deployer = self._deployer(template)
        self.check_allowed(deployer, template, user)
        await self.book.reserve(name, template, values, user.username)

        async def work(progress: ProgressCallback) -> dict[str, Any]:
            try:
                ready = await self._fetched(name, template, progress)
                request = DeployRequest(name, ready, values, user)
                result = await deployer.deploy(request, progress)
            except BaseException as exc:
                await asyncio.shield(self._forget(name, template))
                await self._audit(user, "install", name, template, f"failed: {_why(exc)}")
                raise
            await self.book.installed(name, ready, values, result)
            await self._audit(user, "install", name, template, "ok")
            progress("installed", 1.0)
            return {"name": name, "resource_id": result.resource_id, "message": result.message}

        return await self.jobs.start("install", name, user.username, work)

    async def update(self, name: str, user: Principal) -> Job:
        record = await self.book.get(name)
        deployer = (
            self._named(record.deployer) if record.deployer else self._deployer(record.template)
        )
        template = self._newest(record)
        self.check_allowed(deployer, template, user)
        kept = {f.name: record.values[f.name] for f in template.env if f.name in record.values}
        values = check_values(template, {k: v for k, v in kept.items() if not _fixed(template, k)})
        await self.book.claim(name, "updating")

        async def work(progress: ProgressCallback) -> dict[str, Any]:
            try:
                ready = await self._fetched(name, template, progress)
                request = DeployRequest(name, ready, values, user)
                result = await deployer.update(request, record.resource_id, progress)
            except BaseException as exc:
                await asyncio.shield(
                    self.book.set_state(name, "installed", f"update failed: {_why(exc)}")
                )
                await self._audit(user, "update", name, template, f"failed: {_why(exc)}")
                raise
            await self.book.installed(name, ready, values, result)
            await self._audit(user, "update", name, template, "ok")
            progress("updated", 1.0)
            return {"name": name, "resource_id": result.resource_id, "message": result.message}

        return await self.jobs.start("update", name, user.username, work)

    async def uninstall(self, name: str, user: Principal, *, keep_data: bool) -> Job:
        record = await self.book.get(name)
        deployer = self._named(record.deployer) if record.deployer else None
        await self.book.claim(name, "removing")

        async def work(progress: ProgressCallback) -> dict[str, Any]:
            try:
                if deployer is not None and record.resource_id:
                    progress(f"removing {record.kind} {record.resource_id}")
                    await deployer.remove(record.resource_id, keep_data=keep_data)
                await asyncio.to_thread(self._remove_checkout, name)
            except BaseException as exc:
                await asyncio.shield(
                    self.book.set_state(name, "failed", f"uninstall failed: {_why(exc)}")
                )
                await self._audit(user, "uninstall", name, record.template, f"failed: {_why(exc)}")
                raise
            await self.book.forget(name)
            await self._audit(user, "uninstall", name, record.template, "ok")
            progress("removed", 1.0)
            return {"name": name, "kept_data": keep_data}

        return await self.jobs.start("uninstall", name, user.username, work)

    # -- live state ------------------------------------------------------------------------

    async def shown(self, record: Record) -> InstalledApp:
        """The install with its live status (asked of its deployer, within a time limit)."""
        shown = record.shown()
        if record.state != "installed" or not record.deployer:
            return shown
        try:
            deployer = self._named(record.deployer)
            async with asyncio.timeout(STATUS_TIMEOUT):
                shown.status = await deployer.status(record.resource_id)
        except TimeoutError:
            shown.status_error = f"{record.deployer} did not answer within {STATUS_TIMEOUT:g} s"
        except Exception as exc:
            shown.status_error = _why(exc)
        return shown

    async def act(self, name: str, action: str, user: Principal) -> InstalledApp:
        """Start or stop an installed app now; its live status after."""
        record = await self.book.get(name)
        if record.state != "installed":
            raise ClientException(f"{name!r} is {record.state}", status_code=409)
        deployer = self._named(record.deployer)
        self.check_allowed(deployer, record.template, user)
        status = await (deployer.start if action == "start" else deployer.stop)(record.resource_id)
        shown = record.shown()
        shown.status = status
        return shown

    # -- helpers ---------------------------------------------------------------------------

    def _newest(self, record: Record) -> AppTemplate:
        """The catalog's template of the app if it still has it, else the one installed."""
        try:
            return self.catalog.app(record.app_id)
        except NotFoundException:
            return record.template

    async def _fetched(
        self, name: str, template: AppTemplate, progress: ProgressCallback
    ) -> AppTemplate:
        """The template with what it points at fetched: a compose file, the app's code."""
        if template.stack is not None and not template.stack.compose:
            progress("fetching the compose file")
            text = await checkout.compose_text(template.stack, self.catalog.reader)
            return msgspec.structs.replace(
                template, stack=msgspec.structs.replace(template.stack, compose=text)
            )
        if template.node is not None:
            progress(f"fetching the app's code from {template.node.repository}")
            folder = await checkout.check_out(template.node, self.apps_folder / name)
            return msgspec.structs.replace(
                template, node=msgspec.structs.replace(template.node, repository=str(folder))
            )
        return template

    async def _forget(self, name: str, template: AppTemplate) -> None:
        await self.book.forget(name)
        if template.node is not None:
            await asyncio.to_thread(self._remove_checkout, name)

    def _remove_checkout(self, name: str) -> None:
        shutil.rmtree(self.apps_folder / name, ignore_errors=True)

    async def _audit(
        self, user: Principal, action: str, name: str, template: AppTemplate, result: str
    ) -> None:
        await self.skyport.audit.record(
            user.username, f"marketplace.{action} {template.id}", name, result
        )


def _fixed(template: AppTemplate, name: str) -> bool:
    return any(f.name == name and f.hidden for f in template.env)


def _why(exc: BaseException) -> str:
    detail = getattr(exc, "detail", None)
    if isinstance(exc, asyncio.CancelledError):
        return "the server stopped"
    return str(detail or exc or type(exc).__name__)
