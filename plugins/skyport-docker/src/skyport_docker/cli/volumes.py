"""``volume ls|create|inspect|rm|prune``."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from skyport.cli.common import api
from skyport.cli.output import (
    Column,
    JsonFlag,
    print_json,
    print_table,
)
from skyport_docker.cli.base import (
    SUMMARY_JSON,
    EngineOpt,
    Filters,
    Force,
    ListEngine,
    PruneFilters,
    PruneForce,
    Quiet,
    add_inspect,
    api_path,
    fields,
    for_each,
    get_listing,
    key_values,
    prune,
    query_params,
    volume_app,
    with_engine,
)


@volume_app.command(name="ls")
def volume_ls(
    *,
    quiet: Quiet = False,
    filter: Filters = None,
    engine: ListEngine = None,
    json: JsonFlag = False,
) -> None:
    """List volumes.

    Parameters
    ----------
    quiet
        Only print volume names.
    filter
        Filter as docker does: dangling=true, label=a=b, name=data (repeatable).
    """
    with api() as client:
        rows = get_listing(client, api_path("volumes"), query_params(engine, filters=filter))
    if json:
        print_json(rows)
    elif quiet:
        for row in rows:
            print(row["name"])
    else:
        columns: list[Column] = [
            ("DRIVER", lambda r: r["driver"]),
            ("VOLUME NAME", lambda r: r["name"]),
        ]
        print_table(rows, with_engine(columns, engine))


@volume_app.command(name="create")
def volume_create(
    name: str | None = None,
    /,
    *,
    driver: Annotated[str | None, Parameter(name=["--driver", "-d"])] = None,
    label: Annotated[list[str] | None, Parameter(name=["--label", "-l"])] = None,
    opt: Annotated[list[str] | None, Parameter(name=["--opt", "-o"])] = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Create a volume and print its name.

    Parameters
    ----------
    name
        The volume's name (default: a random one).
    driver
        The volume driver (default: local).
    label
        Set a label, KEY=VALUE (repeatable).
    opt
        A driver option, KEY=VALUE (repeatable).
    """
    body = fields(
        name=name,
        driver=driver,
        labels=key_values(label, "--label") or None,
        driver_opts=key_values(opt, "--opt") or None,
    )
    with api() as client:
        answer = client.post(api_path("volumes"), json=body, params=query_params(engine))
    print_json(answer) if json else print(answer["name"])


@volume_app.command(name="rm")
def volume_rm(
    *volumes: str, force: Force = False, engine: EngineOpt = None, json: JsonFlag = False
) -> int:
    """Remove volumes.

    Parameters
    ----------
    volumes
        Volume names.
    force
        Remove them even when the engine would rather not.
    """
    return for_each(
        volumes,
        lambda client, ref: client.delete(
            api_path("volumes", ref), params=query_params(engine, force=force)
        ),
        as_json=json,
        what="volume",
    )


@volume_app.command(name="prune")
def volume_prune(
    *,
    force: PruneForce = False,
    filter: PruneFilters = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Remove the volumes no container uses (after asking, unless -f).

    Parameters
    ----------
    filter
        Only those matching, e.g. label=a=b (repeatable).
    """
    removes = "all local volumes not used by at least one container"
    prune("volume", removes, force=force, engine=engine, as_json=json, filters=filter)


add_inspect(
    volume_app, "volume", lambda ref: api_path("volumes", ref), "Volume names.", SUMMARY_JSON
)
