"""Containers: ps, run, start/stop/restart/kill/(un)pause, rename, rm, inspect, top, exec, prune."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
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
    All,
    EngineOpt,
    Filters,
    Force,
    ListEngine,
    PruneFilters,
    PruneForce,
    Quiet,
    Rest,
    add_inspect,
    ago,
    api_path,
    app,
    container_app,
    fields,
    for_each,
    get_listing,
    key_values,
    prune,
    query_params,
    trunc,
    with_engine,
)
from skyport_docker.cli.logs import print_line, stream_logs


def _ports(row: dict[str, Any]) -> str:
    shown = []
    for port in row.get("ports") or []:
        inner = f"{port['private']}/{port.get('type', 'tcp')}"
        public = port.get("public")
        shown.append(f"{port.get('ip') or ''}:{public}->{inner}" if public else inner)
    return ", ".join(dict.fromkeys(shown))


def _container_columns(full: bool) -> list[Column]:
    return [
        ("CONTAINER ID", lambda r: r["id"] if full else r["id"][:12]),
        ("IMAGE", lambda r: trunc(r["image"], 30, full)),
        ("COMMAND", lambda r: '"' + trunc(r["command"], 20, full) + '"'),
        ("CREATED", lambda r: ago(r["created"])),
        ("STATUS", lambda r: r["status"]),
        ("PORTS", _ports),
        ("NAMES", lambda r: r["name"]),
    ]


@app.command
def ps(
    *,
    all: All = False,
    quiet: Quiet = False,
    filter: Filters = None,
    no_trunc: bool = False,
    engine: ListEngine = None,
    json: JsonFlag = False,
) -> None:
    """List containers (running ones; every one with -a).

    Parameters
    ----------
    all
        Show stopped containers too.
    quiet
        Only print container ids.
    filter
        Filter as docker does: status=exited, name=web, label=a=b … (repeatable).
    no_trunc
        Do not shorten ids, images and commands.
    """
    with api() as client:
        rows = get_listing(client, api_path("ps"), query_params(engine, all=all, filters=filter))
    if json:
        print_json(rows)
    elif quiet:
        for row in rows:
            print(row["id"] if no_trunc else row["id"][:12])
    else:
        print_table(rows, with_engine(_container_columns(no_trunc), engine))


container_app.command(ps, name="ls")


@app.command
def run(
    image: str,
    /,
    *command: Rest,
    detach: Annotated[bool, Parameter(name=["--detach", "-d"])] = False,
    name: str | None = None,
    env: Annotated[list[str] | None, Parameter(name=["--env", "-e"])] = None,
    publish: Annotated[list[str] | None, Parameter(name=["--publish", "-p"])] = None,
    volume: Annotated[list[str] | None, Parameter(name=["--volume", "-v"])] = None,
    restart: str | None = None,
    label: Annotated[list[str] | None, Parameter(name=["--label", "-l"])] = None,
    network: str | None = None,
    workdir: Annotated[str | None, Parameter(name=["--workdir", "-w"])] = None,
    user: Annotated[str | None, Parameter(name=["--user", "-u"])] = None,
    hostname: Annotated[str | None, Parameter(name=["--hostname", "-h"])] = None,
    entrypoint: str | None = None,
    cpus: float | None = None,
    memory: Annotated[str | None, Parameter(name=["--memory", "-m"])] = None,
    rm: bool = False,
    pull: str | None = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> int:
    """Create and start a container; without -d, print its output until it exits.

    As with docker, options go before IMAGE: everything after it is the
    container's command, as typed (skyport docker run --rm busybox ls -l /).

    Parameters
    ----------
    image
        The image; pulled first when it is missing.
    command
        The command to run instead of the image's default.
    detach
        Run it in the background and print its id.
    name
        Name the container.
    env
        Set an environment variable, KEY=VALUE (repeatable).
    publish
        Publish a port, [ip:][host_port:]container_port[/proto] (repeatable).
    volume
        Mount a volume or a host path, [source:]/path[:ro] (repeatable).
    restart
        Restart policy: no, always, unless-stopped, on-failure[:N].
    label
        Set a label, KEY=VALUE (repeatable).
    network
        Network mode: none, host, bridge or a network's name.
    workdir
        Working directory inside the container.
    user
        User to run as (name or uid[:gid]).
    hostname
        The container's host name.
    entrypoint
        Override the image's entrypoint.
    cpus
        CPU limit in cores, e.g. 0.5.
    memory
        Memory limit, e.g. 512m or 1g.
    rm
        Remove the container when it exits.
    pull
        Pull the image: missing (default), always or never.
    """
    body = fields(
        image=image,
        name=name,
        command=list(command) or None,
        entrypoint=entrypoint,
        env=env,
        ports=publish,
        volumes=volume,
        restart=restart,
        labels=key_values(label, "--label") or None,
        network_mode=network,
        working_dir=workdir,
        user=user,
        hostname=hostname,
        cpus=cpus,
        memory=memory,
        auto_remove=rm or None,
        pull=pull,
    )
    with api() as client:
        if detach:
            created = client.post(api_path("run"), json=body, params=query_params(engine))
            print_json(created) if json else print(created["id"])
            return 0
        # Attached, --rm is ours to do once the exit code is known.
        body.pop("auto_remove", None)
        created = client.post(api_path("run"), json=body, params=query_params(engine))
        if json:
            print_json(created)
        try:
            return _attach(client, created["id"], engine, quiet=json)
        finally:
            if rm:
                client.delete(
                    api_path("containers", created["id"]), params=query_params(engine, force=True)
                )


def _attach(client: Any, container: str, engine: str | None, *, quiet: bool) -> int:
    """Print a started container's output until it ends; its exit code."""
    for line in stream_logs(client, container, engine, history={}):
        if not quiet:
            print_line(line, timestamps=False)
    info = client.get(api_path("containers", container), params=query_params(engine))
    return int((info.get("State") or {}).get("ExitCode") or 0)


@app.command
def stop(
    *containers: str,
    time: Annotated[int | None, Parameter(name=["--time", "-t"])] = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> int:
    """Stop running containers (SIGTERM, then SIGKILL after a grace period).

    Parameters
    ----------
    containers
        Containers, by name or id.
    time
        Seconds to wait before killing.
    """
    return _act(containers, "stop", engine, json, timeout=time)


@app.command
def restart(
    *containers: str,
    time: Annotated[int | None, Parameter(name=["--time", "-t"])] = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> int:
    """Restart containers.

    Parameters
    ----------
    containers
        Containers, by name or id.
    time
        Seconds to wait for each to stop before killing it.
    """
    return _act(containers, "restart", engine, json, timeout=time)


@app.command
def kill(
    *containers: str,
    signal: Annotated[str | None, Parameter(name=["--signal", "-s"])] = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> int:
    """Kill running containers.

    Parameters
    ----------
    containers
        Containers, by name or id.
    signal
        The signal to send (default SIGKILL).
    """
    return _act(containers, "kill", engine, json, signal=signal)


def _cell(index: int) -> Callable[[list[str]], str]:
    """A ``top`` column: the row's ``index``-th field, or nothing."""
    return lambda row: row[index] if index < len(row) else ""


def _plain_action(action: str, summary: str) -> None:
    """Register ``<action> CONTAINER…``: one POST per container, no other option."""

    def command(*containers: str, engine: EngineOpt = None, json: JsonFlag = False) -> int:
        return _act(containers, action, engine, json)

    command.__doc__ = f"""{summary}

    Parameters
    ----------
    containers
        Containers, by name or id.
    """
    app.command(command, name=action)


for _action, _summary in (
    ("start", "Start stopped containers."),
    ("pause", "Pause every process of containers."),
    ("unpause", "Unpause containers."),
):
    _plain_action(_action, _summary)


def _act(refs: Sequence[str], action: str, engine: str | None, as_json: bool, **query: Any) -> int:
    return for_each(
        refs,
        lambda client, ref: client.post(
            api_path("containers", ref, action), params=query_params(engine, **query)
        ),
        as_json=as_json,
        what="container",
    )


@app.command
def rename(
    container: str, new_name: str, /, *, engine: EngineOpt = None, json: JsonFlag = False
) -> None:
    """Rename a container.

    Parameters
    ----------
    container
        The container, by name or id.
    new_name
        Its new name.
    """
    with api() as client:
        answer = client.post(
            api_path("containers", container, "rename"),
            json={"name": new_name},
            params=query_params(engine),
        )
    if json:
        print_json(answer)


@app.command
def rm(
    *containers: str,
    force: Force = False,
    volumes: Annotated[bool, Parameter(name=["--volumes", "-v"])] = False,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> int:
    """Remove containers.

    Parameters
    ----------
    containers
        Containers, by name or id.
    force
        Kill and remove running ones too.
    volumes
        Remove their anonymous volumes too.
    """
    return for_each(
        containers,
        lambda client, ref: client.delete(
            api_path("containers", ref), params=query_params(engine, force=force, volumes=volumes)
        ),
        as_json=json,
        what="container",
    )


for _group in (app, container_app):
    add_inspect(
        _group, "container", lambda ref: api_path("containers", ref), "Containers, by name or id."
    )


@container_app.command(name="prune")
def container_prune(
    *,
    force: PruneForce = False,
    filter: PruneFilters = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Remove every stopped container (after asking, unless -f).

    Parameters
    ----------
    filter
        Only those matching, e.g. label=a=b or until=24h (repeatable).
    """
    removes = "all stopped containers"
    prune("container", removes, force=force, engine=engine, as_json=json, filters=filter)


@app.command
def top(container: str, /, *, engine: EngineOpt = None, json: JsonFlag = False) -> None:
    """Show a container's processes.

    Parameters
    ----------
    container
        The container, by name or id.
    """
    with api() as client:
        answer = client.get(api_path("containers", container, "top"), params=query_params(engine))
    if json:
        print_json(answer)
        return
    columns: list[Column] = [(title, _cell(i)) for i, title in enumerate(answer["titles"])]
    print_table(answer["processes"], columns)


@app.command(name="exec")
def exec_(
    container: str,
    /,
    *command: Rest,
    interactive: Annotated[bool, Parameter(name=["--interactive", "-i"])] = False,
    tty: Annotated[bool, Parameter(name=["--tty", "-t"])] = False,
    env: Annotated[list[str] | None, Parameter(name=["--env", "-e"])] = None,
    user: Annotated[str | None, Parameter(name=["--user", "-u"])] = None,
    workdir: Annotated[str | None, Parameter(name=["--workdir", "-w"])] = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> int:
    """Run a command in a running container; its exit code is the command's.

    As with docker, options go before CONTAINER: everything after it is the
    command, as typed.

    Without -i/-t the command runs to its end, then its output is printed.
    With -it it runs on an interactive terminal: the local terminal goes
    into raw mode, or a piped standard input is typed into it.

    Parameters
    ----------
    container
        The container, by name or id.
    command
        The command and its arguments.
    interactive
        Interactive terminal (-it).
    tty
        Interactive terminal (-it).
    env
        Set an environment variable, KEY=VALUE (repeatable).
    user
        Run as this user.
    workdir
        Working directory.
    """
    if interactive or tty:
        if env or user or workdir:
            raise CliError("exec -it: --env, --user and --workdir are for one-shot commands")
        return _terminal(container, list(command), engine)
    if not command:
        raise CliError("exec: give the command to run")
    body = fields(command=list(command), env=env, user=user, working_dir=workdir)
    with api() as client:
        answer = client.post(
            api_path("containers", container, "exec"), json=body, params=query_params(engine)
        )
    if json:
        print_json(answer)
    else:
        sys.stdout.write(answer["stdout"])
        sys.stdout.flush()
        sys.stderr.write(answer["stderr"])
    return int(answer["exit_code"])


SHELLS = frozenset({"sh", "bash", "ash", "/bin/sh", "/bin/bash", "/bin/ash", "/usr/bin/bash"})
"""Commands the terminal's own shell stands for (bash when the container has it, else sh)."""


def _terminal(container: str, command: list[str], engine: str | None) -> int:
    """``exec -it``: the ``docker`` terminal over ``/ws/terminal``; the exit code."""
    from skyport.cli.terminal import open_terminal

    target = f"{engine}/{container}" if engine else container
    shell = not command or (len(command) == 1 and command[0] in SHELLS)
    with api() as client:
        return open_terminal(client, "docker", target, None if shell else command)
