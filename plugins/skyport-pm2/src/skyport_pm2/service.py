"""The PM2 plugin's backend: every operation the API, the collector and the topics use.

One :class:`Pm2Service` per application, kept in ``skyport.state["pm2"]``.
It calls the daemon over RPC; when the daemon is not running it starts it
(``pm2 ping``, unless ``pm2.start_daemon`` is off) and tries again, so a
daemon that was killed or restarted is picked up without restarting
SkyPort. Errors become HTTP errors here: an unknown process is a 404 naming
it, the daemon refusing an action a 409 with its reason, the daemon
unreachable a 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal as signals
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

import msgspec
from litestar.exceptions import ClientException, NotFoundException

from skyport.api import BackendUnavailable
from skyport_pm2 import apps, ecosystem, logs
from skyport_pm2.apps import StartRequest, invalid
from skyport_pm2.bus import EventBus
from skyport_pm2.daemon import BACKEND, CommandFailed, Pm2Command, Pm2Home
from skyport_pm2.processes import Proc, ProcessDetail, ProcessSummary, describe, summaries
from skyport_pm2.rpc import ConnectionLost, NotConnected, RpcClient, RpcError, RpcFailure
from skyport_pm2.settings import Pm2Settings

log = logging.getLogger("skyport.pm2")

Action = Literal["start", "stop", "restart", "reload", "delete", "reset"]
NOTIFIED = {"stop": "stop", "restart": "restart", "reload": "reload", "delete": "delete"}
"""What the pm2 CLI tells the daemon after an action (published as ``manually: true``)."""


QUICK = 5.0
"""Seconds for calls that must not hold anything up (a liveness check, the collector)."""


class StartResult(msgspec.Struct, frozen=True):
    ids: list[int]
    """pm_ids of the processes started."""
    processes: list[ProcessSummary]


class ScaleResult(msgspec.Struct, frozen=True):
    name: str
    instances: int
    added: list[int]
    removed: list[int]


class Flushed(msgspec.Struct, frozen=True):
    files: list[str]


class Saved(msgspec.Struct, frozen=True):
    file: str
    processes: int


class Pm2Service:
    """Talks to one PM2 daemon (``pm2.home``) for one SkyPort application."""

    def __init__(self, settings: Pm2Settings) -> None:
        self.settings = settings
        self.home = Pm2Home.from_settings(settings)
        self.command = Pm2Command(settings, self.home)
        self.rpc = RpcClient(str(self.home.rpc_socket), settings.timeout)
        self.bus = EventBus(self.home.pub_socket)
        self._starting = asyncio.Lock()

    async def close(self) -> None:
        await self.bus.close()
        await self.rpc.close()

    # -- calling the daemon ------------------------------------------------------------

    async def call(
        self, method: str, arg: Any = None, *, idempotent: bool = False, wait: float | None = None
    ) -> Any:
        """``method(arg)`` in the daemon, starting it first when it is not running.

        A call the daemon never received is always tried again once the
        daemon runs; one that was in flight when the daemon went away only
        when ``idempotent``.
        """
        try:
            return await self.rpc.call(method, arg, wait)
        except NotConnected as exc:
            await self._ensure_daemon(exc)
        except ConnectionLost as exc:
            if not idempotent:
                reason = f"the daemon went away during {method}: {exc}"
                raise BackendUnavailable(BACKEND, reason) from None
            await self._ensure_daemon(exc)
        except RpcError:
            raise
        except RpcFailure as exc:
            raise BackendUnavailable(BACKEND, str(exc)) from None
        try:
            return await self.rpc.call(method, arg, wait)
        except RpcError:
            raise
        except RpcFailure as exc:
            raise BackendUnavailable(BACKEND, f"the daemon in {self.home.path}: {exc}") from None

    async def _ensure_daemon(self, failure: RpcFailure) -> None:
        if not self.settings.start_daemon:
            raise BackendUnavailable(
                BACKEND,
                f"the PM2 daemon in {self.home.path} is not running ({failure}); "
                "start it with `pm2 ping` or set pm2.start_daemon",
            )
        async with self._starting:  # one start for many callers who found it down
            with contextlib.suppress(RpcFailure):
                await self.rpc.call("ping", {}, QUICK)
                return  # another caller started it meanwhile
            log.info("starting the PM2 daemon in %s (%s)", self.home.path, failure)
            since = self.bus.generation
            await self.command.start_daemon()
            await self.bus.resync(since)  # followers see the new daemon's events from now on

    async def monitor_data(self) -> list[Proc]:
        """``getMonitorData``: every process with its pm2_env and cpu/memory."""
        data = await self.call("getMonitorData", {}, idempotent=True)
        return data if isinstance(data, list) else []

    async def monitor_data_if_running(self) -> list[Proc] | None:
        """Like :meth:`monitor_data`, but None rather than starting a daemon that is not there."""
        if not self.rpc.connected and not self.home.rpc_socket.exists():
            return None
        try:
            data = await self.rpc.call("getMonitorData", {}, QUICK)
        except RpcFailure:
            return None
        return data if isinstance(data, list) else []

    # -- reading -----------------------------------------------------------------------

    async def summaries(self) -> list[ProcessSummary]:
        return summaries(await self.monitor_data())

    async def select(self, ref: str, procs: list[Proc] | None = None) -> list[Proc]:
        """The processes ``ref`` names: ``all``, a pm_id, a name or a namespace; else 404."""
        procs = await self.monitor_data() if procs is None else procs
        if ref == "all":
            return procs
        if ref.isdigit():
            chosen = [p for p in procs if p.get("pm_id") == int(ref)]
        else:
            chosen = [p for p in procs if p.get("name") == ref]
            if not chosen:
                chosen = [p for p in procs if (p.get("pm2_env") or {}).get("namespace") == ref]
        if not chosen:
            raise NotFoundException(f"no PM2 process named {ref!r}", extra={"process": ref})
        return chosen

    async def describe(self, ref: str, reveal_env: bool = False) -> list[ProcessDetail]:
        procs = await self.monitor_data()
        counts: dict[str, int] = {}
        for proc in procs:
            counts[str(proc.get("name"))] = counts.get(str(proc.get("name")), 0) + 1
        return [
            describe(proc, counts[str(proc.get("name"))], reveal_env)
            for proc in await self.select(ref, procs)
        ]

    async def logs(self, ref: str, lines: int) -> logs.ProcessLogs:
        procs = await self.select(ref)
        return await asyncio.to_thread(logs.last_lines, procs, lines)

    # -- changing ----------------------------------------------------------------------

    async def start(self, request: StartRequest, *, any_ecosystem: bool = False) -> StartResult:
        """Start a script, or an ecosystem file (in ``pm2.ecosystem_dirs`` unless
        ``any_ecosystem``: for admins)."""
        if (request.script is None) == (request.ecosystem is None):
            raise invalid("script", "give either a script or an ecosystem file")
        if request.ecosystem is not None:
            return await self._start_ecosystem(request, any_ecosystem)
        base = self._base_env() if self.settings.inherit_env else {}
        app = apps.resolve_app(request, self.home, base)
        if any(p.get("name") == app["name"] for p in await self.monitor_data()):
            raise ClientException(
                f"a PM2 process named {app['name']!r} exists: restart it, or pick another name",
                status_code=409,
            )
        try:
            started = await self.call("prepare", app)
        except RpcError as exc:
            raise ClientException(f"PM2 could not start {app['name']!r}: {exc}") from None
        ids = sorted(
            int(item["pm2_env"]["pm_id"])
            for item in started or []
            if isinstance(item, dict) and isinstance(item.get("pm2_env"), dict)
        )
        return StartResult(ids, [s for s in await self.summaries() if s.pm_id in ids])

    async def _start_ecosystem(self, request: StartRequest, anywhere: bool) -> StartResult:
        file = self._ecosystem_file(request.ecosystem or "", anywhere)
        declared = await ecosystem.read_apps(file, self.settings.node, self.settings.timeout)
        names = {str(a.get("name") or "") for a in declared}
        unknown = sorted(set(request.only or ()) - names)
        if unknown:
            raise invalid("only", f"{', '.join(unknown)} not in {file.name}")
        before = {p.get("pm_id") for p in await self.monitor_data()}
        args = ["start", str(file)]
        if request.only:
            args += ["--only", ",".join(request.only)]
        if request.environment:
            args += ["--env", request.environment]
        try:  # the pm2 CLI resolves ecosystem files itself, from their directory
            await self.command.run(*args, cwd=file.parent)
        except CommandFailed as exc:
            raise ClientException(f"{file.name}: {exc}") from None
        wanted = set(request.only or names)
        rows = [row for row in await self.summaries() if row.name in wanted]
        return StartResult(sorted(r.pm_id for r in rows if r.pm_id not in before), rows)

    async def act(self, ref: str, action: Action) -> list[ProcessSummary]:
        """Run ``action`` on every process ``ref`` names, one after the other (as pm2 does)."""
        procs = await self.select(ref)
        before = {s.pm_id: s for s in summaries(procs)}
        for proc in procs:
            await self._act_on(int(proc["pm_id"]), action, proc)
        if action == "delete":
            return list(before.values())
        return [row for row in await self.summaries() if row.pm_id in before]

    async def _act_on(self, pm_id: int, action: Action, proc: Proc) -> None:
        status = (proc.get("pm2_env") or {}).get("status")
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "stop": lambda: self.call("stopProcessId", pm_id),
            "restart": lambda: self.call("restartProcessId", {"id": pm_id, "env": {}}),
            "reload": lambda: self.call("reloadProcessId", {"id": pm_id, "env": {}}),
            "delete": lambda: self.call("deleteProcessId", pm_id),
            "reset": lambda: self.call("resetMetaProcessId", pm_id),
            "start": lambda: self.call("restartProcessId", {"id": pm_id, "env": {}}),
        }
        if action == "start" and status == "online":
            return
        await self._daemon_action(pm_id, calls[action])
        if action in NOTIFIED:
            notice = {"id": pm_id, "action_name": NOTIFIED[action], "manually": True}
            with contextlib.suppress(RpcError):  # a courtesy: the process may be gone
                await self.call("notifyByProcessId", notice)

    async def _daemon_action(self, pm_id: int, run: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await run()
        except RpcError as exc:
            if "unknown" in str(exc):
                raise NotFoundException(f"no PM2 process with id {pm_id}") from None
            raise ClientException(f"PM2 refused: {exc}", status_code=409) from None

    async def _signal(self, pm_id: int, name: str) -> None:
        async def send() -> Any:
            return await self.call("sendSignalToProcessId", {"process_id": pm_id, "signal": name})

        await self._daemon_action(pm_id, send)

    async def scale(self, ref: str, target: int | str) -> ScaleResult:
        """``pm2 scale NAME N`` (or ``+N``, ``-N``): duplicate or delete instances."""
        if ref.isdigit() or ref == "all":
            raise invalid("name", "scale takes an app name, not an id or 'all'")
        procs = await self.select(ref)
        name = str(procs[0].get("name"))
        wanted = _target_count(target, len(procs))
        if wanted == len(procs):
            return ScaleResult(name, wanted, [], [])
        added: list[int] = []
        removed: list[int] = []
        if wanted > len(procs):
            for _ in range(wanted - len(procs)):
                clone = await self._daemon_action(
                    int(procs[0]["pm_id"]),
                    lambda: self.call("duplicateProcessId", int(procs[0]["pm_id"])),
                )
                added.append(int((clone or {}).get("pm2_env", {}).get("pm_id", -1)))
        else:
            for proc in sorted(procs, key=lambda p: int(p["pm_id"]))[wanted:]:
                await self._act_on(int(proc["pm_id"]), "delete", proc)
                removed.append(int(proc["pm_id"]))
        return ScaleResult(name, wanted, added, removed)

    async def send_signal(self, ref: str, signal: str) -> list[ProcessSummary]:
        name = _signal_name(signal)
        procs = await self.select(ref)
        for proc in procs:
            await self._signal(int(proc["pm_id"]), name)
        ids = {int(p["pm_id"]) for p in procs}
        return [row for row in await self.summaries() if row.pm_id in ids]

    async def flush(self, ref: str) -> Flushed:
        """Empty the log files, as ``pm2 flush`` does (the CLI truncates them itself too)."""
        procs = await self.select(ref)
        return Flushed(await asyncio.to_thread(logs.truncate, procs))

    async def save(self) -> Saved:
        """``pm2 save``: the dump file ``pm2 resurrect`` (and boot scripts) read back."""
        await self._run_or_503("save", "--force")
        return Saved(str(self.home.path / "dump.pm2"), len(await self.monitor_data()))

    async def resurrect(self) -> list[ProcessSummary]:
        await self._run_or_503("resurrect")
        return await self.summaries()

    async def ecosystem(self, path: str, *, anywhere: bool = False) -> ecosystem.Ecosystem:
        """The apps of the ecosystem file at ``path`` (in ``pm2.ecosystem_dirs`` unless
        ``anywhere``: for admins), and how many of each run."""
        file = self._ecosystem_file(path, anywhere)
        declared = await ecosystem.read_apps(file, self.settings.node, self.settings.timeout)
        running: dict[str, int] = {}
        for row in await self.summaries():
            running[row.name] = running.get(row.name, 0) + 1
        return ecosystem.describe_apps(file, declared, running)

    def _ecosystem_file(self, path: str, anywhere: bool) -> Path:
        allowed = None if anywhere else self.settings.ecosystem_dirs
        return ecosystem.check_file(path, allowed)

    async def _run_or_503(self, *args: str) -> None:
        try:
            await self.command.run(*args)
        except CommandFailed as exc:
            raise BackendUnavailable(BACKEND, str(exc)) from None

    def _base_env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith("SKYPORT_")}


def _target_count(target: int | str, current: int) -> int:
    text = str(target).strip()
    try:
        number = int(text)
    except ValueError:
        raise invalid("instances", f"{target!r} is not N, +N or -N") from None
    relative = text[:1] in "+-"
    wanted = current + number if relative else number
    if not 1 <= wanted <= 256:
        change = f"{text} would leave " if relative else ""
        message = f"{change}{wanted} instances: keep between 1 and 256 (or delete)"
        raise invalid("instances", message)
    return wanted


def _signal_name(signal: str) -> str:
    text = signal.strip().upper()
    try:
        return (
            signals.Signals(int(text)).name
            if text.isdigit()
            else signals.Signals[text if text.startswith("SIG") else f"SIG{text}"].name
        )
    except (KeyError, ValueError):
        raise invalid("signal", f"{signal!r} is not a signal (SIGUSR2, SIGHUP, 15 …)") from None
