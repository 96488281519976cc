"""Image pulls: progress per layer, pull jobs, and pull failures as clear 4xx answers."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

import docker
import msgspec
from docker import errors as docker_errors
from litestar.exceptions import ClientException

from skyport_docker.specs import invalid

JOB_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DOMAIN = r"(?:(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)(?::[0-9]+)?|[a-zA-Z0-9-]+:[0-9]+)/"
COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REFERENCE_RE = re.compile(
    rf"^(?:{DOMAIN})?{COMPONENT}(?:/{COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
NOT_FOUND_HINTS = ("not found", "manifest unknown", "does not exist", "denied", "unauthorized")
MAX_JOBS = 200
PUBLISH_EVERY = 0.1
"""Seconds between two progress messages of one pull (state changes go out at once)."""

PullStatus = Literal["pulling", "done", "error"]


def check_reference(reference: str, field: str) -> str:
    """An image reference the engine will accept (``repo[:tag][@digest]``)."""
    if not REFERENCE_RE.match(reference):
        raise invalid(field, f"{reference!r} is not a valid image reference (repository[:tag])")
    return reference


def pull_failed(image: str, engine: str, message: str, status: int | None) -> ClientException:
    """A pull the registry refused (404) or that could not reach it (424), with its message."""
    lowered = message.lower()
    code = 404 if status == 404 or any(h in lowered for h in NOT_FOUND_HINTS) else 424
    return ClientException(
        f"cannot pull image {image!r} on engine {engine!r}: {message}",
        status_code=code,
        extra={"image": image, "registry_message": message},
    )


class Layer(msgspec.Struct):
    id: str
    status: str
    current: int = 0
    total: int = 0


class PullProgress(msgspec.Struct):
    """What ``docker.pull:<job>`` carries, and ``GET /images/pulls/{job}`` answers."""

    job: str
    image: str
    engine: str
    status: PullStatus
    current: int
    """Bytes downloaded so far, over all layers."""
    total: int
    """Bytes to download, over the layers whose size is known."""
    layers: list[Layer]
    message: str = ""
    """The engine's last status line (``Downloaded newer image for …``)."""
    error: str | None = None
    image_id: str | None = None
    started: float = 0.0
    finished: float | None = None


class PullJob:
    """One pull: folds the engine's progress events into per-layer progress."""

    def __init__(self, job: str, image: str, engine: str) -> None:
        self.job, self.image, self.engine = job, image, engine
        self.status: PullStatus = "pulling"
        self.layers: dict[str, Layer] = {}
        self.message = ""
        self.error: str | None = None
        self.image_id: str | None = None
        self.started = time.time()
        self.finished: float | None = None
        self.lock = threading.Lock()

    def update(self, event: dict[str, Any]) -> bool:
        """Fold in one engine event; True when something other than a byte count changed."""
        status = str(event.get("status") or "")
        layer_id = event.get("id")
        detail = event.get("progressDetail") or {}
        with self.lock:
            if not layer_id or status.startswith(("Pulling from", "Digest:", "Status:")):
                self.message = status
                return True
            layer = self.layers.get(layer_id)
            if layer is None:
                layer = self.layers[layer_id] = Layer(layer_id, status)
            changed = layer.status != status
            layer.status = status
            if status == "Downloading" and detail.get("total"):
                layer.current, layer.total = int(detail.get("current") or 0), int(detail["total"])
            elif status in (
                "Download complete",
                "Verifying Checksum",
                "Extracting",
                "Pull complete",
                "Already exists",
            ):
                layer.current = layer.total
            return changed

    def finish(self, image_id: str | None = None, error: str | None = None) -> None:
        with self.lock:
            self.status = "error" if error else "done"
            self.error, self.image_id, self.finished = error, image_id, time.time()

    def snapshot(self) -> PullProgress:
        with self.lock:
            layers = [Layer(x.id, x.status, x.current, x.total) for x in self.layers.values()]
            return PullProgress(
                self.job,
                self.image,
                self.engine,
                self.status,
                sum(x.current for x in layers),
                sum(x.total for x in layers),
                layers,
                self.message,
                self.error,
                self.image_id,
                self.started,
                self.finished,
            )


class PullJobs:
    """Recent pulls by job id (the last ``MAX_JOBS``), for late subscribers and polling."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, PullJob] = OrderedDict()
        self._lock = threading.Lock()

    def new(self, job_id: str, image: str, engine: str) -> PullJob:
        if not JOB_RE.match(job_id):
            raise invalid("job", f"{job_id!r} is not a job id ([A-Za-z0-9_.-]{{1,64}})")
        with self._lock:
            existing = self._jobs.get(job_id)
            if existing is not None and existing.status == "pulling":
                raise ClientException(f"pull job {job_id!r} is still running", status_code=409)
            job = self._jobs[job_id] = PullJob(job_id, image, engine)
            self._jobs.move_to_end(job_id)
            while len(self._jobs) > MAX_JOBS:
                self._jobs.popitem(last=False)
            return job

    def get(self, job_id: str) -> PullJob | None:
        with self._lock:
            return self._jobs.get(job_id)


def pull(
    client: docker.APIClient,
    image: str,
    engine: str,
    job: PullJob | None = None,
    publish: Callable[[PullProgress], None] | None = None,
    platform: str | None = None,
) -> str:
    """Pull ``image`` (``:latest`` when untagged) and return its id.

    Progress goes to ``publish`` (at most every ``PUBLISH_EVERY`` seconds,
    plus every change of a layer's state, plus the end). A refusal or an
    unreachable registry raises a 404/424 carrying the registry's message.
    """
    job = job or PullJob("", image, engine)
    last = 0.0
    try:
        try:
            for event in client.pull(image, stream=True, decode=True, platform=platform):
                if "error" in event:
                    detail = event.get("errorDetail") or {}
                    raise pull_failed(
                        image, engine, str(detail.get("message") or event["error"]), None
                    )
                changed = job.update(event)
                now = time.monotonic()
                if publish and (changed or now - last >= PUBLISH_EVERY):
                    last = now
                    publish(job.snapshot())
        except docker_errors.APIError as exc:
            raise pull_failed(image, engine, str(exc.explanation or exc), exc.status_code) from None
        image_id = str(client.inspect_image(image)["Id"])
    except ClientException as exc:
        job.finish(error=str(exc.detail))
        if publish:
            publish(job.snapshot())
        raise
    except Exception as exc:
        job.finish(error=str(exc) or type(exc).__name__)
        if publish:
            publish(job.snapshot())
        raise
    job.finish(image_id=image_id)
    if publish:
        publish(job.snapshot())
    return image_id
