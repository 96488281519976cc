"""``skyport marketplace …``: sources, search, show, install, installed apps, jobs.

Long work (installs, updates, uninstalls, refreshes) runs as a job on the
server; the commands follow it on ``marketplace.jobs:<id>`` with a progress
bar on a terminal (its steps as lines otherwise) and exit 1 if it failed.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal
from urllib.parse import quote

from cyclopts import App, Parameter

from skyport.cli.common import api
from skyport.cli.jobs import follow
from skyport.cli.output import CliError, JsonFlag, human_time, print_fields, print_json, print_table

app = App(
    name="marketplace",
    help="App marketplace: catalog sources, search, install, installed apps.",
    default_parameter=Parameter(negative=()),
)
source_app = App(name="source", help="Manage catalog sources: add, rm, refresh.")
app.command(source_app)

PREFIX = "/api/marketplace"
Sets = Annotated[list[str] | None, Parameter(name=["--set", "-s"])]
Kind = Literal["container", "stack", "node"]


def path(*parts: str) -> str:
    """``/api/marketplace/<parts>``, each part quoted whole."""
    return PREFIX + "".join("/" + quote(part, safe=":") for part in parts)


# -- sources -------------------------------------------------------------------------------


@app.command
def sources(*, json: JsonFlag = False) -> None:
    """List catalog sources: templates read, entries skipped, last read, last error."""
    with api() as client:
        rows = client.get(path("sources"))
    if json:
        print_json(rows)
        return
    print_table(
        rows,
        [
            ("NAME", lambda r: r["name"]),
            ("TYPE", lambda r: r["type"]),
            ("APPS", lambda r: r["templates"]),
            ("SKIPPED", lambda r: r["skipped"]),
            ("READ", lambda r: human_time(r["refreshed"])),
            ("ERROR", lambda r: r["error"] or ""),
            ("URL", lambda r: r["url"]),
        ],
        empty="No catalog sources: add one with 'skyport marketplace source add'.",
    )


@source_app.command(name="add")
def source_add(name: str, type: str, url: str, *, json: JsonFlag = False) -> int:
    """Add a catalog source and read it.

    Parameters
    ----------
    name
        What to call it (lower-case letters, digits, '-', '_').
    type
        Its format: portainer, casaos, umbrel, skyport (see 'skyport marketplace formats').
    url
        Where it is: https://…, file://… or an absolute path (a folder or zip for app stores).
    """
    with api() as client:
        added = client.post(path("sources"), json={"name": name, "type": type, "url": url})
        return _follow(client, added["job"], json=json)


@source_app.command(name="rm")
def source_rm(name: str) -> None:
    """Remove a catalog source added here (installed apps stay)."""
    with api() as client:
        client.delete(path("sources", name))
    print(f"Removed source {name}")


@source_app.command(name="refresh")
def source_refresh(name: str, *, json: JsonFlag = False) -> int:
    """Read a catalog source again now."""
    with api() as client:
        started = client.post(path("sources", name, "refresh"))
        return _follow(client, started["job"], json=json)


@app.command
def formats(*, json: JsonFlag = False) -> None:
    """List the catalog formats sources can have."""
    with api() as client:
        rows = client.get(path("formats"))
    if json:
        print_json(rows)
        return
    print_table(rows, [("TYPE", lambda r: r["type"]), ("DESCRIPTION", lambda r: r["description"])])


# -- the catalog -----------------------------------------------------------------------------


@app.command
def search(
    text: str = "",
    *,
    category: str | None = None,
    kind: Kind | None = None,
    source: str | None = None,
    page: int = 1,
    json: JsonFlag = False,
) -> None:
    """Search the catalog (title, description, categories), best matches first.

    Parameters
    ----------
    text
        Words to look for (all must match); none lists everything.
    """
    query = {"q": text, "category": category, "kind": kind, "source": source, "page": page}
    with api() as client:
        found = client.get(path("apps"), params={k: v for k, v in query.items() if v})
    if json:
        print_json(found)
        return
    print_table(
        found["items"],
        [
            ("ID", lambda r: r["id"]),
            ("TITLE", lambda r: r["title"]),
            ("KIND", lambda r: r["kind"]),
            ("CATEGORIES", lambda r: r["categories"]),
        ],
        empty="No app matches.",
    )
    shown = (found["page"] - 1) * found["per_page"] + len(found["items"])
    if found["total"] > shown:
        print(f"({shown} of {found['total']}; --page {found['page'] + 1} for more)")


@app.command
def show(app_id: str, *, json: JsonFlag = False) -> None:
    """Show an app: what it runs, its settings, and what installing it needs."""
    with api(every_plugin=True) as client:
        detail = client.get(path("apps", app_id))
    if json:
        print_json(detail)
        return
    spec = detail.get(detail["kind"]) or {}
    print_fields(
        [
            ("id", detail["id"]),
            ("title", detail["title"]),
            ("kind", detail["kind"]),
            ("source", detail["source"]),
            ("categories", detail["categories"]),
            ("image", spec.get("image")),
            ("compose", spec.get("compose_url") or ("inline" if spec.get("compose") else None)),
            ("code", spec.get("repository") if detail["kind"] == "node" else None),
            ("ports", [_port(p) for p in detail["ports"]]),
            ("volumes", [_volume(v) for v in detail["volumes"]]),
            ("installed by", detail["deployer"] or "no deployer for this kind"),
            ("you may install", detail["you_may_install"]),
        ]
    )
    for need in detail["requirements"]:
        print(f"needs {need['scope']}: {need['reason']}")
    if detail["env"]:
        print("\nsettings:")
        print_table(
            [e for e in detail["env"] if not e["hidden"]],
            [
                ("NAME", lambda e: e["name"]),
                ("DEFAULT", lambda e: e["default"]),
                ("REQUIRED", lambda e: e["required"]),
                ("CHOICES", lambda e: [c["value"] for c in e["choices"]]),
                ("LABEL", lambda e: e["label"]),
            ],
        )


def _port(port: dict[str, Any]) -> str:
    inside = f"{port['container']}/{port['protocol']}"
    return f"{port['host']}:{inside}" if port["host"] else inside


def _volume(volume: dict[str, Any]) -> str:
    return f"{volume['host'] or '(volume)'}:{volume['container']}"


@app.command
def install(
    app_id: str,
    *,
    name: str | None = None,
    set: Sets = None,
    json: JsonFlag = False,
) -> int:
    """Install an app; asks on a terminal for required settings not given.

    Parameters
    ----------
    app_id
        The app's id, <source>:<app> (see 'skyport marketplace search').
    name
        What to call the install (default: the app's id without its source).
    set
        A setting's value, KEY=VALUE (repeatable).
    """
    values = _pairs(set or [])
    with api(every_plugin=True) as client:
        detail = client.get(path("apps", app_id))
        for field in detail["env"]:
            wanted = field["required"] and not field["default"] and field["name"] not in values
            if wanted and sys.stdin.isatty():
                values[field["name"]] = _ask(field)
        body = {"name": name or app_id.rpartition(":")[2], "values": values}
        started = client.post(path("apps", app_id, "install"), json=body)
        return _follow(client, started["job"], json=json)


def _pairs(items: list[str]) -> dict[str, str]:
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"--set {item!r}: expected KEY=VALUE")
        values[key] = value
    return values


def _ask(field: dict[str, Any]) -> str:
    import getpass

    label = field["label"] or field["name"]
    if field["secret"]:
        return getpass.getpass(f"{label}: ")
    return input(f"{label}: ").strip()


# -- installed apps ----------------------------------------------------------------------------


@app.command
def installed(name: str | None = None, *, json: JsonFlag = False) -> None:
    """List installed apps with their live status (or show one)."""
    with api(every_plugin=True) as client:
        rows = client.get(path("installed", name)) if name else client.get(path("installed"))
    if json:
        print_json(rows)
        return
    print_table(
        rows if isinstance(rows, list) else [rows],
        [
            ("NAME", lambda r: r["name"]),
            ("APP", lambda r: r["app_id"]),
            ("KIND", lambda r: r["kind"]),
            ("STATE", lambda r: r["state"]),
            ("STATUS", lambda r: (r["status"] or {}).get("state") or r["status_error"] or "-"),
            ("BY", lambda r: r["created_by"]),
            ("SINCE", lambda r: human_time(r["created"])),
        ],
        empty="No app is installed.",
    )


@app.command
def uninstall(name: str, *, remove_data: bool = False, json: JsonFlag = False) -> int:
    """Remove an installed app (its data volumes stay unless --remove-data)."""
    with api(every_plugin=True) as client:
        params = {"remove_data": "true"} if remove_data else None
        started = client.delete(path("installed", name), params=params)
        return _follow(client, started["job"], json=json)


@app.command
def update(name: str, *, json: JsonFlag = False) -> int:
    """Fetch the newest image or code of an installed app and recreate it, keeping its data."""
    with api(every_plugin=True) as client:
        started = client.post(path("installed", name, "update"))
        return _follow(client, started["job"], json=json)


@app.command
def start(name: str, *, json: JsonFlag = False) -> None:
    """Start an installed app."""
    _act(name, "start", json)


@app.command
def stop(name: str, *, json: JsonFlag = False) -> None:
    """Stop an installed app."""
    _act(name, "stop", json)


def _act(name: str, action: str, json: bool) -> None:
    with api(every_plugin=True) as client:
        result = client.post(path("installed", name, action))
    if json:
        print_json(result)
    else:
        print(f"{name}: {(result['status'] or {}).get('state', result['state'])}")


@app.command
def job(job_id: str, *, json: JsonFlag = False) -> int:
    """Show a job (an install, update, uninstall or refresh), following it if it still runs."""
    with api() as client:
        return _follow(client, job_id, json=json)


# -- following a job ---------------------------------------------------------------------------


def _follow(client: Any, job_id: str, *, json: bool) -> int:
    """Show the job's steps as they come (a progress bar on a terminal); fail if it failed."""
    record = follow(
        client,
        f"marketplace.jobs:{job_id}",
        lambda: client.get(path("jobs", job_id)),
        "job",
        show="none" if json else "bar",
    )
    if json:
        print_json(record)
    elif record["state"] == "failed":
        raise CliError(f"{record['action']} {record['target']} failed: {record['error']}")
    else:
        print(f"{record['action']} {record['target']}: done")
    return 0
