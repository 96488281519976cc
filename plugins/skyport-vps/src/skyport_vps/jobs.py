"""Runs as jobs: what was asked, by whom, and each server's result, kept for a while.

A run's live output goes to the WebSocket topic ``vps.run:<job>``:
``{"server", "stream": "stdout"|"stderr", "data"}`` as it comes, then
``{"server", "result": HostResult}`` when that server is done, and
``{"done": true, "job": RunJob}`` at the end. A client that wants the output
live picks the job id itself, subscribes, then starts the run with it. A
subscriber limited by grants receives only what concerns their servers.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import msgspec

from skyport_vps.runner import HostResult

TOPIC = "vps.run:"
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KEPT_JOBS = 200


class RunJob(msgspec.Struct, kw_only=True):
    id: str
    user: str
    command: str
    servers: list[str]
    started: float
    finished: float | None = None
    results: dict[str, HostResult] = msgspec.field(default_factory=dict)
    """By server name."""
    ok: bool | None = None
    """True when every server ran the command and exited 0."""


def new_job_id() -> str:
    return uuid.uuid4().hex


def job_seen_by(job: RunJob, allowed: Collection[str]) -> RunJob:
    """The job as a user who may reach only the ``allowed`` servers sees it."""
    return msgspec.structs.replace(
        job,
        servers=[name for name in job.servers if name in allowed],
        results={name: r for name, r in job.results.items() if name in allowed},
    )


def topic_view(
    allowed_servers: Callable[[Any], Awaitable[frozenset[str] | None]],
) -> Callable[[Any], Awaitable[Callable[[Any], Any] | None]]:
    """The ``view`` of :data:`TOPIC`: a subscriber gets only their servers' output."""

    async def view(principal: Any) -> Callable[[Any], Any] | None:
        allowed = await allowed_servers(principal)
        if allowed is None:
            return None

        def seen(message: dict[str, Any]) -> dict[str, Any] | None:
            if "server" in message:
                return message if message["server"] in allowed else None
            if "job" in message:  # a RunJob, or its JSON when another node ran it
                job = msgspec.convert(message["job"], RunJob)
                return {**message, "job": job_seen_by(job, allowed)}
            return message

        return seen

    return view


class JobStore:
    """The last :data:`KEPT_JOBS` runs, by id."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, RunJob] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, job_id: str, user: str, command: str, servers: list[str]) -> RunJob:
        job = RunJob(id=job_id, user=user, command=command, servers=servers, started=time.time())
        with self._lock:
            if job_id in self._jobs:
                raise KeyError(job_id)
            self._jobs[job_id] = job
            while len(self._jobs) > KEPT_JOBS:
                self._jobs.popitem(last=False)
        return job

    def get(self, job_id: str) -> RunJob | None:
        with self._lock:
            return self._jobs.get(job_id)
