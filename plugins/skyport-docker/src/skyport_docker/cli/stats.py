"""``stats``: CPU, memory, network and block I/O of running containers, live or once."""

from __future__ import annotations

import contextlib
import io
import json as jsonlib
import sys
import time
from collections.abc import Sequence
from typing import Annotated, Any

from cyclopts import Parameter

from skyport.cli.common import api
from skyport.cli.output import (
    CliError,
    Column,
    JsonFlag,
    human_bytes,
    print_table,
)
from skyport_docker.cli.base import (
    ListEngine,
    api_path,
    app,
    get_listing,
    query_params,
    warn_left_out,
    with_engine,
)


def _pair(row: dict[str, Any], first: str, second: str) -> str:
    return f"{human_bytes(row[first])} / {human_bytes(row[second])}"


STATS_COLUMNS: list[Column] = [
    ("CONTAINER ID", lambda s: s["id"][:12]),
    ("NAME", lambda s: s["name"]),
    ("CPU %", lambda s: f"{s['cpu_percent']:.2f}%"),
    ("MEM USAGE / LIMIT", lambda s: _pair(s, "memory_usage_bytes", "memory_limit_bytes")),
    ("MEM %", lambda s: f"{s['memory_percent']:.2f}%"),
    ("NET I/O", lambda s: _pair(s, "network_rx_bytes", "network_tx_bytes")),
    ("BLOCK I/O", lambda s: _pair(s, "block_read_bytes", "block_write_bytes")),
    ("PIDS", lambda s: s["pids"]),
]


@app.command
def stats(
    *containers: str,
    no_stream: bool = False,
    interval: float = 2.0,
    count: Annotated[int | None, Parameter(name=["--count", "-n"])] = None,
    engine: ListEngine = None,
    json: JsonFlag = False,
) -> None:
    """Show running containers' CPU, memory, network and block I/O, live or once.

    Live on a terminal, each reading is drawn over the last; otherwise (a
    pipe, a file) the readings follow one another.

    Parameters
    ----------
    containers
        Only these containers (names or ids); default: every running one.
    no_stream
        Print one reading and exit.
    interval
        Seconds between two readings while streaming.
    count
        Stop after this many readings.
    json
        Print the API's JSON, one reading per line.
    """
    if count is not None and count < 1:
        raise CliError("--count must be at least 1")
    if interval <= 0:
        raise CliError("--interval must be positive")
    if no_stream:
        count = 1
    redraw = sys.stdout.isatty() and not json and count != 1
    told: set[str] = set()
    with api() as client:
        seen = 0
        try:
            while True:
                left_out: set[str] = set()
                rows = _stats_rows(client, containers, engine, left_out)
                seen += 1
                if json:
                    print(jsonlib.dumps(rows, ensure_ascii=False), flush=True)
                else:
                    table = _table(rows, with_engine(STATS_COLUMNS, engine))
                    sys.stdout.write(_in_place(table, first=seen == 1) if redraw else table)
                    sys.stdout.flush()
                # under each reading drawn in place (the next one erases it), else once
                warn_left_out(left_out if redraw else left_out - told)
                told |= left_out
                if count is not None and seen >= count:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            return


CLEAR_SCREEN, HOME, ERASE_LINE, ERASE_BELOW = "\x1b[2J", "\x1b[H", "\x1b[K", "\x1b[J"


def _table(rows: list[Any], columns: list[Column]) -> str:
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        print_table(rows, columns, empty="no running containers")
    return text.getvalue()


def _in_place(table: str, *, first: bool) -> str:
    """Draw over the previous reading, as ``docker stats`` does: from the top left,
    each line erased to its end, then what is left below (the screen is cleared once)."""
    lines = "".join(f"{line}{ERASE_LINE}\n" for line in table.splitlines())
    return (CLEAR_SCREEN if first else "") + HOME + lines + ERASE_BELOW


def _stats_rows(
    client: Any, containers: Sequence[str], engine: str | None, left_out: set[str]
) -> list[Any]:
    if not containers:
        params = query_params(engine)
        return list(get_listing(client, api_path("stats"), params, left_out=left_out))
    if engine == "all":
        raise CliError("--engine all lists every container; name one engine with containers")
    return [
        client.get(api_path("containers", ref, "stats"), params=query_params(engine))
        for ref in containers
    ]
