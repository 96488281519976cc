"""``network ls|create|inspect|rm|prune``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

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
    network_app,
    prune,
    query_params,
    with_engine,
)


@network_app.command(name="ls")
def network_ls(
    *,
    quiet: Quiet = False,
    filter: Filters = None,
    no_trunc: bool = False,
    engine: ListEngine = None,
    json: JsonFlag = False,
) -> None:
    """List networks.

    Parameters
    ----------
    quiet
        Only print network ids.
    filter
        Filter as docker does: driver=bridge, label=a=b, name=front (repeatable).
    no_trunc
        Do not shorten ids.
    """
    with api() as client:
        rows = get_listing(client, api_path("networks"), query_params(engine, filters=filter))
    if json:
        print_json(rows)
        return
    network_id: Callable[[Any], str] = lambda r: r["id"] if no_trunc else r["id"][:12]  # noqa: E731
    if quiet:
        for row in rows:
            print(network_id(row))
        return
    columns: list[Column] = [
        ("NETWORK ID", network_id),
        ("NAME", lambda r: r["name"]),
        ("DRIVER", lambda r: r["driver"]),
        ("SCOPE", lambda r: r["scope"]),
        ("INTERNAL", lambda r: r["internal"]),
    ]
    print_table(rows, with_engine(columns, engine))


@network_app.command(name="create")
def network_create(
    name: str,
    /,
    *,
    driver: Annotated[str | None, Parameter(name=["--driver", "-d"])] = None,
    internal: bool = False,
    attachable: bool = False,
    ipv6: bool = False,
    subnet: str | None = None,
    gateway: str | None = None,
    label: Annotated[list[str] | None, Parameter(name=["--label", "-l"])] = None,
    opt: Annotated[list[str] | None, Parameter(name=["--opt", "-o"])] = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Create a network and print its id.

    Parameters
    ----------
    name
        The network's name.
    driver
        The network driver (default: bridge).
    internal
        Keep it away from the outside world.
    attachable
        Let standalone containers attach.
    ipv6
        Enable IPv6.
    subnet
        The subnet, in CIDR form.
    gateway
        The gateway's address (needs --subnet).
    label
        Set a label, KEY=VALUE (repeatable).
    opt
        A driver option, KEY=VALUE (repeatable).
    """
    body = fields(
        name=name,
        driver=driver,
        internal=internal or None,
        attachable=attachable or None,
        ipv6=ipv6 or None,
        subnet=subnet,
        gateway=gateway,
        labels=key_values(label, "--label") or None,
        options=key_values(opt, "--opt") or None,
    )
    with api() as client:
        answer = client.post(api_path("networks"), json=body, params=query_params(engine))
    print_json(answer) if json else print(answer["id"])


@network_app.command(name="rm")
def network_rm(*networks: str, engine: EngineOpt = None, json: JsonFlag = False) -> int:
    """Remove networks.

    Parameters
    ----------
    networks
        Networks, by name or id.
    """
    return for_each(
        networks,
        lambda client, ref: client.delete(api_path("networks", ref), params=query_params(engine)),
        as_json=json,
        what="network",
    )


@network_app.command(name="prune")
def network_prune(
    *,
    force: PruneForce = False,
    filter: PruneFilters = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Remove the networks no container uses (after asking, unless -f).

    Parameters
    ----------
    filter
        Only those matching, e.g. label=a=b or until=24h (repeatable).
    """
    removes = "all custom networks not used by at least one container"
    prune("network", removes, force=force, engine=engine, as_json=json, filters=filter)


add_inspect(
    network_app,
    "network",
    lambda ref: api_path("networks", ref),
    "Networks, by name or id.",
    SUMMARY_JSON,
)
