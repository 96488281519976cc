"""Long work as jobs: installs, updates, uninstalls and catalog refreshes.

A job is a row in ``marketplace_jobs`` (so any server answers ``GET
/jobs/{id}``) and, while it runs, a task on the server that started it. Its
progress goes to the WebSocket topic ``marketplace.jobs:<id>`` as it comes:
``{"step", "fraction", "at"}`` messages, then one ``{"done": true, "job":
Job}``. A job still ``running`` in the database when its server starts again
was cut short by the restart, and is marked failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from litestar.exceptions import HTTPException, NotFoundException

from skyport.api import PluginContext, Step, StepReporter
from skyport_marketplace.tables import jobs as jobs_table

log = logging.getLogger("skyport.marketplace")

TOPIC = "marketplace.jobs:"
KEPT_JOBS = 500
"""Finished jobs older than the newest this many are deleted."""

JobState = Literal["running", "done", "failed"]
Action = Literal["install", "update", "uninstall", "refresh"]


class Job(msgspec.Struct, kw_only=True):
    id: str
    action: str
    target: str
    """The install's name, or the source's for a refresh."""
    username: str
    state: JobState
    steps: list[Step] = msgspec.field(default_factory=list)
    error: str | None = None
    result: Any = None
    created: float
    finished: float | None = None


Work = Callable[[StepReporter], Awaitable[Any]]


class JobRunner:
    """Starts jobs, keeps their records, and answers for them."""

    def __init__(self, skyport: PluginContext) -> None:
        self.skyport = skyport
        self._running: dict[str, tuple[Job, asyncio.Task[None]]] = {}

    async def start(self, action: Action, target: str, username: str, work: Work) -> Job:
        """Record a new job and run ``work(reporter)`` in the background."""
        job = Job(
            id=uuid.uuid4().hex,
            action=action,
            target=target,
            username=username,
            state="running",
            created=time.time(),
        )
        async with self.skyport.database.begin() as conn:
            await conn.execute(jobs_table.insert().values(**_row(job, self.skyport.node_name)))
        task = asyncio.create_task(self._run(job, work), name=f"marketplace-{action}-{target}")
        self._running[job.id] = (job, task)
        return job

    async def _run(self, job: Job, work: Work) -> None:
        reporter = StepReporter(TOPIC + job.id, self.skyport.publish, job.steps, coalesce=True)
        try:
            job.result = await work(reporter)
            job.state = "done"
        except asyncio.CancelledError:
            job.state, job.error = "failed", "the server stopped before the job finished"
            raise
        except HTTPException as exc:
            job.state, job.error = "failed", str(exc.detail)
        except Exception as exc:
            log.exception("marketplace job %s (%s %s) failed", job.id, job.action, job.target)
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.finished = time.time()
            await asyncio.shield(self._finish(job))

    async def _finish(self, job: Job) -> None:
        try:
            async with self.skyport.database.begin() as conn:
                await conn.execute(
                    jobs_table.update()
                    .where(jobs_table.c.id == job.id)
                    .values(**_row(job, self.skyport.node_name))
                )
                await _prune(conn)
        finally:
            self._running.pop(job.id, None)
            self.skyport.publish(TOPIC + job.id, {"done": True, "job": msgspec.to_builtins(job)})

    async def get(self, job_id: str) -> Job:
        running = self._running.get(job_id)
        if running is not None:
            return running[0]
        async with self.skyport.database.connect() as conn:
            row = (
                await conn.execute(sa.select(jobs_table).where(jobs_table.c.id == job_id))
            ).first()
        if row is None:
            raise NotFoundException(f"no marketplace job {job_id!r}")
        return _job(row._mapping)

    async def wait(self, job_id: str) -> Job:
        """The job once it has finished (for callers that want the outcome, and tests)."""
        running = self._running.get(job_id)
        if running is not None:
            await asyncio.shield(running[1])
        return await self.get(job_id)

    async def fail_interrupted(self) -> list[str]:
        """Jobs this server left ``running`` before it restarted were cut short: mark them
        failed; their targets (the installs they were changing)."""
        here = (jobs_table.c.state == "running", jobs_table.c.server == self.skyport.node_name)
        async with self.skyport.database.begin() as conn:
            targets = list(
                (await conn.execute(sa.select(jobs_table.c.target).where(*here))).scalars()
            )
            await conn.execute(
                jobs_table.update()
                .where(*here)
                .values(
                    state="failed", error="interrupted: the server restarted", finished=time.time()
                )
            )
        return targets

    async def stop(self) -> None:
        tasks = [task for _, task in self._running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _row(job: Job, node: str) -> dict[str, Any]:
    return {
        "id": job.id,
        "action": job.action,
        "target": job.target,
        "username": job.username,
        "server": node,
        "state": job.state,
        "steps": msgspec.json.encode(job.steps).decode(),
        "error": job.error,
        "result": None if job.result is None else msgspec.json.encode(job.result).decode(),
        "created": job.created,
        "finished": job.finished,
    }


def _job(row: Any) -> Job:
    return Job(
        id=row["id"],
        action=row["action"],
        target=row["target"],
        username=row["username"],
        state=row["state"],
        steps=msgspec.json.decode(row["steps"] or "[]", type=list[Step]),
        error=row["error"],
        result=None if row["result"] is None else msgspec.json.decode(row["result"]),
        created=row["created"],
        finished=row["finished"],
    )


async def _prune(conn: Any) -> None:
    cutoff = (
        await conn.execute(
            sa.select(jobs_table.c.created)
            .order_by(jobs_table.c.created.desc())
            .offset(KEPT_JOBS)
            .limit(1)
        )
    ).scalar()
    if cutoff is not None:
        await conn.execute(
            jobs_table.delete().where(
                jobs_table.c.created <= cutoff, jobs_table.c.state != "running"
            )
        )
