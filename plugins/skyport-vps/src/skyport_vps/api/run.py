"""``POST /run``: a command on one server, a list, a tag or all, in parallel; ``GET /jobs/{id}``.

The command goes to each server's shell as given (see :mod:`skyport_vps.runner`).
Every run is audited: who, which servers, the command, each exit code.
"""

from __future__ import annotations

import time
from typing import Annotated

import msgspec
from litestar import get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, JSONBody

from skyport_vps.api.common import (
    KIND,
    READ,
    RUN,
    AnyRequest,
    Skyport,
    allowed_server,
    invalid,
    visible_servers,
)
from skyport_vps.inventory import Server
from skyport_vps.jobs import JOB_ID, TOPIC, RunJob, job_seen_by, new_job_id
from skyport_vps.runner import HostResult, fan_out, run_command
from skyport_vps.state import VpsState, vps_state

TAGS = ["vps: run"]
MAX_TIMEOUT = 86400.0


class RunCommandRequest(msgspec.Struct, forbid_unknown_fields=True):
    """What to run where: ``servers`` and/or ``tags``, or ``all``."""

    command: Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]
    servers: list[str] = msgspec.field(default_factory=list)
    tags: list[str] = msgspec.field(default_factory=list)
    all: bool = False
    timeout: Annotated[float, msgspec.Meta(gt=0, le=MAX_TIMEOUT)] | None = None
    """Seconds per server (default: the ``command_timeout`` setting)."""
    parallel: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """Servers at once (default and most: the ``max_parallel`` setting)."""
    job: str | None = None
    """Your own job id (8-64 of ``A-Za-z0-9_-``): subscribe to ``vps.run:<job>`` first."""


async def _targets(skyport: Skyport, request: AnyRequest, data: RunCommandRequest) -> list[Server]:
    if data.all and (data.servers or data.tags):
        raise invalid("all", "give all, or servers and tags, not both")
    if not (data.all or data.servers or data.tags):
        raise invalid("servers", "name servers, tags, or all")
    if data.all:
        everything = await visible_servers(skyport, request)
        if not everything:
            raise NotFoundException("there is no server to run on")
        return everything
    chosen: dict[str, Server] = {}
    for name in data.servers:
        chosen[name] = await allowed_server(skyport, request.user, name)
    if data.tags:
        for server in await visible_servers(skyport, request):
            if set(data.tags) & set(server.tags):
                chosen.setdefault(server.name, server)
    if not chosen:
        raise NotFoundException(f"no server is tagged {', '.join(data.tags)}")
    return list(chosen.values())


@post("/run", opt=RUN, tags=TAGS, status_code=200)
async def run(skyport: Skyport, request: AnyRequest, data: JSONBody[RunCommandRequest]) -> RunJob:
    """Run a command on many servers at once; every server's exit code and output.

    The answer comes when every server is done (each within its timeout);
    live output is on the WebSocket topic ``vps.run:<job>``.
    """
    state = vps_state(skyport)
    targets = await _targets(skyport, request, data)
    job_id = data.job or new_job_id()
    if not JOB_ID.match(job_id):
        raise invalid("job", "8 to 64 letters, digits, '-' or '_'")
    try:
        job = state.jobs.start(
            job_id, request.user.username, data.command, [s.name for s in targets]
        )
    except KeyError:
        raise ClientException(f"job {job_id!r} exists already", status_code=409) from None
    await execute(state, job, targets, data)
    await skyport.audit.record(
        request.user.username,
        f"vps.run {data.command}",
        ",".join(job.servers),
        _summary(job),
    )
    return job


async def execute(
    state: VpsState, job: RunJob, targets: list[Server], data: RunCommandRequest
) -> None:
    """Run the job's command on its servers, publishing output and results as they come.

    Only a run started with the client's own ``job`` id is published: without
    one, nobody could have subscribed to its topic in time.
    """
    skyport = state.skyport
    settings = state.settings
    topic = TOPIC + job.id
    live = data.job is not None
    timeout = data.timeout or settings.command_timeout
    parallel = min(data.parallel or settings.max_parallel, settings.max_parallel)

    def sink(server: str, stream: str, text: str) -> None:
        skyport.publish(topic, {"server": server, "stream": stream, "data": text})

    def work(server: Server) -> HostResult:
        return run_command(
            state.pool, server, data.command, timeout, settings.max_output, sink if live else None
        )

    def done(result: HostResult) -> None:
        job.results[result.server] = result
        if live:
            skyport.publish(topic, {"server": result.server, "result": result})

    await fan_out(targets, work, state.executor, parallel, done)
    job.results = {name: job.results[name] for name in job.servers}
    job.ok = all(r.ok for r in job.results.values())
    job.finished = time.time()
    if live:
        skyport.publish(topic, {"done": True, "job": job})


def _summary(job: RunJob) -> str:
    """``exit codes: web-1=0 db-1=timeout`` (as much as the audit log keeps)."""
    parts = [
        f"{name}={r.exit_code if r.exit_code is not None else r.reason}"
        for name, r in job.results.items()
    ]
    return "exit codes: " + " ".join(parts)


@get("/jobs/{job_id:str}", opt=READ, tags=TAGS)
async def show_job(skyport: Skyport, request: AnyRequest, job_id: FromPath[str]) -> RunJob:
    """A recent run and its results (only the servers you may see)."""
    job = vps_state(skyport).jobs.get(job_id)
    if job is None:
        raise NotFoundException(f"no job {job_id!r} (jobs are kept for the last 200 runs)")
    names = await skyport.grants.visible(request.user, KIND, job.servers)
    if not names:
        raise NotFoundException(f"no job {job_id!r} (jobs are kept for the last 200 runs)")
    return job_seen_by(job, names)


ROUTES = [run, show_job]
