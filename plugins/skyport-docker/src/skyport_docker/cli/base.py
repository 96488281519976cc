"""What every ``skyport docker`` command shares: the command groups, flags and helpers."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from urllib.parse import quote

from cyclopts import UNSET, App, CycloptsError, Parameter
from cyclopts.argument import ArgumentCollection

from skyport.cli.common import api
from skyport.cli.output import (
    CliError,
    Column,
    human_bytes,
    human_duration,
    print_json,
    warn,
)

app = App(
    # what its usage lines start with: the meta app below runs it as an app of its own
    name="skyport docker",
    help="Docker containers, images, volumes, networks, compose stacks and engines.",
    default_parameter=Parameter(negative=()),
)
container_app = App(name="container", help="Manage containers: ls, inspect, prune.")
image_app = App(name="image", help="Manage images: ls, pull, rm, tag, history, inspect, prune.")
volume_app = App(name="volume", help="Manage volumes: ls, create, inspect, rm, prune.")
network_app = App(name="network", help="Manage networks: ls, create, inspect, rm, prune.")
stack_app = App(
    name="stack", help="Compose stacks: up, ls, ps, start, stop, restart, update, down."
)
engine_app = App(
    name="engine", help="Docker engines: ls, inspect, add, rm (local socket, ssh://, tcp://)."
)
for _group in (container_app, image_app, volume_app, network_app, stack_app, engine_app):
    app.command(_group)

PREFIX = "/api/docker"
UNAVAILABLE_HEADER = "X-Docker-Unavailable"
"""The engines a listing across engines (``--engine all``) had to leave out."""

EngineOpt = Annotated[
    str | None,
    Parameter(name="--engine", help="The Docker engine (see 'skyport docker engine ls')."),
]
ListEngine = Annotated[
    str | None,
    Parameter(name="--engine", help="The Docker engine to list; 'all' lists every engine."),
]
Quiet = Annotated[bool, Parameter(name=["--quiet", "-q"])]
Force = Annotated[bool, Parameter(name=["--force", "-f"])]
All = Annotated[bool, Parameter(name=["--all", "-a"])]
Filters = Annotated[list[str] | None, Parameter(name=["--filter", "-f"])]
PruneFilters = Annotated[list[str] | None, Parameter(name="--filter")]
"""A prune's ``--filter`` is long-only: there ``-f`` is ``--force``, as in docker."""
PruneForce = Annotated[bool, Parameter(name=["--force", "-f"], help="Do not ask to confirm.")]
Rest = Annotated[str, Parameter(allow_leading_hyphen=True)]
"""The command line after an image or container (``sh -c 'echo hi'``), taken verbatim."""

END_OF_OPTIONS = "--"
OPERAND_ENDS_OPTIONS = frozenset({"run", "exec"})
"""Commands that stop reading options at their first operand, as docker's do:
``run [OPTIONS] IMAGE [COMMAND] [ARG...]``, ``exec [OPTIONS] CONTAINER COMMAND [ARG...]``."""


@app.meta.default
def _docker(*tokens: Annotated[str, Parameter(show=False, allow_leading_hyphen=True)]) -> Any:
    """Every ``skyport docker`` command line passes here first (a cyclopts meta app)."""
    try:
        return app(
            options_end_at_operand(tokens),
            result_action="return_value",
            print_error=False,
            exit_on_error=False,
        )
    except CycloptsError as exc:
        exc.command_chain = ("docker", *(exc.command_chain or ()))
        raise


def options_end_at_operand(tokens: Sequence[str]) -> list[str]:
    """``run``/``exec``: put the end of options (``--``) right after IMAGE or CONTAINER.

    Everything after the operand is then the container's command, verbatim:
    in ``run IMG ls -l /etc`` the ``-l`` is ``ls``'s, not ``--label``. The
    options before it are matched with the command's own cyclopts parameters
    (flags, ``--key=value``, grouped short flags such as ``-dit``); an
    unknown option ends the scan and is left for cyclopts to report. A ``--``
    right after the operand is taken as that end (``run IMG -- cmd --help``:
    the core's ``--help`` shows this help wherever it is, unless after ``--``).
    """
    tokens = list(tokens)
    if not tokens or tokens[0] not in OPERAND_ENDS_OPTIONS:
        return tokens
    options = app[tokens[0]].assemble_argument_collection()
    index = 1
    while index < len(tokens):
        word = tokens[index]
        if word == END_OF_OPTIONS:
            return tokens
        if word == "-" or not word.startswith("-"):
            rest = tokens[index + 1 :]
            if rest[:1] == [END_OF_OPTIONS]:  # the user's own: IMAGE -- COMMAND
                return tokens
            return [*tokens[: index + 1], END_OF_OPTIONS, *rest]
        takes_value = _takes_value(options, word)
        if takes_value is None:
            return tokens
        index += 2 if takes_value else 1
    return tokens


def _takes_value(options: ArgumentCollection, token: str) -> bool | None:
    """Whether option ``token`` takes the next token as its value; ``None``: unknown."""
    name, attached, _ = token.partition("=")
    try:
        _, _, implicit = options.match(name)
        return not attached and implicit is UNSET
    except ValueError:
        if token.startswith("--"):
            return None
    # grouped short options (-dit): flags, then maybe one taking the rest or the next token
    for position, char in enumerate(token[1:], start=1):
        try:
            _, _, implicit = options.match(f"-{char}")
        except ValueError:
            return None
        if implicit is UNSET:
            return position == len(token) - 1
    return False


def api_path(*parts: str) -> str:
    """``/api/docker/<parts>``, each part quoted whole (names hold no slash)."""
    return PREFIX + "".join("/" + quote(part, safe="") for part in parts)


def image_path(ref: str, action: str = "") -> str:
    """Image references may hold slashes (``ghcr.io/org/app``): the API takes the path."""
    return f"{PREFIX}/images/{quote(ref, safe='/:@')}" + (f"/{action}" if action else "")


def query_params(engine: str | None = None, **values: Any) -> dict[str, Any]:
    """Query parameters, without the unset ones."""
    params = {k: v for k, v in values.items() if v is not None and v is not False and v != []}
    if engine:
        params["engine"] = engine
    return params


def get_listing(
    client: Any, path: str, params: dict[str, Any], *, left_out: set[str] | None = None
) -> Any:
    """GET a listing; warn on stderr about each engine the API left out of it.

    With ``left_out`` (a live ``stats``), those engines are added to it
    instead, for the caller to warn about when it suits the display.
    """
    reply = client.request_with_headers("GET", path, params=params)
    missing = {name for name in reply.headers.get(UNAVAILABLE_HEADER, "").split(",") if name}
    if left_out is None:
        warn_left_out(missing)
    else:
        left_out |= missing
    return reply.body


def warn_left_out(engines: set[str]) -> None:
    for name in sorted(engines):
        warn(f"warning: engine {name} is unavailable and was left out")


def fields(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def short_id(value: Any) -> str:
    return str(value or "").removeprefix("sha256:")[:12]


def ago(when: float | None) -> str:
    """``5m 3s ago`` for unix seconds."""
    if not when:
        return "-"
    return f"{human_duration(max(0.0, time.time() - when))} ago"


def trunc(text: str, width: int, full: bool = False) -> str:
    return text if full or len(text) <= width else text[: width - 1] + "…"


def with_engine(columns: list[Column], engine: str | None) -> list[Column]:
    """Across engines (``--engine all``) every row says which engine it is on."""
    if engine == "all":
        return [("ENGINE", lambda row: row.get("engine")), *columns]
    return columns


def key_values(items: Sequence[str] | None, flag: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items or []:
        key, _, value = item.partition("=")
        if not key:
            raise CliError(f"{flag}: {item!r} is not KEY=VALUE")
        result[key] = value
    return result


def for_each(
    refs: Sequence[str],
    action: Callable[[Any, str], Any],
    *,
    as_json: bool,
    what: str,
    report: Callable[[str, Any], None] = lambda ref, _answer: print(ref, flush=True),
) -> int:
    """``action`` on every ref as docker does: report each, go on after a failure.

    A failure about one ref (4xx) is printed as the usual one-line error and
    the others still run; the exit code is 1 if any failed. With ``--json``:
    the API's answer for one ref, a list of the answers for several.
    """
    from skyport.client import ApiError, Forbidden

    if not refs:
        raise CliError(f"name at least one {what}")
    answers: list[Any] = []
    failed = 0
    with api() as client:
        for ref in refs:
            try:
                answer = action(client, ref)
            except ApiError as exc:
                if isinstance(exc, Forbidden) or not 400 <= exc.status < 500:
                    raise
                print(f"skyport: error: {exc}", file=sys.stderr, flush=True)
                failed += 1
                continue
            answers.append(answer)
            if not as_json:
                report(ref, answer)
    if as_json and answers:
        print_json(answers[0] if len(refs) == 1 else answers)
    return 1 if failed else 0


def prune(
    kind: str,
    removes: str,
    *,
    force: bool,
    engine: str | None,
    as_json: bool,
    **query: Any,
) -> None:
    """``<kind> prune``: docker's question (unless ``--force``), then the API's prune.

    ``removes`` completes "WARNING! This will remove …". Without a terminal
    to ask on, only ``--force`` prunes; ``--json`` changes nothing about that.
    """
    if not force:
        _confirm(f"{kind} prune", f"WARNING! This will remove {removes}.")
    with api() as client:
        answer = client.post(api_path(f"{kind}s", "prune"), params=query_params(engine, **query))
    print_pruned(answer, as_json)


def _confirm(command: str, warning: str) -> None:
    """Ask on the terminal (on stderr, so stdout stays the answer's); refuse unless "y"."""
    if not sys.stdin.isatty():
        raise CliError(f"{command}: no terminal to confirm on: add --force to go ahead")
    print(f"{warning}\nAre you sure you want to continue? [y/N] ", end="", file=sys.stderr)
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise CliError(f"{command} cancelled: nothing was removed")


def print_pruned(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(answer)
        return
    for item in answer.get("deleted") or []:
        print(f"Deleted: {item}")
    if "space_reclaimed" in answer:
        print(f"Total reclaimed space: {human_bytes(answer['space_reclaimed'])}")


ENGINE_JSON = "the engine's JSON"
SUMMARY_JSON = "JSON, in SkyPort's shape (name, driver, labels …, engine), not the engine's"


def add_inspect(
    group: App, what: str, path: Callable[[str], str], refs: str, shows: str = ENGINE_JSON
) -> None:
    """Register ``inspect REF…`` on ``group``: each ``what``'s details as ``shows`` says."""

    def inspect(*names: str, engine: EngineOpt = None) -> int:
        return for_each(
            names,
            lambda client, ref: client.get(path(ref), params=query_params(engine)),
            as_json=True,
            what=what,
        )

    inspect.__doc__ = f"""Show {what}s' details: {shows}.

    Parameters
    ----------
    names
        {refs}
    """
    group.command(inspect, name="inspect")
