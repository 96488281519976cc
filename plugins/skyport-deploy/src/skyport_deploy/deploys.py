"""Deploying, rolling back and removing apps through the deployers other plugins contribute.

A deploy is checked first (name, values, the project itself when uploaded,
the port, the user's scopes for the target), then runs as a job. The first
release of an app is brought up on its port; a later one replaces the live
release only once it answers: with a ``trial`` plan (the app listens on
``$PORT``) it is first brought up on a spare port, and the live release is
stopped only after it answered there; with a ``replace`` plan the live
release is stopped first and started again if the new one does not answer.
The release before the live one stays (stopped) for ``rollback``; older
ones are removed. Whatever fails leaves nothing of the new release behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import msgspec
from litestar.exceptions import ClientException, PermissionDeniedException

from skyport.api import (
    AppTemplate,
    BackendUnavailable,
    Deployer,
    DeployerLogs,
    PluginContext,
    Principal,
    StepReporter,
)
from skyport_deploy import health, sources
from skyport_deploy.detectors import detect
from skyport_deploy.plans import Ambiguous, Detection, Target, Undetected
from skyport_deploy.records import KEPT_STEPS, TOPIC, App, Book, Release
from skyport_deploy.rollout import DeployFailed, Rollout, never
from skyport_deploy.settings import DeploySettings, Port
from skyport_deploy.templates import kind_of
from skyport_deploy.tree import NotAProject

NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
PLUGIN_OF_KIND = {"node": "skyport-pm2", "container": "skyport-docker", "stack": "skyport-docker"}
FREE_PORT_TRIES = 1000
STATUS_TIMEOUT = 10.0


class DeployOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What to deploy and how (the project itself comes as an upload, or ``git``)."""

    name: str
    """The app's name: lower-case letters, digits and ``-`` (it names its containers,
    processes and images)."""
    git: str = ""
    """A git URL the server clones, instead of an uploaded project."""
    ref: str = ""
    """The branch or tag to clone (default: the repository's own)."""
    port: Port | None = None
    """The port the app gets (default: its previous one, else the project's, else a free one)."""
    env: dict[str, str] = msgspec.field(default_factory=dict)
    """Variables for the app (``--set``, ``--env-file``): kept for later deploys too."""
    target: Target | None = None
    """``docker`` or ``pm2`` (default: the plan's)."""
    type: str | None = None
    """Take the project as this type (``--as``): when it is ambiguous, or to override."""


class Deploys:
    """The plugin's work: deploy jobs, rollbacks, removals, logs."""

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport
        self.book = Book(skyport)
        self.root = skyport.config.data_path / "deploy" / "apps"
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._running: dict[str, Release] = {}
        """Releases whose jobs run on this server, with their steps so far."""

    @property
    def settings(self) -> DeploySettings:
        settings: DeploySettings = self.skyport.settings
        return settings

    # -- starting a deploy --------------------------------------------------------------------

    async def start(
        self, user: Principal, options: DeployOptions, archive: IO[bytes] | None
    ) -> Release:
        """Check what can be checked now, take the app's name, and start the job."""
        _check_options(options, archive is not None)
        release_id = uuid.uuid4().hex
        folder = self.root / options.name / release_id
        try:
            detection = None
            if archive is not None:
                count = await asyncio.to_thread(
                    sources.unpack, archive, folder, self.settings.max_unpacked
                )
                detection = await asyncio.to_thread(self.detect, folder, options.type)
                self._deployer(detection, options.target, user)
                source = f"upload ({count} files)"
            else:
                source = f"git {options.git}" + (f" ({options.ref})" if options.ref else "")
            if options.port is not None:
                await self._check_port(options.name, options.port)
            await self.book.take(options.name, user.username)
        except BaseException:
            _drop(folder)
            raise
        release = await self.book.new_release(release_id, options.name, source, user.username)
        reporter = StepReporter(
            TOPIC + release.id, self.skyport.publish, release.steps, keep=KEPT_STEPS
        )
        task = asyncio.create_task(
            self._run(release, reporter, user, options, folder, detection),
            name=f"deploy-{options.name}",
        )
        self._tasks[release.id], self._running[release.id] = task, release
        task.add_done_callback(lambda _: self._done(release.id))
        return release

    def _done(self, release_id: str) -> None:
        self._tasks.pop(release_id, None)
        self._running.pop(release_id, None)

    async def job(self, release_id: str) -> Release:
        """The release of a deploy job: live steps while it runs here, else as stored."""
        running = self._running.get(release_id)
        return running if running is not None else await self.book.release(release_id)

    def detect(self, folder: Path, as_type: str | None) -> Detection:
        """The project in ``folder``, runnable; 400 saying why not."""
        try:
            detection = detect(folder, self.settings, as_type)
        except (NotAProject, Undetected, Ambiguous) as exc:
            raise sources.invalid("project", str(exc)) from None
        if not detection.plan.start:
            notes = "; ".join(detection.plan.notes) or "no start command found"
            raise sources.invalid("project", f"a {detection.type} project, but {notes}")
        return detection

    def _deployer(self, detection: Detection, asked: Target | None, user: Principal) -> Deployer:
        """The deployer for the project on its target; 400, 403 or 503 if it cannot be."""
        target = asked or detection.plan.target
        if target not in detection.plan.targets:
            can = " or ".join(detection.plan.targets)
            raise sources.invalid("target", f"a {detection.type} project runs on {can}")
        kind = kind_of(detection, target)
        deployer = next((d for d in self.skyport.registry.deployers if kind in d.kinds), None)
        if deployer is None:
            raise BackendUnavailable(
                f"a deployer for {kind} apps", f"install and enable {PLUGIN_OF_KIND[kind]}"
            )
        needed = deployer.requirements(AppTemplate("deploy", "deploy", kind))
        lacking = [r for r in needed if not user.has_scope(r.scope)]
        if lacking:
            reasons = "; ".join(f"{r.scope} ({r.reason})" for r in lacking)
            raise PermissionDeniedException(
                f"deploying to {target} needs {reasons}",
                extra={"missing_scopes": sorted({r.scope for r in lacking})},
            )
        return deployer

    async def _check_port(self, name: str, port: int) -> None:
        """409 if another program listens on ``port`` (the app's own live release may)."""
        with contextlib.suppress(Exception):
            app = await self.book.app(name)
            if app.port == port and app.live is not None:
                return
        if port in await self.book.ports_taken(but=name) or not health.port_free(port):
            raise ClientException(
                f"port {port} is already in use: pick another with --port",
                status_code=409,
                extra={"field": "port"},
            )

    # -- the job ------------------------------------------------------------------------------

    async def _run(
        self,
        release: Release,
        reporter: StepReporter,
        user: Principal,
        options: DeployOptions,
        folder: Path,
        detection: Detection | None,
    ) -> None:
        app = await self.book.app(options.name)
        try:
            if detection is None:
                reporter(f"cloning {options.git}")
                commit = await sources.clone(
                    options.git, options.ref, folder, self.settings.git_timeout
                )
                reporter(f"cloned {commit}")
                detection = await asyncio.to_thread(self.detect, folder, options.type)
            release.detection = detection
            reporter(
                f"detected {detection.type}"
                + (f" ({detection.framework})" if detection.framework else "")
            )
            deployer = self._deployer(detection, options.target, user)
            target = options.target or detection.plan.target
            port = await self._port(app, options, detection)
            kept = {**await self.book.env(app.name), **options.env}
            values = {
                **detection.plan.env,
                **sources.project_env(folder),
                **kept,
                "PORT": str(port),
                "HOST": self.settings.listen,
            }
            release.port, release.env = port, sorted(values)
            live = await self._live(app)
            rollout = Rollout(
                deployer, release, detection, target, folder, values, user, reporter, self.settings
            )
            if live is None:
                await rollout.up(port, build=True)
            elif detection.plan.reads_port:
                await rollout.trial_then_swap(live, port)
            else:
                await rollout.replace(live, port)
        except BaseException as exc:
            await asyncio.shield(self._failed(app, release, folder, exc, user))
            reporter.finish("release", release)
            return
        await self._succeeded(app, release, deployer, target, detection, kept, user)
        reporter(f"{app.name} is live at http://127.0.0.1:{port}/", 1.0)
        reporter.finish("release", release)

    async def _port(self, app: App, options: DeployOptions, detection: Detection) -> int:
        if options.port is not None:
            return options.port
        if app.port is not None:
            return app.port
        taken = await self.book.ports_taken(but=app.name)
        wanted = detection.plan.port
        if wanted is not None and wanted not in taken and health.port_free(wanted):
            return wanted
        for port in range(self.settings.first_port, self.settings.first_port + FREE_PORT_TRIES):
            if port not in taken and health.port_free(port):
                return port
        raise ClientException("no free port found: give one with --port", status_code=409)

    async def _live(self, app: App) -> Release | None:
        if app.live is None:
            return None
        return await self.book.numbered(app.name, app.live)

    async def _succeeded(
        self,
        app: App,
        release: Release,
        deployer: Deployer,
        target: str,
        detection: Detection,
        kept: Mapping[str, str],
        user: Principal,
    ) -> None:
        if app.previous is not None:
            with contextlib.suppress(Exception):
                old = await self.book.numbered(app.name, app.previous)
                await deployer.remove(old.resource_id, keep_data=False)
                shutil.rmtree(self.root / app.name / old.id, ignore_errors=True)
                await self.book.set_release_state(app.name, old.number, "retired")
        if app.live is not None:
            await self.book.set_release_state(app.name, app.live, "previous")
        await self.book.update_app(
            app.name,
            env=kept,
            state="live",
            type=detection.type,
            target=target,
            deployer=deployer.name,
            port=release.port,
            live=release.number,
            previous=app.live,
        )
        await self._audit(user, "deploy", app.name, f"ok: release {release.number}")
        release.state, release.finished = "live", time.time()
        await self.book.update_release(release)  # last: a job seen ended has ended

    async def _failed(
        self, app: App, release: Release, folder: Path, exc: BaseException, user: Principal
    ) -> None:
        why = _why(exc)
        release.state, release.error, release.finished = "failed", why, time.time()
        await asyncio.to_thread(_drop, folder)
        if app.live is None:  # no app is left (its failed release stays readable as a job)
            await self.book.drop_app(app.name)
        else:
            await self.book.update_app(app.name, state="live")
        await self._audit(user, "deploy", app.name, f"failed: {why}")
        await self.book.update_release(release)  # last: a job seen ended has ended

    # -- afterwards ----------------------------------------------------------------------------

    def named(self, name: str) -> Deployer:
        found = next((d for d in self.skyport.registry.deployers if d.name == name), None)
        if found is None:
            raise BackendUnavailable(f"deployer {name!r}", "its plugin is not loaded")
        return found

    async def shown(self, app: App, *, releases: bool = False) -> App:
        """The app with its live status (asked of its deployer within a time limit)."""
        app.env = sorted(await self.book.env(app.name))
        if releases:
            app.releases = await self.book.releases(app.name)
        if app.live is None or not app.deployer:
            return app
        try:
            deployer = self.named(app.deployer)
            live = await self.book.numbered(app.name, app.live)
            async with asyncio.timeout(STATUS_TIMEOUT):
                app.status = await deployer.status(live.resource_id)
        except TimeoutError:
            app.status_error = f"{app.deployer} did not answer within {STATUS_TIMEOUT:g} s"
        except Exception as exc:
            app.status_error = _why(exc)
        return app

    async def logs(self, name: str, lines: int) -> list[str]:
        app = await self.book.app(name)
        if app.live is None:
            raise ClientException(f"{name!r} has no live release", status_code=409)
        deployer = self.named(app.deployer)
        if not isinstance(deployer, DeployerLogs):
            raise ClientException(f"{app.deployer} does not show logs", status_code=409)
        live = await self.book.numbered(name, app.live)
        return await deployer.logs(live.resource_id, lines)

    async def rollback(self, name: str, user: Principal) -> App:
        """Start the kept previous release in place of the live one, once it answers."""
        app = await self.book.claim(name, "deploying")
        try:
            if app.previous is None or app.live is None:
                raise ClientException(
                    f"{name!r} has no previous release to go back to", status_code=409
                )
            deployer = self.named(app.deployer)
            previous = await self.book.numbered(name, app.previous)
            live = await self.book.numbered(name, app.live)
            assert previous.port is not None
            await deployer.stop(live.resource_id)
            await deployer.start(previous.resource_id)
            why = await health.wait_for_answer(previous.port, self.settings.health_timeout, never)
            if why is not None:
                await deployer.stop(previous.resource_id)
                await deployer.start(live.resource_id)
                raise DeployFailed(
                    f"release {previous.number} {why.removeprefix('it ')}; "
                    f"release {live.number} is live again"
                )
            await self.book.set_release_state(name, previous.number, "live")
            await self.book.set_release_state(name, live.number, "previous")
            await self.book.update_app(
                name, live=previous.number, previous=live.number, port=previous.port
            )
        except BaseException as exc:
            await self._audit(user, "rollback", name, f"failed: {_why(exc)}")
            raise
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.book.update_app(name, state="live"))
        await self._audit(user, "rollback", name, f"ok: release {previous.number}")
        return await self.shown(await self.book.app(name))

    async def remove(self, name: str, user: Principal) -> None:
        """Remove every release's container, stack or process, its files, and the app."""
        app = await self.book.claim(name, "removing")
        try:
            if app.deployer:
                deployer = self.named(app.deployer)
                for release in await self.book.releases(name):
                    if release.state in ("live", "previous"):
                        await deployer.remove(release.resource_id, keep_data=False)
        except BaseException as exc:
            await asyncio.shield(self.book.update_app(name, state="live"))
            await self._audit(user, "remove", name, f"failed: {_why(exc)}")
            raise
        await asyncio.to_thread(shutil.rmtree, self.root / name, True)
        await self.book.forget(name)
        await self._audit(user, "remove", name, "ok")

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait(self, release_id: str) -> Release:
        """The release once its job has finished."""
        task = self._tasks.get(release_id)
        if task is not None:
            await asyncio.shield(task)
        return await self.book.release(release_id)

    async def _audit(self, user: Principal, action: str, name: str, result: str) -> None:
        await self.skyport.audit.record(user.username, f"deploy.{action}", name, result)


def _drop(folder: Path) -> None:
    """Remove a release's folder, and the app's if that was its last."""
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        folder.parent.rmdir()


def _check_options(options: DeployOptions, uploaded: bool) -> None:
    if not NAME.match(options.name):
        raise sources.invalid(
            "name",
            f"{options.name!r}: use 1 to 40 lower-case letters, digits and '-' (not first or last)",
        )
    bad = [k for k in options.env if not ENV_NAME.match(k)]
    if bad:
        raise sources.invalid("env", f"{bad[0]!r} is not a variable name")
    if uploaded == bool(options.git):
        raise sources.invalid(
            "project", "give the project as a tar.gz upload or a git URL (one of them)"
        )
    if options.git:
        sources.check_git_url(options.git, options.ref)


def _why(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "the server stopped"
    detail = getattr(exc, "detail", None)
    return str(detail or exc or type(exc).__name__)
