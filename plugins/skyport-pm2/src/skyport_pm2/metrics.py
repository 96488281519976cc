"""The ``pm2`` metrics collector: per process CPU %, memory, restarts and uptime.

It reads what the daemon already samples (``getMonitorData``), and never
starts a daemon: with none running it reports ``daemon_up: false``.
"""

from __future__ import annotations

import msgspec

from skyport.api import MetricsCollector, PluginContext
from skyport_pm2.processes import summaries
from skyport_pm2.service import Pm2Service


class ProcessMetrics(msgspec.Struct, frozen=True):
    name: str
    """``<name>:<pm_id>`` (cluster instances share a name); the Prometheus label."""
    pm_id: int
    online: bool
    cpu_percent: float
    memory_bytes: int
    restarts: int
    uptime_seconds: float


class Pm2Snapshot(msgspec.Struct, frozen=True):
    """``skyport_pm2_process_cpu_percent{name="web:0"}`` and so on in Prometheus."""

    daemon_up: bool
    processes: int
    online: int
    process: list[ProcessMetrics]


def pm2_collector(skyport: PluginContext) -> MetricsCollector:
    async def collect() -> Pm2Snapshot:
        pm2: Pm2Service | None = skyport.state.get("pm2")
        procs = await pm2.monitor_data_if_running() if pm2 is not None else None
        if procs is None:
            return Pm2Snapshot(False, 0, 0, [])
        rows = [
            ProcessMetrics(
                name=f"{row.name}:{row.pm_id}",
                pm_id=row.pm_id,
                online=row.status == "online",
                cpu_percent=row.cpu,
                memory_bytes=row.memory,
                restarts=row.restarts,
                uptime_seconds=row.uptime,
            )
            for row in summaries(procs)
        ]
        return Pm2Snapshot(True, len(rows), sum(r.online for r in rows), rows)

    return MetricsCollector(
        "pm2", collect, description="Per PM2 process CPU %, memory, restarts and uptime"
    )
