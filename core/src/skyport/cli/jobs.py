"""Following a job (an install, a deploy) from the command line, step by step.

A job publishes :class:`skyport.progress.Step` messages on its topic, then one
``{"done": true, <record>: …}`` (see :mod:`skyport.progress`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from skyport.client import Client

Show = Literal["lines", "bar", "none"]


def follow(
    client: Client,
    topic: str,
    fetch: Callable[[], dict[str, Any]],
    done_key: str,
    *,
    show: Show = "lines",
) -> dict[str, Any]:
    """Follow the job on ``topic`` to its end and return its finished record.

    ``fetch()`` reads the job's record (``steps``, ``state``); it is read once
    subscribed, so no step is missed. ``show``: each step on a line, a progress
    bar on a terminal (lines elsewhere), or nothing (``--json``).
    """
    feed = client.subscribe([topic])
    try:
        next(feed)  # subscribed: from now on no step is missed
        record = fetch()
        with _display(show) as display:
            for step in record["steps"]:
                display(step)
            while record["state"] == "running":
                message = next(feed, None)
                if message is None:  # the server ended the feed: ask for the record
                    return fetch()
                data = message.get("data")
                if not isinstance(data, dict):
                    continue
                if data.get("done"):
                    record = data[done_key]
                else:
                    display(data)
    finally:
        feed.close()
    return record


@contextmanager
def _display(show: Show) -> Iterator[Callable[[dict[str, Any]], None]]:
    if show == "none":
        yield lambda _step: None
    elif show == "lines" or not sys.stdout.isatty():
        yield lambda step: print(step["step"], flush=True)
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()) as bar:
            task = bar.add_task("starting", total=None)

            def advance(step: dict[str, Any]) -> None:
                fraction = step.get("fraction")
                total = None if fraction is None else 1
                bar.update(task, description=step["step"], total=total, completed=fraction or 0)

            yield advance
