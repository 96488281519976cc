"""``skyport deploy …``: detect a project, deploy it, and manage what was deployed.

``detect`` looks at a folder on this machine (no server needed). Deploying
packs the folder (without ``node_modules``, ``.git`` …), uploads it to the
server (or names a git URL the server clones), and follows the job on
``deploy.jobs:<id>``: its build and start output as it comes, then the URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from cyclopts import App, Parameter

from skyport.cli.output import CliError, JsonFlag, print_fields, print_json

if TYPE_CHECKING:
    from skyport_deploy.plans import Evidence
    from skyport_deploy.settings import DeploySettings

app = App(
    name="deploy",
    help="Detect a project and run it on Docker or PM2; list, inspect, roll back, remove.",
    default_parameter=Parameter(negative=()),
)

AsType = Annotated[str | None, Parameter(name="--as", help="Take the project as this type.")]


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
