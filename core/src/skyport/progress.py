"""A job's progress, as plugins report it and clients follow it.

A plugin that runs long work (an install, a deploy) gives its deployers a
:class:`StepReporter`: each call ``report(step, fraction=None)`` appends a
:class:`Step` to the job's record and publishes it on the job's WebSocket
topic (``<plugin>.jobs:<id>``); when the work ends, :meth:`StepReporter.finish`
publishes one ``{"done": true, <record>: …}`` message. Clients follow a job
with :func:`skyport.cli.jobs.follow`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec


class Step(msgspec.Struct, frozen=True):
    """One step of a job: what it is doing, and how far along (0 to 1) when known."""

    at: float
    step: str
    fraction: float | None = None


class StepReporter:
    """The progress callback of one job (a :data:`skyport.types.ProgressCallback`).

    Steps go to ``steps`` (the job record's list) and to ``topic``. With
    ``coalesce``, a step reported again (a download further along) replaces its
    last entry instead of adding one; ``keep`` bounds the list to its newest
    entries (a long build's first lines go). Callable from any thread:
    deployers report from worker threads.
    """

    def __init__(
        self,
        topic: str,
        publish: Callable[[str, Any], None],
        steps: list[Step],
        *,
        coalesce: bool = False,
        keep: int | None = None,
    ) -> None:
        self.topic = topic
        self.steps = steps
        self._publish = publish
        self._coalesce = coalesce
        self._keep = keep
        self._lock = threading.Lock()

    def __call__(self, step: str, fraction: float | None = None) -> None:
        bounded = None if fraction is None else min(max(fraction, 0.0), 1.0)
        entry = Step(time.time(), step, bounded)
        with self._lock:
            if self._coalesce and self.steps and self.steps[-1].step == step:
                self.steps[-1] = entry
            else:
                self.steps.append(entry)
            if self._keep is not None:
                del self.steps[: -self._keep]
        self._publish(self.topic, msgspec.to_builtins(entry))

    def finish(self, name: str, record: Any) -> None:
        """The job is over: publish ``{"done": true, name: record}``."""
        self._publish(self.topic, {"done": True, name: msgspec.to_builtins(record)})
