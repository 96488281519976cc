"""``skyport deploy …``: detect a project, deploy it, and manage what was deployed.

``detect`` looks at a folder on this machine (no server needed). Deploying
packs the folder (without ``node_modules``, ``.git`` …), uploads it to the
server (or names a git URL the server clones), and follows the job on
``deploy.jobs:<id>``: its build and start output as it comes, then the URL.
"""

from __future__ import annotations

import json as jsonlib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import quote

from cyclopts import App, Parameter

from skyport.cli.common import api
from skyport.cli.jobs import follow
from skyport.cli.output import (
    CliError,
    JsonFlag,
    human_time,
    print_fields,
    print_json,
    print_table,
)

if TYPE_CHECKING:
    from skyport_deploy.plans import Evidence
    from skyport_deploy.settings import DeploySettings

app = App(
    name="deploy",
    help="Detect a project and run it on Docker or PM2; list, inspect, roll back, remove.",
    default_parameter=Parameter(negative=()),
)

AsType = Annotated[str | None, Parameter(name="--as", help="Take the project as this type.")]
Sets = Annotated[list[str] | None, Parameter(name=["--set", "-s"])]
PREFIX = "/api/deploy"
GIT_SOURCE = re.compile(r"^(https?|ssh|git)://|^[\w.-]+@[\w.-]+:")


def path(*parts: str) -> str:
    return PREFIX + "".join("/" + quote(part, safe="") for part in parts)


@app.default
def deploy(
    source: str = ".",
    *,
    name: str | None = None,
    port: int | None = None,
    env_file: Path | None = None,
    set: Sets = None,
    target: Literal["docker", "pm2"] | None = None,
    as_: AsType = None,
    ref: str = "",
    json: JsonFlag = False,
) -> int:
    """Build and start a project (a folder here, or a git URL the server clones), wait until
    it answers on its port, and print its URL. Deploying a name again replaces the running
    version only once the new one answers.

    Parameters
    ----------
    source
        The project's folder (default: the current one), or a git URL.
    name
        The app's name (default: the folder's or repository's name).
    port
        The port it gets as PORT (default: its previous one, the project's, or a free one).
    env_file
        A file of KEY=VALUE lines for the app (kept for later deploys).
    set
        A variable for the app, KEY=VALUE (repeatable; kept for later deploys).
    target
        Where it runs: docker or pm2 (default: the plan's).
    ref
        With a git URL: the branch or tag.
    """
    from skyport_deploy.sources import pack

    env = _env(env_file, set or [])
    git = bool(GIT_SOURCE.match(source))
    folder = Path(source)
    if not git and not folder.is_dir():
        raise CliError(f"{source}: not a folder (nor a git URL)")
    options: dict[str, Any] = {"name": name or _default_name(source, git), "env": env}
    options.update({k: v for k, v in {"port": port, "target": target, "type": as_}.items() if v})
    files: dict[str, Any] = {}
    if git:
        options.update(git=source, ref=ref)
    else:
        files["project"] = ("project.tar.gz", pack(folder), "application/gzip")
    files["options"] = (None, jsonlib.dumps(options))
    with api(every_plugin=True) as client:
        started = client.request("POST", path("apps"), files=files)
        return _follow(client, started["id"], json=json)


def _env(env_file: Path | None, sets: list[str]) -> dict[str, str]:
    from dotenv import dotenv_values

    env: dict[str, str] = {}
    if env_file is not None:
        if not env_file.is_file():
            raise CliError(f"--env-file {env_file}: no such file")
        env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"--set {item!r}: expected KEY=VALUE")
        env[key] = value
    return env


def _default_name(source: str, git: bool) -> str:
    stem = source.rstrip("/").rpartition("/")[2].removesuffix(".git") if git else ""
    stem = stem or Path(source).resolve().name
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40].strip("-") or "app"


def _follow(client: Any, job_id: str, *, json: bool) -> int:
    """Print the job's steps as they come (build and start output); its URL or why it failed."""
    release = follow(
        client,
        f"deploy.jobs:{job_id}",
        lambda: client.get(path("jobs", job_id)),
        "release",
        show="none" if json else "lines",
    )
    if json:
        print_json(release)
    elif release["state"] == "failed":
        raise CliError(f"deploy of {release['app']} failed: {release['error']}")
    return 0


@app.command
def detect(path: Path = Path("."), *, as_: AsType = None, json: JsonFlag = False) -> None:
    """Name the project's type, the evidence, and the plan: build, start, port, env.

    Parameters
    ----------
    path
        The project's folder (default: the current one).
    """
    from skyport_deploy.detectors import detect as detect_project
    from skyport_deploy.plans import Ambiguous, Undetected
    from skyport_deploy.tree import NotAProject

    try:
        found = detect_project(path, _local_settings(), as_)
    except (NotAProject, Undetected, Ambiguous) as exc:
        raise CliError(f"{path}: {exc}") from None
    if json:
        import msgspec

        print_json(msgspec.to_builtins(found))
        return
    plan = found.plan
    env = [f"{k}={v}" for k, v in plan.env.items()] + ["PORT and HOST (where to listen)"]
    print_fields(
        [
            ("type", f"{found.type} ({found.framework})" if found.framework else found.type),
            ("evidence", _evidence(found.evidence[0])),
            *(("", _evidence(e)) for e in found.evidence[1:]),
            ("target", " or ".join(plan.targets)),
            ("build", "; ".join(plan.build) or "nothing to build"),
            ("start", plan.start or "(none found)"),
            ("port", plan.port or "a free one"),
            ("env", env),
            ("redeploy", _redeploy(plan.redeploy)),
            ("also", [f"{t} (--as {t})" for t in found.others] or None),
        ]
    )
    for note in plan.notes:
        print(f"note: {note}")


def _evidence(evidence: Evidence) -> str:
    return f"{evidence.file}: {evidence.detail}" if evidence.detail else evidence.file


def _redeploy(kind: str) -> str:
    if kind == "trial":
        return "the new version must answer on a trial port before it replaces the old one"
    return "the old version stops first; it starts again if the new one does not answer"


def _local_settings() -> DeploySettings:
    from skyport.config import ConfigError, load_settings, plugin_settings
    from skyport_deploy.settings import DeploySettings

    try:
        settings: DeploySettings = plugin_settings(load_settings(), "deploy", DeploySettings)
        return settings
    except ConfigError as exc:
        raise CliError(str(exc), code=2) from None


# -- what was deployed -----------------------------------------------------------------------


@app.command(name="ls")
def list_apps(*, json: JsonFlag = False) -> None:
    """List deployed apps with their live status and URL."""
    with api(every_plugin=True) as client:
        rows = client.get(path("apps"))
    if json:
        print_json(rows)
        return
    print_table(
        rows,
        [
            ("NAME", lambda r: r["name"]),
            ("TYPE", lambda r: r["type"]),
            ("TARGET", lambda r: r["target"]),
            ("RELEASE", lambda r: r["live"]),
            (
                "STATUS",
                lambda r: (r["status"] or {}).get("state") or r["status_error"] or r["state"],
            ),
            ("URL", lambda r: r["url"]),
            ("UPDATED", lambda r: human_time(r["updated"])),
        ],
        empty="No app is deployed: skyport deploy PATH deploys one.",
    )


def _status(row: dict[str, Any]) -> str:
    return str((row["status"] or {}).get("state") or row["status_error"] or row["state"])


@app.command
def logs(name: str, *, lines: int = 100) -> None:
    """Print the last lines the app's live release wrote."""
    with api(every_plugin=True) as client:
        found = client.get(path("apps", name, "logs"), params={"lines": lines})
    for line in found["lines"]:
        print(line)


@app.command
def rollback(name: str, *, json: JsonFlag = False) -> None:
    """Go back to the previous release (kept stopped) once it answers."""
    with api(every_plugin=True) as client:
        shown = client.post(path("apps", name, "rollback"))
    if json:
        print_json(shown)
    else:
        print(f"{name}: release {shown['live']} is live at {shown['url']}")


@app.command
def rm(name: str, *, yes: bool = False) -> None:
    """Remove an app: every release's container, stack or process, and its files.

    Parameters
    ----------
    yes
        Do not ask (needed without a terminal).
    """
    if not yes:
        if not sys.stdin.isatty():
            raise CliError(f"removing {name} needs a yes: pass --yes (no terminal to ask)")
        if input(f"Remove {name} and all its releases? [y/N] ").strip().lower() not in ("y", "yes"):
            raise CliError("nothing removed")
    with api(every_plugin=True) as client:
        client.delete(path("apps", name))
    print(f"Removed {name}")
