"""``/api/deploy``: detect a project, deploy it, and manage what was deployed.

A project comes as a multipart upload: ``project`` (a tar.gz of its files)
and ``options`` (JSON: :class:`~skyport_deploy.deploys.DeployOptions`), or
``options`` alone naming a ``git`` URL the server clones. A deploy answers
202 with its release, whose job reports on ``deploy.jobs:<id>``.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body, FromPath, FromQuery

from skyport.api import Principal, SkyportContext
from skyport_deploy import sources
from skyport_deploy.deploys import DeployOptions, Deploys
from skyport_deploy.plans import Detection
from skyport_deploy.records import App, Release
from skyport_deploy.settings import DeploySettings

READ = {"scope": "deploy:read"}
WRITE = {"scope": "deploy:write"}
TAGS = ["deploy"]
Skyport = SkyportContext
AuthRequest = Request[Principal, Any, Any]
Lines = Annotated[int, msgspec.Meta(ge=1, le=1000)]
MULTIPART = Body(media_type=RequestEncodingType.MULTI_PART)


@dataclass
class DeployForm:
    """The project (a tar.gz upload, unless ``options`` names a ``git`` URL) and the options."""

    options: str
    """JSON: ``name``, and ``git``, ``ref``, ``port``, ``env``, ``target``, ``type``."""
    project: UploadFile | None = None


class DetectOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    git: str = ""
    ref: str = ""
    type: str | None = None


@dataclass
class DetectForm:
    options: str = "{}"
    """JSON: ``type`` (``--as``), or a ``git`` URL (and ``ref``) instead of ``project``."""
    project: UploadFile | None = None


class LogLines(msgspec.Struct, frozen=True):
    lines: list[str]


def deploys(skyport: SkyportContext) -> Deploys:
    found: Deploys = skyport.state["deploy"]
    return found


def _options(text: str, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(text, type=kind)
    except msgspec.ValidationError as exc:
        raise sources.invalid("options", str(exc)) from None
    except msgspec.DecodeError:
        raise sources.invalid("options", "not a JSON object") from None


def routes(settings: DeploySettings) -> list[Any]:
    """The handlers; the upload limit comes from the settings."""
    limit = settings.max_upload

    @post("/detect", opt=READ, tags=TAGS, status_code=200, request_max_body_size=limit)
    async def detect_project(
        skyport: Skyport, request: AuthRequest, data: Annotated[DetectForm, MULTIPART]
    ) -> Detection:
        """The project's type, the evidence, and the plan (a git URL needs deploy:write)."""
        options: DetectOptions = _options(data.options, DetectOptions)
        if (data.project is None) == (not options.git):
            raise sources.invalid("project", "give a tar.gz upload or a git URL (one of them)")
        if options.git and not request.user.has_scope("deploy:write"):
            raise PermissionDeniedException("detecting from a git URL needs deploy:write")
        state = deploys(skyport)
        folder = state.root.parent / "detect"
        folder.mkdir(parents=True, exist_ok=True)
        work = tempfile.mkdtemp(dir=folder)
        try:
            project = Path(work) / "project"
            if data.project is not None:
                await asyncio.to_thread(
                    sources.unpack, data.project.file, project, settings.max_unpacked
                )
            else:
                await sources.clone(options.git, options.ref, project, settings.git_timeout)
            return await asyncio.to_thread(state.detect, project, options.type)
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    @post(
        "/apps",
        opt=WRITE,
        tags=TAGS,
        status_code=202,
        request_max_body_size=limit,
    )
    async def deploy(
        skyport: Skyport, request: AuthRequest, data: Annotated[DeployForm, MULTIPART]
    ) -> Release:
        """Deploy (or redeploy) an app; follow its job on ``deploy.jobs:<id>``."""
        options: DeployOptions = _options(data.options, DeployOptions)
        archive = data.project.file if data.project is not None else None
        return await deploys(skyport).start(request.user, options, archive)

    return [detect_project, deploy, list_apps, show_app, remove_app, rollback, logs, job]


@get("/apps", opt=READ, tags=TAGS)
async def list_apps(skyport: Skyport) -> list[App]:
    """Every deployed app with its live status."""
    state = deploys(skyport)
    return list(await asyncio.gather(*(state.shown(a) for a in await state.book.apps())))


@get("/apps/{name:str}", opt=READ, tags=TAGS)
async def show_app(skyport: Skyport, name: FromPath[str]) -> App:
    """An app with its live status and its releases, newest first."""
    state = deploys(skyport)
    return await state.shown(await state.book.app(name), releases=True)


@delete("/apps/{name:str}", opt=WRITE, tags=TAGS, status_code=204)
async def remove_app(skyport: Skyport, request: AuthRequest, name: FromPath[str]) -> None:
    """Remove the app: every release's container, stack or process, and its files."""
    await deploys(skyport).remove(name, request.user)


@post("/apps/{name:str}/rollback", opt=WRITE, tags=TAGS, status_code=200)
async def rollback(skyport: Skyport, request: AuthRequest, name: FromPath[str]) -> App:
    """Go back to the previous release (kept stopped) once it answers; 422 if it does not."""
    return await deploys(skyport).rollback(name, request.user)


@get("/apps/{name:str}/logs", opt=READ, tags=TAGS)
async def logs(skyport: Skyport, name: FromPath[str], lines: FromQuery[Lines] = 100) -> LogLines:
    """The live release's last lines of output."""
    return LogLines(await deploys(skyport).logs(name, lines))


@get("/jobs/{job_id:str}", opt=READ, tags=TAGS)
async def job(skyport: Skyport, job_id: FromPath[str]) -> Release:
    """A deploy job (its release): its steps so far, its state, its error."""
    return await deploys(skyport).job(job_id)
