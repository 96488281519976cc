"""Process output: the last lines of the log files, and live output from the daemon's bus.

pm2 writes each process's stdout and stderr to ``pm_out_log_path`` and
``pm_err_log_path`` and publishes the same text on its bus as ``log:out`` /
``log:err``. Past lines come from the files (read from the end, only what
is needed); live ones are published on the WebSocket topic
``pm2.logs:<name>`` (or ``pm2.logs:<pm_id>``, ``pm2.logs:all``) while
someone is subscribed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Literal

import msgspec

from skyport_pm2.processes import Proc

TOPIC_PREFIX = "pm2.logs:"
BLOCK = 64 * 1024
MAX_LINES = 10_000
MAX_LINE_BYTES = 64 * 1024

Stream = Literal["out", "err"]


class ProcessLogLine(msgspec.Struct, frozen=True):
    name: str
    pm_id: int
    stream: Stream
    line: str


class ProcessLogs(msgspec.Struct, frozen=True):
    lines: list[ProcessLogLine]
    """Per process: its last stdout lines, then its last stderr lines (pm2 keeps no times)."""
    at: int
    """Unix milliseconds when the files were read: live output (``at`` above it) follows."""


class LiveOutput(msgspec.Struct, frozen=True):
    """One chunk of output on ``pm2.logs:<name>``, as the app wrote it (often one line)."""

    name: str
    pm_id: int
    stream: Stream
    data: str
    at: int
    """Unix milliseconds."""


def last_lines(procs: list[Proc], count: int) -> ProcessLogs:
    """The last ``count`` lines of each process's out and err files (shared files read once)."""
    at = int(time.time() * 1000)
    seen: set[str] = set()
    lines: list[ProcessLogLine] = []
    for proc in procs:
        pm2_env = proc.get("pm2_env") or {}
        name, pm_id = str(proc.get("name")), int(proc.get("pm_id", pm2_env.get("pm_id", 0)))
        streams: tuple[tuple[Literal["out", "err"], str], ...] = (
            ("out", "pm_out_log_path"),
            ("err", "pm_err_log_path"),
        )
        for stream, key in streams:
            path = pm2_env.get(key)
            if not path or path in seen or path == os.devnull:
                continue
            seen.add(path)
            lines += [ProcessLogLine(name, pm_id, stream, text) for text in tail(Path(path), count)]
    return ProcessLogs(lines, at)


def tail(path: Path, count: int) -> list[str]:
    """The last ``count`` lines of a file, reading backwards block by block."""
    if count <= 0:
        return []
    try:
        with path.open("rb") as file:
            end = file.seek(0, os.SEEK_END)
            data = b""
            position = end
            while position > 0 and data.count(b"\n") <= count:
                step = min(BLOCK, position)
                position -= step
                file.seek(position)
                data = file.read(step) + data
                if len(data) > count * MAX_LINE_BYTES:
                    break
    except OSError:
        return []
    text = data.decode(errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines[-count:]


def truncate(procs: list[Proc]) -> list[str]:
    """Empty the processes' log files (``pm2 flush``); the files that were emptied."""
    flushed: list[str] = []
    for proc in procs:
        pm2_env = proc.get("pm2_env") or {}
        for key in ("pm_out_log_path", "pm_err_log_path", "pm_log_path"):
            path = pm2_env.get(key)
            if not path or path in flushed or path == os.devnull or not os.path.exists(path):
                continue
            with open(path, "r+b") as file:  # the daemon appends (O_APPEND): it goes on at 0
                file.truncate(0)
            flushed.append(path)
    return flushed


def live_output(topic: str, data: Any) -> LiveOutput | None:
    """A ``log:out`` / ``log:err`` bus message as published; None for anything else."""
    if topic not in ("log:out", "log:err") or not isinstance(data, dict):
        return None
    process = data.get("process") or {}
    try:
        pm_id = int(process.get("pm_id"))  # type: ignore[arg-type]  # None: TypeError below
    except (TypeError, ValueError):
        return None
    at = data.get("at")
    return LiveOutput(
        name=str(process.get("name") or ""),
        pm_id=pm_id,
        stream="out" if topic == "log:out" else "err",
        data=str(data.get("data") or ""),
        at=int(at) if isinstance(at, int | float) else int(time.time() * 1000),
    )


def matches(output: LiveOutput, ref: str) -> bool:
    """Whether output belongs to the topic's ``<name>``, ``<pm_id>`` or ``all``."""
    if ref == "all":
        return True
    if ref.isdigit():
        return output.pm_id == int(ref)
    return output.name == ref
