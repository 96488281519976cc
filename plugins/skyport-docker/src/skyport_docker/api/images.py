"""Image routes: list, pull (with progress), inspect, history, tag, remove, prune.

An image reference may hold slashes (``ghcr.io/org/app:1``), so single-image
routes take the rest of the path: ``GET /images/{ref}`` inspects,
``GET /images/{ref}/history`` lists layers, ``POST /images/{ref}/tag`` tags,
``DELETE /images/{ref}`` removes. ``pull_progress`` is the starter of the
WebSocket topic ``docker.pull:<job>``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Response, delete, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody

from skyport_docker import images
from skyport_docker.api.common import Skyport, engine_for, list_across, parse_filters
from skyport_docker.images import PullJobs, PullProgress
from skyport_docker.specs import invalid
from skyport_docker.state import docker_state

READ = {"scope": "docker:read"}
WRITE = {"scope": "docker:write"}
TAGS = ["docker: images"]

TopicStopper = Callable[[], Awaitable[None]]
TopicStarter = Callable[[str], Awaitable[TopicStopper | None]]

Engine = FromQuery[str | None]
Filters = FromQuery[list[str] | None]
RefPath = FromPath[str]


class ImageSummary(msgspec.Struct, frozen=True):
    id: str
    tags: list[str]
    digests: list[str]
    created: int
    size: int
    containers: int | None
    """Containers using it; null when the engine did not count (it says -1)."""
    labels: dict[str, str]
    engine: str


class HistoryEntry(msgspec.Struct, frozen=True):
    id: str
    created: int
    created_by: str
    size: int
    tags: list[str]
    comment: str


class PullRequest(msgspec.Struct, forbid_unknown_fields=True):
    image: str
    """``repository[:tag]`` (``:latest`` when untagged) or ``repository@sha256:…``."""
    platform: str | None = None
    job: str | None = None
    """Your own job id, to subscribe to ``docker.pull:<job>`` before pulling."""
    wait: bool = True
    """Answer when the pull ended (200, or 4xx with the registry's message); false:
    answer 202 at once and follow the topic or ``GET /images/pulls/{job}``."""


class TagRequest(msgspec.Struct, forbid_unknown_fields=True):
    target: str
    """``repository[:tag]`` the image will also be known as."""


class Tagged(msgspec.Struct, frozen=True):
    source: str
    target: str
    engine: str


class Removed(msgspec.Struct, frozen=True):
    untagged: list[str]
    deleted: list[str]


class ImagePruneResult(msgspec.Struct, frozen=True):
    deleted: list[str]
    space_reclaimed: int


def pull_jobs(skyport: Skyport) -> PullJobs:
    jobs: PullJobs = skyport.state.setdefault("docker.pulls", PullJobs())
    return jobs


def _count(value: object) -> int | None:
    """The engine's count, or None for its "not counted" (-1, or absent)."""
    return value if isinstance(value, int) and value >= 0 else None


def _summary(raw: dict[str, Any], engine: str) -> ImageSummary:
    tags = [t for t in raw.get("RepoTags") or [] if t != "<none>:<none>"]
    digests = [d for d in raw.get("RepoDigests") or [] if d != "<none>@<none>"]
    return ImageSummary(
        raw["Id"],
        tags,
        digests,
        int(raw.get("Created") or 0),
        int(raw.get("Size") or 0),
        _count(raw.get("Containers")),
        raw.get("Labels") or {},
        engine,
    )


@get("/images", opt=READ, tags=TAGS, sync_to_thread=True)
def list_images(
    skyport: Skyport,
    all: FromQuery[bool] = False,
    filters: Filters = None,
    engine: Engine = None,
) -> Response[list[ImageSummary]]:
    """Images (``all`` adds intermediate layers); ``filters`` e.g. ``reference=busybox*``,
    ``dangling=true``, ``label=k=v``; ``engine=all`` lists every engine."""
    wanted = parse_filters(filters)

    def fetch(e: Any) -> list[ImageSummary]:
        return [_summary(x, e.name) for x in e.call(lambda c: c.images(all=all, filters=wanted))]

    return list_across(skyport, engine, fetch)


@post("/images/pull", opt=WRITE, tags=TAGS, status_code=200)
async def pull_image(
    skyport: Skyport, data: JSONBody[PullRequest], engine: Engine = None
) -> Response[PullProgress]:
    """Pull an image; progress goes to the WebSocket topic ``docker.pull:<job>``."""
    image = images.check_reference(data.image.strip(), "image")
    target = engine_for(skyport, engine)
    job = pull_jobs(skyport).new(data.job or secrets.token_hex(6), image, target.name)
    topic = f"docker.pull:{job.job}"

    def work() -> None:
        try:
            target.call(
                lambda c: images.pull(
                    c, image, target.name, job, lambda p: skyport.publish(topic, p), data.platform
                )
            )
        except HTTPException as exc:
            if job.status == "pulling":  # failed before the engine answered (engine down)
                job.finish(error=str(exc.detail))
                skyport.publish(topic, job.snapshot())
            raise

    if data.wait:
        await asyncio.to_thread(work)
        return Response(job.snapshot(), status_code=200)
    tasks = docker_state(skyport).tasks
    key = f"pull:{job.job}"
    task = tasks[key] = asyncio.create_task(asyncio.to_thread(work))
    task.add_done_callback(lambda t: (tasks.pop(key, None), t.cancelled() or t.exception()))
    return Response(job.snapshot(), status_code=202)


@get("/images/pulls/{job:str}", opt=READ, tags=TAGS)
async def pull_status(skyport: Skyport, job: FromPath[str]) -> PullProgress:
    """Where a pull stands (the last 200 pulls are remembered)."""
    found = pull_jobs(skyport).get(job)
    if found is None:
        raise NotFoundException(f"no pull job {job!r}")
    return found.snapshot()


@post("/images/prune", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200)
def prune_images(
    skyport: Skyport,
    all: FromQuery[bool] = False,
    filters: Filters = None,
    engine: Engine = None,
) -> ImagePruneResult:
    """Remove dangling images (``all``: every image no container uses); ``filters``
    e.g. ``label=k=v``, ``until=24h``."""
    wanted = parse_filters(filters) or {}
    if all:
        wanted["dangling"] = ["false"]
    result = engine_for(skyport, engine).call(lambda c: c.prune_images(filters=wanted or None))
    deleted = [
        str(x.get("Deleted") or x.get("Untagged")) for x in result.get("ImagesDeleted") or []
    ]
    return ImagePruneResult(deleted, int(result.get("SpaceReclaimed") or 0))


@get("/images/{ref:path}", opt=READ, tags=TAGS, sync_to_thread=True)
def inspect_or_history(skyport: Skyport, ref: RefPath, engine: Engine = None) -> Any:
    """``/images/{ref}``: the engine's description; ``/images/{ref}/history``: its layers."""
    name = ref.lstrip("/")
    target = engine_for(skyport, engine)
    if name.endswith("/history"):
        name = name.removesuffix("/history")
        rows = target.call(lambda c: c.history(name))
        return [
            HistoryEntry(
                str(r.get("Id") or ""),
                int(r.get("Created") or 0),
                str(r.get("CreatedBy") or ""),
                int(r.get("Size") or 0),
                list(r.get("Tags") or []),
                str(r.get("Comment") or ""),
            )
            for r in rows
        ]
    return target.call(lambda c: c.inspect_image(name))


@post("/images/{ref:path}", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=201)
def tag_image(
    skyport: Skyport, ref: RefPath, data: JSONBody[TagRequest], engine: Engine = None
) -> Tagged:
    """``POST /images/{ref}/tag`` with ``{"target": "repo:tag"}`` (``docker tag``)."""
    name = ref.lstrip("/")
    if not name.endswith("/tag"):
        raise NotFoundException(f"no image action at /images/{name} (use /images/<ref>/tag)")
    source = name.removesuffix("/tag")
    target_ref = images.check_reference(data.target.strip(), "target")
    if "@" in target_ref:
        raise invalid("target", "a tag cannot hold a digest")
    repository, tag_name = _split_tag(target_ref)
    target = engine_for(skyport, engine)
    target.call(lambda c: c.tag(source, repository, tag_name))
    return Tagged(source, f"{repository}:{tag_name}", target.name)


def _split_tag(reference: str) -> tuple[str, str]:
    head, _, last = reference.rpartition("/")
    name, sep, tag_name = last.partition(":")
    return (f"{head}/{name}" if head else name), (tag_name if sep else "latest")


@delete("/images/{ref:path}", opt=WRITE, tags=TAGS, sync_to_thread=True, status_code=200)
def remove_image(
    skyport: Skyport,
    ref: RefPath,
    force: FromQuery[bool] = False,
    noprune: FromQuery[bool] = False,
    engine: Engine = None,
) -> Removed:
    """Remove a tag, or the image once no tag is left (409 while a container uses it)."""
    name = ref.lstrip("/")
    rows = engine_for(skyport, engine).call(
        lambda c: c.remove_image(name, force=force, noprune=noprune)
    )
    return Removed(
        [str(r["Untagged"]) for r in rows or [] if r.get("Untagged")],
        [str(r["Deleted"]) for r in rows or [] if r.get("Deleted")],
    )


def pull_progress(skyport: Skyport) -> TopicStarter:
    """Starter of ``docker.pull:<job>``: a subscriber first gets where the pull stands."""

    async def start(topic: str) -> None:
        job = pull_jobs(skyport).get(topic.split(":", 1)[1])
        if job is not None:
            asyncio.get_running_loop().call_soon(skyport.publish, topic, job.snapshot())
        return None

    return start


ROUTES: list[Any] = [
    list_images,
    pull_image,
    pull_status,
    prune_images,
    inspect_or_history,
    tag_image,
    remove_image,
]
