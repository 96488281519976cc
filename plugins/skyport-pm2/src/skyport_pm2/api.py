"""The HTTP API, mounted by the core under ``/api/pm2``.

``{name_or_id}`` names processes as the pm2 CLI does: a name (every instance of
it), a pm_id, a namespace, or ``all``. Reading needs ``pm2:read``, anything
else ``pm2:write`` (and is audited by the core). Environment values are
never shown, except to an admin asking for one process with
``GET /processes/{name_or_id}?reveal_env=true``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from skyport.api import Principal, SkyportContext
from skyport_pm2.apps import StartRequest
from skyport_pm2.ecosystem import Ecosystem
from skyport_pm2.logs import MAX_LINES, ProcessLogs
from skyport_pm2.processes import ProcessDetail, ProcessSummary
from skyport_pm2.service import Action, Flushed, Pm2Service, Saved, ScaleResult, StartResult

READ = {"scope": "pm2:read"}
WRITE = {"scope": "pm2:write"}
TAGS = ["pm2"]

Ref = FromPath[str]


class ScaleRequest(msgspec.Struct, forbid_unknown_fields=True):
    instances: int | str
    """The number of instances wanted, or ``+N`` / ``-N`` to add or remove some."""


class EcosystemRequest(msgspec.Struct, forbid_unknown_fields=True):
    file: Annotated[str, msgspec.Meta(min_length=1)]
    """Absolute path of the ecosystem file on the server."""


AuthRequest = Request[Principal, Any, Any]


class SignalRequest(msgspec.Struct, forbid_unknown_fields=True):
    signal: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    """``SIGUSR2``, ``USR2`` or a number."""


def service(skyport: SkyportContext) -> Pm2Service:
    return skyport.state["pm2"]


@get("/list", opt=READ, tags=TAGS)
async def list_processes(skyport: SkyportContext) -> list[ProcessSummary]:
    """Every process the daemon manages (``pm2 list``)."""
    return await service(skyport).summaries()


@post("/start", opt=WRITE, tags=TAGS, status_code=201)
async def start(
    skyport: SkyportContext, request: AuthRequest, data: JSONBody[StartRequest]
) -> StartResult:
    """Start a script (``pm2 start app.js -i 2 --name web``) or an ecosystem file.

    Ecosystem files: for non-admins only those in ``pm2.ecosystem_dirs`` (else 403).
    """
    return await service(skyport).start(data, any_ecosystem=request.user.is_admin)


@get("/processes/{name_or_id:str}", opt=READ, tags=TAGS)
async def describe_process(
    skyport: SkyportContext,
    request: AuthRequest,
    name_or_id: Ref,
    reveal_env: FromQuery[bool] = False,
) -> list[ProcessDetail]:
    """Every instance ``name_or_id`` names (``pm2 describe``); ``reveal_env`` is for admins only."""
    if reveal_env and not request.user.is_admin:
        raise PermissionDeniedException("only an admin may reveal a process's environment")
    if reveal_env and name_or_id == "all":
        raise PermissionDeniedException("reveal the environment of one process, not 'all'")
    details = await service(skyport).describe(name_or_id, reveal_env)
    if reveal_env:  # a read, but of secrets: it goes to the audit log like a change
        client = request.client.host if request.client else ""
        await skyport.audit.record(
            request.user.username, "pm2: reveal environment", name_or_id, client=client
        )
    return details


@delete("/processes/{name_or_id:str}", opt=WRITE, tags=TAGS, status_code=200)
async def delete_process(skyport: SkyportContext, name_or_id: Ref) -> list[ProcessSummary]:
    """Stop and forget the processes (``pm2 delete``); answers with what they were."""
    return await service(skyport).act(name_or_id, "delete")


@post("/processes/{name_or_id:str}/scale", opt=WRITE, tags=TAGS, status_code=200)
async def scale(
    skyport: SkyportContext, name_or_id: Ref, data: JSONBody[ScaleRequest]
) -> ScaleResult:
    """``pm2 scale NAME N``: add instances (copies of the first) or delete the last ones."""
    return await service(skyport).scale(name_or_id, data.instances)


@post("/processes/{name_or_id:str}/signal", opt=WRITE, tags=TAGS, status_code=200)
async def send_signal(
    skyport: SkyportContext, name_or_id: Ref, data: JSONBody[SignalRequest]
) -> list[ProcessSummary]:
    """``pm2 sendSignal SIGNAL NAME``."""
    return await service(skyport).send_signal(name_or_id, data.signal)


@post("/processes/{name_or_id:str}/flush", opt=WRITE, tags=TAGS, status_code=200)
async def flush_process(skyport: SkyportContext, name_or_id: Ref) -> Flushed:
    """Empty the processes' log files (``pm2 flush NAME``)."""
    return await service(skyport).flush(name_or_id)


@post("/processes/{name_or_id:str}/{action:str}", opt=WRITE, tags=TAGS, status_code=200)
async def act(
    skyport: SkyportContext, name_or_id: Ref, action: FromPath[Action]
) -> list[ProcessSummary]:
    """``start``, ``stop``, ``restart``, ``reload`` (zero-downtime in cluster mode),
    ``delete`` or ``reset`` (restart counters) every process ``name_or_id`` names."""
    return await service(skyport).act(name_or_id, action)


@get("/processes/{name_or_id:str}/logs", opt=READ, tags=TAGS)
async def process_logs(
    skyport: SkyportContext,
    name_or_id: Ref,
    lines: Annotated[int, QueryParameter(ge=0, le=MAX_LINES)] = 15,
) -> ProcessLogs:
    """The last ``lines`` lines of stdout and of stderr of each process (``pm2 logs --nostream``).

    Live output: subscribe to ``pm2.logs:<name>`` on ``/ws``.
    """
    return await service(skyport).logs(name_or_id, lines)


@post("/flush", opt=WRITE, tags=TAGS, status_code=200)
async def flush_all(skyport: SkyportContext) -> Flushed:
    """Empty every process's log files (``pm2 flush``)."""
    return await service(skyport).flush("all")


@post("/save", opt=WRITE, tags=TAGS, status_code=200)
async def save(skyport: SkyportContext) -> Saved:
    """Remember the process list for ``resurrect`` (``pm2 save``)."""
    return await service(skyport).save()


@post("/resurrect", opt=WRITE, tags=TAGS, status_code=200)
async def resurrect(skyport: SkyportContext) -> list[ProcessSummary]:
    """Start the processes ``save`` remembered (``pm2 resurrect``)."""
    return await service(skyport).resurrect()


@post("/ecosystem", opt=WRITE, tags=TAGS, status_code=200)
async def ecosystem_apps(
    skyport: SkyportContext, request: AuthRequest, data: JSONBody[EcosystemRequest]
) -> Ecosystem:
    """The apps an ecosystem file declares, and how many of each run.

    A POST needing ``pm2:write`` (and audited): reading a ``.js`` ecosystem file
    runs it. Non-admins may read only files in ``pm2.ecosystem_dirs`` (else 403).
    """
    return await service(skyport).ecosystem(data.file, anywhere=request.user.is_admin)


ROUTES = [
    list_processes,
    start,
    describe_process,
    delete_process,
    scale,
    send_signal,
    flush_process,
    act,
    process_logs,
    flush_all,
    save,
    resurrect,
    ecosystem_apps,
]
