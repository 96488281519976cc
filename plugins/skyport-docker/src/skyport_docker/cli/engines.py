"""``engine ls|inspect|check|add|rm``: the Docker engines the server reaches."""

from __future__ import annotations

import sys
from typing import Any

from skyport.cli.common import api
from skyport.cli.output import (
    Column,
    JsonFlag,
    print_fields,
    print_json,
    print_table,
)
from skyport_docker.cli.base import (
    api_path,
    engine_app,
    fields,
    for_each,
    query_params,
)


@engine_app.command(name="ls")
def engine_ls(*, no_check: bool = False, json: JsonFlag = False) -> None:
    """List the Docker engines and whether each answers.

    Parameters
    ----------
    no_check
        Do not contact the engines.
    """
    with api() as client:
        rows = client.get(api_path("engines"), params=query_params(check=not no_check))
    if json:
        print_json(rows)
        return
    columns: list[Column] = [
        ("NAME", lambda r: r["name"]),
        ("URL", lambda r: r["url"]),
        ("SOURCE", lambda r: r["source"]),
        ("TLS", lambda r: r["tls"]),
        ("STATUS", _engine_status),
    ]
    print_table(rows, columns)


def _engine_status(row: dict[str, Any]) -> str:
    if row.get("available") is None:
        return "-"
    if not row["available"]:
        return f"down: {row.get('error') or 'no answer'}"
    return f"up (Docker {row['version']})" if row.get("version") else "up"


@engine_app.command(name="inspect")
def engine_inspect(name: str, /) -> None:
    """Contact an engine and show what it says about itself (JSON).

    Parameters
    ----------
    name
        The engine.
    """
    with api() as client:
        print_json(client.get(api_path("engines", name)))


@engine_app.command(name="check")
def engine_check(name: str = "local", /, *, json: JsonFlag = False) -> int:
    """Check that SkyPort and its Compose tool both reach an engine (exit 1 if not).

    Parameters
    ----------
    name
        The engine.
    """
    with api() as client:
        answer = client.get(api_path("engines", name, "check"))
    if json:
        print_json(answer)
    else:
        engine = answer["engine_error"] or f"up (Docker {answer['version']})"
        compose = answer["compose_error"] or "reaches it"
        print_fields(
            [
                ("engine", f"{answer['name']} ({answer['url']}): {engine}"),
                ("compose", f"{answer['compose'] or '(none found)'}: {compose}"),
            ]
        )
    return 0 if answer["ok"] else 1


@engine_app.command(name="add")
def engine_add(
    name: str,
    url: str,
    /,
    *,
    tls_ca: str | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    no_check: bool = False,
    insecure: bool = False,
    json: JsonFlag = False,
) -> None:
    """Add a remote engine: ssh://user@host or tcp://host:2376 with TLS (needs docker:engines).

    Parameters
    ----------
    name
        What to call it (--engine NAME).
    url
        ssh://user@host[:port], tcp://host:2376 or unix:///path/to/docker.sock.
    tls_ca
        The CA certificate that signed the engine's (a path on the server).
    tls_cert
        The client certificate (a path on the server).
    tls_key
        The client key (a path on the server).
    no_check
        Add it without contacting it first.
    insecure
        Accept tcp:// without TLS: the engine's API (root on its host) travels unencrypted.
    """
    body = fields(
        name=name,
        url=url,
        tls_ca=tls_ca,
        tls_cert=tls_cert,
        tls_key=tls_key,
        check=False if no_check else None,
        insecure=insecure or None,
    )
    with api() as client:
        answer = client.post(api_path("engines"), json=body)
    if answer.get("insecure"):
        print(f"warning: engine {name} has no TLS: its API travels unencrypted", file=sys.stderr)
    if json:
        print_json(answer)
    elif answer.get("version"):
        print(f"Engine {name} added: Docker {answer['version']} at {url}.")
    else:
        print(f"Engine {name} added ({url}).")


@engine_app.command(name="rm")
def engine_rm(*names: str, json: JsonFlag = False) -> int:
    """Remove engines added through SkyPort (those from the settings file stay).

    Parameters
    ----------
    names
        Engine names.
    """
    return for_each(
        names,
        lambda client, ref: client.delete(api_path("engines", ref)),
        as_json=json,
        what="engine",
    )
