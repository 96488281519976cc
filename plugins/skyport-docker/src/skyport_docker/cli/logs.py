"""``logs``: past output, and live output from the WebSocket topic ``docker.logs:<id>``."""

from __future__ import annotations

import json as jsonlib
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated, Any

from cyclopts import Parameter

from skyport.cli.common import api
from skyport.cli.output import (
    CliError,
    JsonFlag,
    print_json,
)
from skyport_docker.cli.base import (
    EngineOpt,
    api_path,
    app,
    query_params,
)


@app.command
def logs(
    container: str,
    /,
    *,
    follow: Annotated[bool, Parameter(name=["--follow", "-f"])] = False,
    tail: Annotated[str | None, Parameter(name=["--tail", "-n"])] = None,
    since: str | None = None,
    until: str | None = None,
    timestamps: Annotated[bool, Parameter(name=["--timestamps", "-t"])] = False,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Show a container's output (its stderr on stderr).

    Parameters
    ----------
    container
        The container, by name or id.
    follow
        Keep printing new output until the container stops (or Ctrl-C).
    tail
        Only the last N lines ("all": everything).
    since
        Only output since then: unix seconds, RFC 3339, or a duration like 10m.
    until
        Only output before then (same forms as --since).
    timestamps
        Start each line with its time.
    """
    if tail is not None and tail != "all" and not tail.isdigit():
        raise CliError(f"--tail: {tail!r} is not a number of lines or 'all'")
    history = query_params(tail=None if tail == "all" else tail, since=since, until=until)
    with api() as client:
        if not follow:
            answer = client.get(
                api_path("containers", container, "logs"),
                params=query_params(engine, timestamps=timestamps, **history),
            )
            if json:
                print_json(answer)
            else:
                for line in answer["lines"]:
                    print_line(line, timestamps)
            return
        try:
            for line in stream_logs(client, container, engine, history=history):
                if json:
                    print(jsonlib.dumps(line, ensure_ascii=False), flush=True)
                else:
                    print_line(line, timestamps)
        except KeyboardInterrupt:
            return


def print_line(line: dict[str, Any], timestamps: bool) -> None:
    stream = sys.stderr if line.get("stream") == "stderr" else sys.stdout
    stamp = f"{line['time']} " if timestamps and line.get("time") else ""
    stream.write(f"{stamp}{line['line']}\n")
    stream.flush()


def stream_logs(
    client: Any,
    container: str,
    engine: str | None,
    *,
    history: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    """Past lines, then live ones from ``docker.logs:<container>`` until the log ends.

    The topic is subscribed to first, then the past lines are read (with
    times), so a line written in between is neither lost nor shown twice.
    """
    from skyport.client import ApiError

    ref = f"{engine}/{container}" if engine else container
    feed = client.subscribe([f"docker.logs:{ref}"])
    early: list[Any] = []
    try:
        for message in feed:
            if message.get("type") == "subscribed":
                break
            if "topic" in message:
                early.append(message["data"])
    except ApiError:
        # "cannot follow": the plain request says why (404 naming the container).
        client.get(api_path("containers", container, "logs"), params=query_params(engine, tail=0))
        raise
    try:
        query = query_params(engine, timestamps=True, **history)
        past = client.get(api_path("containers", container, "logs"), params=query)["lines"]
        yield from past
        last = max((_moment(line.get("time")) for line in past), default=(0, 0))
        live = (m["data"] for m in feed if "topic" in m)
        for data in _chain(early, live):
            if data.get("end"):
                return
            for line in data.get("lines") or []:
                if _moment(line.get("time")) > last:
                    yield line
    finally:
        feed.close()


def _chain(first: Iterable[Any], then: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from then


def _moment(stamp: str | None) -> tuple[int, int]:
    """An RFC 3339 time with nanoseconds, as (whole seconds, nanoseconds) for comparing."""
    if not stamp:
        return (0, 0)
    head, _, rest = stamp.partition(".")
    digits = "".join(c for c in rest if c.isdigit())
    zone = rest[len(digits) :] or "Z"
    try:
        seconds = int(datetime.fromisoformat(head + zone.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return (0, 0)
    return (seconds, int((digits + "000000000")[:9]))
