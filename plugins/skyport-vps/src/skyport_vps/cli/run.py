"""``skyport vps run (NAME…|--tag T|--all) [--timeout S] [--parallel N] [--json] -- CMD``.

Output is streamed as it comes, each line prefixed with its server's name
in a colour of its own (like ``parallel-ssh -i``, but live), then one status
line per server and a summary. The exit code is 1 when any server failed
(could not run the command, or it exited non-zero).
"""

from __future__ import annotations

import argparse
import secrets
import shlex
import sys
import threading
from typing import Annotated, Any

from cyclopts import Parameter

from skyport.cli.common import api
from skyport.cli.output import CliError, print_json
from skyport_vps.cli.base import COLOURS, api_path, app, fields, paint, use_colour

STREAM_WAIT = 5.0
"""Seconds to wait, after the run answered, for the last streamed output."""


def _parse(tokens: tuple[str, ...]) -> tuple[argparse.Namespace, str]:
    if "--" in tokens:
        at = tokens.index("--")
        head, command = list(tokens[:at]), list(tokens[at + 1 :])
    else:
        head, command = list(tokens), []
    parser = argparse.ArgumentParser(prog="skyport vps run", add_help=False, exit_on_error=False)
    parser.add_argument("servers", nargs="*")
    parser.add_argument("--tag", action="append", default=[])
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--parallel", type=int)
    parser.add_argument("--json", action="store_true")
    try:
        options, unknown = parser.parse_known_args(head)
    except (argparse.ArgumentError, SystemExit) as exc:
        raise CliError(f"run: {exc}") from None
    if unknown:
        raise CliError(f"run: unknown option {unknown[0]} (the command goes after --)")
    if not command:
        raise CliError("run: give the command after --, e.g. skyport vps run web-1 -- uptime")
    return options, command[0] if len(command) == 1 else shlex.join(command)


@app.command(end_of_options_delimiter="")
def run(*tokens: Annotated[str, Parameter(allow_leading_hyphen=True)]) -> int:
    """Run a command on many servers at once, with live per-server output.

    Usage: run (NAME…|--tag T|--all) [--timeout S] [--parallel N] [--json] -- CMD

    The command is run by each server's shell as given (one argument is
    passed as is; several are joined with shell quoting).

    Parameters
    ----------
    tokens
        Server names and options, then --, then the command.
    """
    options, command = _parse(tokens)
    body = fields(
        command=command,
        servers=options.servers,
        tags=options.tag,
        all=options.all,
        timeout=options.timeout,
        parallel=options.parallel,
    )
    with api() as client:
        if options.json:
            print_json(client.post(api_path("run"), json=body))
            return 0
        job = _run_streaming(client, body)
    return _report(job)


class _Printer:
    """Prints streamed output line by line, each line prefixed with its server."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour
        self.colours: dict[str, int] = {}
        self.partial: dict[tuple[str, str], str] = {}
        self.streamed: set[str] = set()
        self.lock = threading.Lock()
        self.done = threading.Event()

    def prefix(self, server: str) -> str:
        colour = self.colours.setdefault(server, COLOURS[len(self.colours) % len(COLOURS)])
        return paint(f"{server} |", colour, self.colour)

    def output(self, server: str, stream: str, text: str) -> None:
        with self.lock:
            self.streamed.add(server)
            lines = (self.partial.pop((server, stream), "") + text).split("\n")
            if lines[-1]:
                self.partial[(server, stream)] = lines[-1]
            for line in lines[:-1]:
                print(
                    f"{self.prefix(server)} {line}",
                    file=sys.stdout if stream == "stdout" else sys.stderr,
                    flush=True,
                )

    def flush(self, server: str) -> None:
        with self.lock:
            for stream in ("stdout", "stderr"):
                rest = self.partial.pop((server, stream), None)
                if rest:
                    out = sys.stdout if stream == "stdout" else sys.stderr
                    print(f"{self.prefix(server)} {rest}", file=out, flush=True)

    def follow(self, messages: Any) -> None:
        try:
            for message in messages:
                data = message.get("data")
                if not isinstance(data, dict):
                    continue
                if "data" in data:
                    self.output(data["server"], data["stream"], data["data"])
                elif "result" in data:
                    self.flush(data["server"])
                elif data.get("done"):
                    return
        except Exception:  # the stream is a convenience: the answer has everything
            return
        finally:
            self.done.set()


def _run_streaming(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    """POST the run while printing its live output; the job the API answered."""
    job_id = "cli-" + secrets.token_hex(8)
    printer = _Printer(use_colour())
    messages = client.subscribe([f"vps.run:{job_id}"])
    try:
        next(messages)  # "subscribed": output from now on reaches us
        follower = threading.Thread(target=printer.follow, args=(messages,), daemon=True)
        follower.start()
    except Exception:
        printer.done.set()
    job: dict[str, Any] = client.post(api_path("run"), json={**body, "job": job_id})
    printer.done.wait(STREAM_WAIT)
    for name, result in job["results"].items():
        if name not in printer.streamed:
            for stream in ("stdout", "stderr"):
                if result[stream]:
                    printer.output(name, stream, result[stream])
        printer.flush(name)
    return job


def _report(job: dict[str, Any]) -> int:
    """One status line per server and a summary (stderr); 1 if any server failed."""
    colour = use_colour(sys.stderr)
    failed = 0
    for name, result in job["results"].items():
        seconds = f"{result['duration']:.2f} s"
        if result["ok"]:
            status = paint("[SUCCESS]", 32, colour)
            print(f"{status} {name} exit 0 ({seconds})", file=sys.stderr)
            continue
        failed += 1
        status = paint("[FAILURE]", 31, colour)
        if result["exit_code"] is not None:
            print(f"{status} {name} exit {result['exit_code']} ({seconds})", file=sys.stderr)
        else:
            print(f"{status} {name} {result['reason']}: {result['error']}", file=sys.stderr)
        if result["truncated"]:
            print(f"          {name}: output was cut at the size limit", file=sys.stderr)
    total = len(job["results"])
    print(f"{total - failed} of {total} servers succeeded", file=sys.stderr)
    return 1 if failed else 0
