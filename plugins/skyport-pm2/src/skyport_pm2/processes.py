"""What the API shows of a PM2 process, built from the daemon's ``getMonitorData`` entries.

The daemon's process data carries the whole environment each app was
started with, twice (under ``pm2_env.env`` and flattened into ``pm2_env``).
Nothing here copies ``pm2_env`` wholesale: every field is picked by name,
and the environment is shown as its keys with the values replaced by
:data:`REDACTED`, unless the caller asks to reveal it.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import msgspec

REDACTED = "<redacted>"

Mode = Literal["fork", "cluster"]
Proc = dict[str, Any]
"""One entry of ``getMonitorData``: ``{pid, name, pm_id, pm2_env, monit}``."""


class ProcessSummary(msgspec.Struct, frozen=True):
    """One row of ``pm2 list``."""

    name: str
    pm_id: int
    namespace: str
    status: str
    """``online``, ``stopped``, ``stopping``, ``launching``, ``errored``, ``one-launch-status``."""
    pid: int
    cpu: float
    """CPU % of one core, as pm2 samples it."""
    memory: int
    """Resident memory in bytes."""
    restarts: int
    uptime: float
    """Seconds since the process (re)started; 0 when it is not online."""
    mode: Mode
    instances: int
    """Processes with this name (cluster workers or forks)."""
    script: str
    cwd: str
    interpreter: str
    watch: bool


class ProcessDetail(msgspec.Struct, frozen=True):
    """``pm2 describe``: the summary plus how the process was started."""

    name: str
    pm_id: int
    namespace: str
    status: str
    pid: int
    cpu: float
    memory: int
    restarts: int
    unstable_restarts: int
    uptime: float
    created_at: float | None
    """Unix seconds when pm2 created (or last reset) the process."""
    mode: Mode
    instances: int
    script: str
    cwd: str
    interpreter: str
    interpreter_args: list[str]
    args: list[str]
    watch: bool | list[str]
    autorestart: bool
    max_memory_restart: int | None
    """Bytes."""
    cron_restart: str | None
    out_log: str | None
    err_log: str | None
    pid_file: str | None
    exit_code: int | None
    node_version: str | None
    metrics: dict[str, Any]
    """The app's own metrics (``@pm2/io``), by name."""
    metric_units: dict[str, str]
    """The unit of each metric that has one (``MiB``, ``ms``, ``%`` …), by name."""
    env: dict[str, str]
    """The environment: keys with values :data:`REDACTED` unless revealed."""
    env_revealed: bool


def env_of(proc: Proc) -> dict[str, Any]:
    return (proc.get("pm2_env") or {}).get("env") or {}


def summarize(proc: Proc, instances: int = 1, now: float | None = None) -> ProcessSummary:
    pm2_env = proc.get("pm2_env") or {}
    monit = proc.get("monit") or {}
    return ProcessSummary(
        name=str(proc.get("name") or pm2_env.get("name") or ""),
        pm_id=_int(proc.get("pm_id", pm2_env.get("pm_id"))),
        namespace=str(pm2_env.get("namespace") or "default"),
        status=str(pm2_env.get("status") or "unknown"),
        pid=_int(proc.get("pid")),
        cpu=float(monit.get("cpu") or 0),
        memory=_int(monit.get("memory")),
        restarts=_int(pm2_env.get("restart_time")),
        uptime=_uptime(pm2_env, now),
        mode=mode_of(pm2_env),
        instances=instances,
        script=str(pm2_env.get("pm_exec_path") or ""),
        cwd=str(pm2_env.get("pm_cwd") or ""),
        interpreter=str(pm2_env.get("exec_interpreter") or ""),
        watch=bool(pm2_env.get("watch")),
    )


def summaries(procs: list[Proc]) -> list[ProcessSummary]:
    """Every process, with ``instances`` counted per name."""
    counts: dict[str, int] = {}
    for proc in procs:
        counts[str(proc.get("name"))] = counts.get(str(proc.get("name")), 0) + 1
    now = time.time()
    return [summarize(proc, counts[str(proc.get("name"))], now) for proc in procs]


def describe(proc: Proc, instances: int, reveal_env: bool = False) -> ProcessDetail:
    row = summarize(proc, instances)
    pm2_env = proc.get("pm2_env") or {}
    watch = pm2_env.get("watch")
    created = pm2_env.get("created_at")
    return ProcessDetail(
        name=row.name,
        pm_id=row.pm_id,
        namespace=row.namespace,
        status=row.status,
        pid=row.pid,
        cpu=row.cpu,
        memory=row.memory,
        restarts=row.restarts,
        unstable_restarts=_int(pm2_env.get("unstable_restarts")),
        uptime=row.uptime,
        created_at=created / 1000 if isinstance(created, int | float) else None,
        mode=row.mode,
        instances=instances,
        script=row.script,
        cwd=row.cwd,
        interpreter=row.interpreter,
        interpreter_args=_strings(pm2_env.get("node_args")),
        args=_strings(pm2_env.get("args")),
        watch=[str(p) for p in watch] if isinstance(watch, list) else bool(watch),
        autorestart=pm2_env.get("autorestart") is not False,
        max_memory_restart=_int_or_none(pm2_env.get("max_memory_restart")),
        cron_restart=str(pm2_env["cron_restart"]) if pm2_env.get("cron_restart") else None,
        out_log=pm2_env.get("pm_out_log_path"),
        err_log=pm2_env.get("pm_err_log_path"),
        pid_file=pm2_env.get("pm_pid_path"),
        exit_code=_int_or_none(pm2_env.get("exit_code")),
        node_version=pm2_env.get("node_version"),
        metrics=_app_metrics(pm2_env.get("axm_monitor")),
        metric_units=_metric_units(pm2_env.get("axm_monitor")),
        env=environment(proc, reveal_env),
        env_revealed=reveal_env,
    )


def environment(proc: Proc, reveal: bool = False) -> dict[str, str]:
    """The app's environment variables: every key, values only when ``reveal``."""
    result: dict[str, str] = {}
    for key, value in sorted(env_of(proc).items()):
        if isinstance(value, dict | list):
            continue  # pm2 keeps its own bookkeeping objects here (env per app name)
        result[key] = str(value) if reveal else REDACTED
    return result


def mode_of(pm2_env: dict[str, Any]) -> Mode:
    return "cluster" if pm2_env.get("exec_mode") == "cluster_mode" else "fork"


def _uptime(pm2_env: dict[str, Any], now: float | None) -> float:
    started = pm2_env.get("pm_uptime")
    if pm2_env.get("status") != "online" or not isinstance(started, int | float):
        return 0.0
    return round(max(0.0, (now or time.time()) - started / 1000), 3)


def _app_metrics(monitor: Any) -> dict[str, Any]:
    if not isinstance(monitor, dict):
        return {}
    return {
        str(name): metric.get("value") if isinstance(metric, dict) else metric
        for name, metric in monitor.items()
    }


def _metric_units(monitor: Any) -> dict[str, str]:
    if not isinstance(monitor, dict):
        return {}
    return {
        str(name): str(metric["unit"])
        for name, metric in monitor.items()
        if isinstance(metric, dict) and metric.get("unit")
    }


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
