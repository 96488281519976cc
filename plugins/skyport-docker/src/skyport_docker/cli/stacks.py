"""``stack up|ls|ps|start|stop|restart|update|down``: compose stacks, run by the server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter

from skyport.cli.common import api
from skyport.cli.output import (
    CliError,
    Column,
    JsonFlag,
    print_json,
    print_table,
)
from skyport_docker.cli.base import (
    EngineOpt,
    ListEngine,
    Quiet,
    api_path,
    fields,
    get_listing,
    key_values,
    query_params,
    stack_app,
    with_engine,
)

STACK_MEMBERS: list[Column] = [
    ("NAME", lambda c: c["name"]),
    ("SERVICE", lambda c: c["service"]),
    ("IMAGE", lambda c: c["image"]),
    ("STATUS", lambda c: c["status"] or c["state"]),
]


def _stack_report(answer: dict[str, Any], as_json: bool, done: str) -> None:
    if as_json:
        print_json(answer)
        return
    for warning in answer.get("warnings") or []:
        print(f"skyport: warning: {warning}", file=sys.stderr)
    print(done.format(**answer))


@stack_app.command(name="up")
def stack_up(
    name: str,
    /,
    *,
    file: Annotated[str | None, Parameter(name=["--file", "-f"])] = None,
    env_file: str | None = None,
    env: Annotated[list[str] | None, Parameter(name=["--env", "-e"])] = None,
    pull: bool = False,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Deploy a stack from a compose file (compose up -d).

    Parameters
    ----------
    name
        The stack's (compose project's) name.
    file
        The compose file; "-" reads standard input. Default: compose.yaml,
        compose.yml, docker-compose.yaml or docker-compose.yml here, as Compose looks.
    env_file
        A .env file with the values the compose file uses (default: the .env
        next to the compose file, if there is one).
    env
        A value, KEY=VALUE (repeatable; wins over --env-file).
    pull
        Pull every image first (by default only missing ones).
    """
    file = file or _compose_file_here()
    if env_file is None and file != "-":
        beside = Path(file).parent / ".env"
        env_file = str(beside) if beside.is_file() else None
    values = key_values(_env_lines(_read_text(env_file, "--env-file")), "--env-file")
    values.update(key_values(env, "--env"))
    body = fields(
        name=name, compose=_read_text(file, "--file"), env=values or None, pull=pull or None
    )
    with api() as client:
        answer = client.post(api_path("stacks"), json=body, params=query_params(engine))
    _stack_report(answer, json, "Stack {name} is up: {running} of {containers} containers running.")


def _compose_file_here() -> str:
    from skyport_docker.stacks import COMPOSE_FILENAMES, find_compose_file

    found = find_compose_file(Path.cwd())
    if found is None:
        raise CliError(f"no compose file here ({', '.join(COMPOSE_FILENAMES)}): give one with -f")
    return str(found)


def _read_text(path: str | None, flag: str) -> str:
    if path is None:
        return ""
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise CliError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None


def _env_lines(text: str) -> list[str]:
    """``KEY=VALUE`` lines of a .env file: no comments, blanks, ``export`` or quotes."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        lines.append(f"{key.strip()}{sep}{value}")
    return lines


@stack_app.command(name="ls")
def stack_ls(*, quiet: Quiet = False, engine: ListEngine = None, json: JsonFlag = False) -> None:
    """List stacks, those made with compose outside SkyPort too.

    Parameters
    ----------
    quiet
        Only print stack names.
    """
    with api() as client:
        rows = get_listing(client, api_path("stacks"), query_params(engine))
    if json:
        print_json(rows)
    elif quiet:
        for row in rows:
            print(row["name"])
    else:
        columns: list[Column] = [
            ("NAME", lambda r: r["name"]),
            ("STATUS", lambda r: f"{r['status']} ({r['running']}/{r['containers']})"),
            ("SERVICES", lambda r: r["services"]),
            ("MANAGED", lambda r: r["managed"]),
        ]
        print_table(rows, with_engine(columns, engine), empty="no stacks")


@stack_app.command(name="ps")
def stack_ps(name: str, /, *, engine: EngineOpt = None, json: JsonFlag = False) -> None:
    """List a stack's containers and their state.

    Parameters
    ----------
    name
        The stack.
    """
    with api() as client:
        answer = client.get(api_path("stacks", name), params=query_params(engine))
    if json:
        print_json(answer)
    else:
        print_table(answer["members"], STACK_MEMBERS, empty=f"stack {name} has no containers")


def _stack_action(name: str, action: str, engine: str | None, as_json: bool, done: str) -> None:
    with api() as client:
        answer = client.post(api_path("stacks", name, action), params=query_params(engine))
    _stack_report(answer, as_json, done)


def _stack_command(action: str, summary: str, done: str) -> None:
    """Register ``stack <action> NAME``: one POST, then the stack's state."""

    def command(name: str, /, *, engine: EngineOpt = None, json: JsonFlag = False) -> None:
        _stack_action(name, action, engine, json, f"Stack {{name}} {done}.")

    command.__doc__ = f"""{summary}

    Parameters
    ----------
    name
        The stack.
    """
    stack_app.command(command, name=action)


for _action, _summary, _done in (
    ("start", "Start a stack's containers.", "started"),
    ("stop", "Stop a stack's containers.", "stopped"),
    ("restart", "Restart a stack's containers.", "restarted"),
):
    _stack_command(_action, _summary, _done)


@stack_app.command(name="update")
def stack_update(
    name: str,
    /,
    *,
    file: Annotated[str | None, Parameter(name=["--file", "-f"])] = None,
    env_file: str | None = None,
    env: Annotated[list[str] | None, Parameter(name=["--env", "-e"])] = None,
    replace_env: bool = False,
    no_pull: bool = False,
    ignore_pull_failures: bool = False,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Pull a stack's images and recreate what changed (optionally with new files).

    Parameters
    ----------
    name
        The stack.
    file
        A new compose file ("-" reads standard input).
    env_file
        Values to set, from a .env file (merged over the stack's values).
    env
        A value to set, KEY=VALUE (repeatable; merged over the stack's values, wins over
        --env-file).
    replace_env
        Replace the stack's values with --env-file's and --env's instead of merging
        (with neither: remove them all).
    no_pull
        Recreate with the images at hand.
    ignore_pull_failures
        Go on when a pull fails.
    """
    values: dict[str, str] | None = None
    if env_file is not None or env or replace_env:
        values = key_values(_env_lines(_read_text(env_file, "--env-file")), "--env-file")
        values.update(key_values(env, "--env"))
    body = fields(
        compose=_read_text(file, "--file") if file else None,
        env=values,
        env_replace=replace_env or None,
        pull=False if no_pull else None,
        ignore_pull_failures=ignore_pull_failures or None,
    )
    with api() as client:
        answer = client.post(
            api_path("stacks", name, "update"), json=body, params=query_params(engine)
        )
    _stack_report(answer, json, "Stack {name} updated: {running} of {containers} running.")


@stack_app.command(name="down")
def stack_down(
    name: str,
    /,
    *,
    volumes: Annotated[bool, Parameter(name=["--volumes", "-v"])] = False,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Remove a stack: its containers and networks (and its volumes with -v).

    Parameters
    ----------
    name
        The stack.
    volumes
        Remove its named volumes too.
    """
    with api() as client:
        answer = client.delete(
            api_path("stacks", name), params=query_params(engine, volumes=volumes)
        )
    print_json(answer) if json else print(f"Stack {name} removed.")
