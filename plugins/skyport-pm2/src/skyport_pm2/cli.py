"""``skyport pm2 …``: the pm2 CLI's commands, through the SkyPort API.

Every command calls ``/api/pm2`` through the one SkyPort client (the server
you logged in to, or the API in-process), so it needs no access to the PM2
daemon of its own. Names and flags follow the pm2 CLI; ``--json`` prints
the API's JSON as it came; errors are one line with a non-zero exit code.
Paths (scripts, ecosystem files) are on the server's machine: relative ones
are made absolute from the current directory.

Keep the imports light: ``skyport pm2 --help`` imports this module, never
Litestar or the plugin's service.
"""

from __future__ import annotations

import itertools
import json as jsonlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any
from urllib.parse import quote

from cyclopts import App, Parameter

from skyport.cli.common import api
from skyport.cli.output import (
    CliError,
    Column,
    JsonFlag,
    human_bytes,
    human_duration,
    human_time,
    print_fields,
    print_json,
    print_table,
)

app = App(
    name="pm2",
    help="PM2 processes: list, start, stop, restart, reload, delete, logs, scale, save.",
    default_parameter=Parameter(negative=()),
)

PREFIX = "/api/pm2"
CONFIG_SUFFIXES = (".json", ".config.js", ".config.cjs", ".config.mjs")
"""What pm2 takes for an ecosystem file rather than a script."""

Refs = Annotated[tuple[str, ...], Parameter(help="Process names, ids, or 'all'.")]

COLUMNS: list[Column] = [
    ("ID", lambda r: r["pm_id"]),
    ("NAME", lambda r: r["name"]),
    ("NAMESPACE", lambda r: r["namespace"]),
    ("MODE", lambda r: r["mode"]),
    ("PID", lambda r: r["pid"] or "-"),
    ("UPTIME", lambda r: human_duration(r["uptime"]) if r["status"] == "online" else "-"),
    ("↺", lambda r: r["restarts"]),
    ("STATUS", lambda r: r["status"]),
    ("CPU", lambda r: f"{r['cpu']:g}%"),
    ("MEM", lambda r: human_bytes(r["memory"])),
    ("WATCH", lambda r: "enabled" if r["watch"] else "disabled"),
]


def _same(value: Any) -> Any:
    return value


HUMAN: dict[str, Callable[[Any], Any]] = {
    "cpu": lambda v: f"{v:g}%",
    "memory": human_bytes,
    "max_memory_restart": lambda v: human_bytes(v) if v else None,
    "uptime": lambda v: human_duration(v) if v else "-",
    "created_at": human_time,
}
"""How ``describe`` shows some fields (``--json`` gives them as the API does)."""


def process_path(ref: str, *parts: str) -> str:
    return "/".join([PREFIX, "processes", quote(ref, safe=""), *parts])


def print_processes(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(rows)
    else:
        print_table(rows, COLUMNS, empty="no PM2 process")


@app.command(name=["list", "ls"])
def list_(*, json: JsonFlag = False) -> None:
    """List every process (pm2 list)."""
    with api() as client:
        print_processes(client.get(f"{PREFIX}/list"), json)


@app.command
def start(
    target: str,
    /,
    *args: str,
    name: str | None = None,
    instances: Annotated[str | None, Parameter(name=["--instances", "-i"])] = None,
    watch: bool = False,
    interpreter: str | None = None,
    interpreter_args: Annotated[
        str | None,
        Parameter(name=["--interpreter-args", "--node-args"], allow_leading_hyphen=True),
    ] = None,
    cwd: str | None = None,
    set_env: Annotated[list[str] | None, Parameter(name="--set")] = None,
    max_memory_restart: str | None = None,
    cron_restart: Annotated[str | None, Parameter(name=["--cron-restart", "--cron"])] = None,
    no_autorestart: bool = False,
    namespace: str | None = None,
    only: str | None = None,
    env: str | None = None,
    json: JsonFlag = False,
) -> None:
    """Start a script, or the apps of an ecosystem file (pm2 start).

    Put the script's own arguments after "--": skyport pm2 start app.js -- --port 3000

    Parameters
    ----------
    target
        The script (or executable), or an ecosystem file (.json, *.config.js).
    args
        Arguments for the script.
    name
        The process name (default: the script's name).
    instances
        Start N instances (Node.js: cluster mode); 0 or "max" = one per CPU.
    watch
        Restart when files in the app's directory change.
    interpreter
        node, python3, bash, none (an executable) …; default from the extension.
    interpreter_args
        Options for the interpreter, e.g. "--max-old-space-size=512".
    cwd
        Directory to run in (default: the script's).
    set_env
        An environment variable for the app, KEY=VALUE (repeatable).
    max_memory_restart
        Restart the app when it uses more memory: 200M, 1G …
    cron_restart
        Restart on a cron schedule, e.g. "0 3 * * *".
    no_autorestart
        Do not restart the app when it exits or crashes.
    namespace
        The app's namespace.
    only
        Ecosystem file: start only these apps (comma-separated).
    env
        Ecosystem file: apply its env_<ENV> section.
    """
    path = os.path.abspath(os.path.expanduser(target))
    body: dict[str, Any]
    if path.endswith(CONFIG_SUFFIXES):
        body = {"ecosystem": path}
        if only:
            body["only"] = [n.strip() for n in only.split(",") if n.strip()]
        if env:
            body["environment"] = env
    else:
        # a bare name that is no file here may be a command on the PATH (pm2 start npm)
        command = not os.path.exists(path) and "/" not in target
        body = {"script": target if command else path}
        body.update(
            _unset_dropped(
                name=name,
                args=list(args) or None,
                cwd=os.path.abspath(cwd) if cwd else (os.getcwd() if command else None),
                interpreter=interpreter,
                interpreter_args=interpreter_args,
                env=_key_values(set_env, "--set") or None,
                instances=_instances(instances),
                watch=watch or None,
                max_memory_restart=max_memory_restart,
                cron_restart=cron_restart,
                autorestart=False if no_autorestart else None,
                namespace=namespace,
            )
        )
    with api() as client:
        answer = client.post(f"{PREFIX}/start", json=body)
    if json:
        print_json(answer)
    else:
        print_table(answer["processes"], COLUMNS, empty="nothing started")


def _act(action: str, refs: Sequence[str], as_json: bool) -> int:
    """``action`` on each ref, as pm2 does: report each, go on after a failure."""
    from skyport.client import ApiError, Forbidden

    if not refs:
        raise CliError("name at least one process (a name, an id, or 'all')")
    rows: list[dict[str, Any]] = []
    failed = 0
    with api() as client:
        for ref in refs:
            try:
                if action == "delete":
                    rows += client.delete(process_path(ref))
                else:
                    rows += client.post(process_path(ref, action))
            except ApiError as exc:
                if isinstance(exc, Forbidden) or not 400 <= exc.status < 500:
                    raise
                print(f"skyport: error: {exc}", file=sys.stderr, flush=True)
                failed += 1
    if as_json:
        print_json(rows)
    elif not rows and not failed:
        print("no PM2 process")  # 'all' on an empty list, as pm2 warns
    elif action == "delete":
        for row in rows:
            print(f"[{row['name']}]({row['pm_id']}) deleted")
    else:
        print_table(rows, COLUMNS)
    return 1 if failed else 0


@app.command
def stop(*refs: str, json: JsonFlag = False) -> int:
    """Stop processes (pm2 stop NAME|ID|all …)."""
    return _act("stop", refs, json)


@app.command
def restart(*refs: str, json: JsonFlag = False) -> int:
    """Restart processes, or start stopped ones (pm2 restart NAME|ID|all …)."""
    return _act("restart", refs, json)


@app.command
def reload(*refs: str, json: JsonFlag = False) -> int:
    """Reload with zero downtime in cluster mode, restart otherwise (pm2 reload)."""
    return _act("reload", refs, json)


@app.command
def delete(*refs: str, json: JsonFlag = False) -> int:
    """Stop and forget processes (pm2 delete NAME|ID|all …)."""
    return _act("delete", refs, json)


@app.command
def reset(*refs: str, json: JsonFlag = False) -> int:
    """Reset the restart counters (pm2 reset NAME|ID|all …)."""
    return _act("reset", refs, json)


@app.command
def describe(ref: str, /, *, reveal_env: bool = False, json: JsonFlag = False) -> None:
    """Everything about a process (pm2 describe); environment values stay hidden.

    Parameters
    ----------
    ref
        A name (every instance), an id.
    reveal_env
        Show the environment's values (admins only).
    """
    params = {"reveal_env": "true"} if reveal_env else None
    with api() as client:
        details = client.get(process_path(ref), params=params)
    if json:
        print_json(details)
        return
    for index, proc in enumerate(details):
        if index:
            print()
        env = proc.pop("env")
        metrics = proc.pop("metrics")
        units = proc.pop("metric_units", {})
        shown = [(key, HUMAN.get(key, _same)(value)) for key, value in proc.items()]
        print_fields([(key.replace("_", " "), value) for key, value in shown])
        print_fields([(f"env {key}", value) for key, value in env.items()])
        print_fields(
            [
                (f"metric {key}", f"{value} {units[key]}" if key in units else value)
                for key, value in metrics.items()
            ]
        )


@app.command
def scale(ref: str, instances: str, /, *, json: JsonFlag = False) -> None:
    """Scale an app to N instances, or by +N / -N (pm2 scale NAME N)."""
    with api() as client:
        answer = client.post(process_path(ref, "scale"), json={"instances": instances})
    if json:
        print_json(answer)
    else:
        print(f"[{answer['name']}] scaled to {answer['instances']} instances")


@app.command(name="sendSignal")
def send_signal(signal: str, ref: str, /, *, json: JsonFlag = False) -> None:
    """Send a signal to processes (pm2 sendSignal SIGUSR2 NAME)."""
    with api() as client:
        rows = client.post(process_path(ref, "signal"), json={"signal": signal})
    print_processes(rows, json)


@app.command
def flush(ref: str | None = None, /, *, json: JsonFlag = False) -> None:
    """Empty the log files of a process, or of every process (pm2 flush [NAME])."""
    with api() as client:
        answer = client.post(process_path(ref, "flush") if ref else f"{PREFIX}/flush")
    if json:
        print_json(answer)
    else:
        for file in answer["files"]:
            print(f"flushed {file}")


@app.command
def save(*, json: JsonFlag = False) -> None:
    """Remember the process list, for resurrect (pm2 save)."""
    with api() as client:
        answer = client.post(f"{PREFIX}/save")
    if json:
        print_json(answer)
    else:
        print(f"saved {answer['processes']} processes in {answer['file']}")


@app.command
def resurrect(*, json: JsonFlag = False) -> None:
    """Start the processes save remembered (pm2 resurrect)."""
    with api() as client:
        print_processes(client.post(f"{PREFIX}/resurrect"), json)


@app.command
def ecosystem(file: str, /, *, json: JsonFlag = False) -> None:
    """List the apps of an ecosystem file and how many of each run."""
    with api() as client:
        answer = client.post(f"{PREFIX}/ecosystem", json={"file": os.path.abspath(file)})
    if json:
        print_json(answer)
        return
    columns: list[Column] = [
        ("NAME", lambda a: a["name"]),
        ("SCRIPT", lambda a: a["script"]),
        ("INSTANCES", lambda a: a["instances"]),
        ("MODE", lambda a: a["exec_mode"]),
        ("RUNNING", lambda a: a["running"]),
        ("ENV", lambda a: ", ".join(a["env"])),
    ]
    print_table(answer["apps"], columns, empty=f"no app in {answer['file']}")


@app.command
def logs(
    ref: str = "all",
    /,
    *,
    lines: int = 15,
    follow: Annotated[bool, Parameter(name=["--follow", "-f"])] = False,
    raw: bool = False,
    json: JsonFlag = False,
) -> None:
    """Show the last lines of the processes' output; -f keeps following (pm2 logs).

    Parameters
    ----------
    ref
        A name, an id, or all (default).
    lines
        How many past lines of stdout and of stderr, per process.
    follow
        Keep printing new output (Ctrl-C to stop).
    raw
        Print the output only, without the "id|name |" prefix (stderr's lines on stderr).
    """
    if lines < 0:
        raise CliError("--lines: must be 0 or more")
    with api() as client:
        if not follow:
            answer = client.get(process_path(ref, "logs"), params={"lines": lines})
            if json:
                print_json(answer)
            else:
                for line in answer["lines"]:
                    _print_output(line, raw)
            return
        try:
            for item in _follow(client, ref, lines):
                if json:
                    print(jsonlib.dumps(item, ensure_ascii=False), flush=True)
                else:
                    _print_output(item, raw)
        except KeyboardInterrupt:
            return


def _follow(client: Any, ref: str, lines: int) -> Iterator[dict[str, Any]]:
    """Past lines, then live output from ``pm2.logs:<ref>``, one line per item.

    The topic is subscribed to first, then the files are read: live output
    stamped before the files were read is already in them and is skipped.
    Live chunks are cut into lines shaped as the past ones (plus ``at``), so
    ``--json`` prints one kind of object.
    """
    feed = client.subscribe([f"pm2.logs:{ref}"])
    early: list[dict[str, Any]] = []
    try:
        for message in feed:
            if message.get("type") == "subscribed":
                break
            if "topic" in message:
                early.append(message["data"])
        past = client.get(process_path(ref, "logs"), params={"lines": lines})
        yield from past["lines"]
        live = (m["data"] for m in feed if "topic" in m)
        for data in itertools.chain(early, live):
            if data.get("at", 0) >= past["at"]:
                yield from _live_lines(data)
    finally:
        feed.close()


def _live_lines(chunk: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A chunk of live output (``{..., data, at}``) as lines (``{..., line, at}``)."""
    fields = {key: chunk[key] for key in ("name", "pm_id", "stream")}
    for line in str(chunk.get("data", "")).splitlines():
        yield {**fields, "line": line, "at": chunk.get("at")}


def _print_output(item: dict[str, Any], raw: bool) -> None:
    """As pm2 logs: prefixed lines all on stdout (a pipe sees errors too); --raw err on stderr."""
    if raw:
        stream = sys.stderr if item.get("stream") == "err" else sys.stdout
        stream.write(f"{item['line']}\n")
    else:
        stream = sys.stdout
        stream.write(f"{item['pm_id']}|{item['name']} | {item['line']}\n")
    stream.flush()


def _instances(value: str | None) -> int | None:
    if value is None:
        return None
    if value == "max":
        return 0
    try:
        return int(value)
    except ValueError:
        raise CliError(f"-i: {value!r} is not a number or 'max'") from None


def _key_values(items: Sequence[str] | None, flag: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not key or not sep:
            raise CliError(f"{flag}: {item!r} is not KEY=VALUE")
        result[key] = value
    return result


def _unset_dropped(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
