"""Which type a project is: every detector looks, then the strongest answer wins.

A project that says how to run itself wins first (a Compose file, then a
Dockerfile); else its language (Node.js, Python, Go) — two languages that
can both run are ambiguous and need ``--as``; a static site is the last
resort. ``--as TYPE`` takes that type's answer whatever else matched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skyport_deploy.detectors.containers import detect_compose, detect_dockerfile
from skyport_deploy.detectors.go import detect_go
from skyport_deploy.detectors.node import detect_node
from skyport_deploy.detectors.python import detect_python
from skyport_deploy.detectors.static import detect_static
from skyport_deploy.plans import Ambiguous, Detection, Undetected
from skyport_deploy.settings import DeploySettings
from skyport_deploy.tree import ProjectTree

Detect = Callable[[ProjectTree, DeploySettings], Detection | None]


@dataclass(frozen=True)
class ProjectType:
    name: str
    description: str
    detect: Detect
    rank: int
    """0: the project's own recipe, 1: a language, 2: the last resort."""


TYPES = (
    ProjectType("compose", "a Compose file: up as a stack", detect_compose, 0),
    ProjectType("dockerfile", "a Dockerfile: built and run as a container", detect_dockerfile, 0),
    ProjectType("node", "package.json: run by PM2", detect_node, 1),
    ProjectType("python", "an ASGI/WSGI app: PM2 with a venv, or a container", detect_python, 1),
    ProjectType("go", "go.mod: built and run as a container", detect_go, 1),
    ProjectType("static", "index.html: served by a small web server container", detect_static, 2),
)
TYPE_NAMES = tuple(t.name for t in TYPES)


def detect(root: Path, settings: DeploySettings, as_type: str | None = None) -> Detection:
    """The project at ``root``: its type, evidence and plan.

    Raises :class:`~skyport_deploy.tree.NotAProject`, :class:`Undetected` or
    :class:`Ambiguous`, each with a message for the person who asked.
    """
    if as_type is not None and as_type not in TYPE_NAMES:
        raise Undetected(f"unknown type {as_type!r}: one of {', '.join(TYPE_NAMES)}")
    tree = ProjectTree(root)
    found: list[tuple[ProjectType, Detection]] = []
    problems = []
    for kind in TYPES:
        try:
            detection = kind.detect(tree, settings)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if detection is not None:
            detection.files = len(tree.files)
            found.append((kind, detection))
    chosen = _choose(found, as_type, problems)
    chosen.others = [d.type for _, d in found if d is not chosen]
    return chosen


def _choose(
    found: list[tuple[ProjectType, Detection]], as_type: str | None, problems: list[str]
) -> Detection:
    why = f" ({'; '.join(problems)})" if problems else ""
    if as_type is not None:
        asked = next((d for kind, d in found if kind.name == as_type), None)
        if asked is None:
            raise Undetected(f"this is not a {as_type} project: {_looked_for(as_type)}{why}")
        return asked
    if not found:
        raise Undetected(
            "no project found: no Dockerfile, Compose file, package.json, Python manifest, "
            f"go.mod or index.html{why}"
        )
    recipes = [d for kind, d in found if kind.rank == 0]
    if recipes:
        return recipes[0]
    languages = [d for kind, d in found if kind.rank == 1]
    runnable = [d for d in languages if d.plan.start]
    if len(runnable) > 1:
        raise Ambiguous(runnable)
    if runnable:
        return runnable[0]
    fallback = [d for kind, d in found if kind.rank == 2]
    return (fallback or languages)[0]


def _looked_for(as_type: str) -> str:
    kind = next(t for t in TYPES if t.name == as_type)
    return f"it needs {kind.description.partition(':')[0]}"
