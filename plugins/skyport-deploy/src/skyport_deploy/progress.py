"""A deploy job's progress: each step (a build line, a state change) to ``deploy.jobs:<id>``.

Messages are ``{"step", "fraction", "at"}`` as they come, then one ``{"done":
true, "release": Release}``. The release keeps its last steps for ``GET
/jobs/{id}``. Callable from any thread (deployers report from worker threads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec

from skyport_deploy.records import KEPT_STEPS, DeployStep, Release

TOPIC = "deploy.jobs:"


class Reporter:
    def __init__(self, release: Release, publish: Callable[[str, Any], None]) -> None:
        self.release = release
        self._publish = publish
        self._lock = threading.Lock()

    def __call__(self, step: str, fraction: float | None = None) -> None:
        entry = DeployStep(
            time.time(), step, None if fraction is None else min(max(fraction, 0.0), 1.0)
        )
        with self._lock:
            steps = self.release.steps
            steps.append(entry)
            del steps[:-KEPT_STEPS]
        self._publish(TOPIC + self.release.id, msgspec.to_builtins(entry))

    def finish(self, release: Release) -> None:
        """The job is over: its release as it ended."""
        self._publish(TOPIC + release.id, {"done": True, "release": msgspec.to_builtins(release)})
