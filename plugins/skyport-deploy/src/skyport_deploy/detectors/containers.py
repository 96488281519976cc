"""Projects that say themselves how to run in containers: a Dockerfile, a Compose file."""

from __future__ import annotations

import re
from typing import Any

import yaml

from skyport_deploy.plans import Detection, Evidence, Plan
from skyport_deploy.settings import DeploySettings
from skyport_deploy.tree import ProjectTree

DOCKERFILES = ("Dockerfile", "dockerfile", "Containerfile")
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
EXPOSE = re.compile(r"^\s*EXPOSE\s+(\d+)", re.IGNORECASE | re.MULTILINE)
USES_PORT = re.compile(r"\$\{?PORT\b")
PUBLISHED = re.compile(r"^(?:[\d.]+:)?(\$\{PORT[^}]*\}|\d+):\d+(?:/\w+)?$")


def detect_dockerfile(tree: ProjectTree, settings: DeploySettings) -> Detection | None:
    """A Dockerfile: build it, run the image as a container."""
    path = tree.first(*DOCKERFILES)
    if path is None:
        return None
    text = tree.read(path)
    evidence = [Evidence(path)]
    port = None
    exposed = EXPOSE.search(text)
    if exposed:
        port = int(exposed.group(1))
        evidence.append(Evidence(path, f"EXPOSE {port}"))
    reads_port = bool(USES_PORT.search(text))
    if reads_port:
        evidence.append(Evidence(path, "uses $PORT"))
    notes = ["the container shares the host's network: the app listens on the port itself"]
    if not reads_port:
        notes.append(
            "the Dockerfile does not use $PORT: the app is taken to listen on "
            f"{port or 'the port given'} whatever PORT says, so a redeploy stops the old "
            "version before starting the new one"
        )
    plan = Plan(
        target="docker",
        targets=("docker",),
        build=[f"docker build -f {path} ."],
        start="the image's own command",
        port=port,
        reads_port=reads_port,
        notes=notes,
        dockerfile=path,
    )
    return Detection(type="dockerfile", evidence=evidence, plan=plan)


def detect_compose(tree: ProjectTree, settings: DeploySettings) -> Detection | None:
    """A Compose file: ``up`` as a stack named after the app."""
    path = next((p for p in COMPOSE_FILES if p in tree.top), None)
    if path is None:
        return None
    text = tree.read(path)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from None
    services = (document or {}).get("services") if isinstance(document, dict) else None
    if not isinstance(services, dict) or not services:
        return None
    evidence = [Evidence(path, f"services: {', '.join(map(str, services))}")]
    port = _published_port(services)
    if port is not None:
        evidence.append(Evidence(path, f"publishes port {port}"))
    reads_port = bool(USES_PORT.search(text))
    if reads_port:
        evidence.append(Evidence(path, "uses ${PORT}"))
    builds = [name for name, s in services.items() if isinstance(s, dict) and "build" in s]
    notes = []
    if builds:
        notes.append(
            f"services {', '.join(map(str, builds))} build from the project: that needs "
            "the docker:host scope (a build reads files of this host)"
        )
    plan = Plan(
        target="docker",
        targets=("docker",),
        build=["docker compose pull/build (what is missing)"],
        start=f"docker compose -f {path} up -d",
        port=port,
        reads_port=reads_port,
        notes=notes,
        compose_file=path,
    )
    return Detection(type="compose", evidence=evidence, plan=plan)


def _published_port(services: dict[str, Any]) -> int | None:
    """The first fixed host port a service publishes."""
    for service in services.values():
        if not isinstance(service, dict):
            continue
        for spec in service.get("ports") or []:
            if isinstance(spec, dict) and isinstance(spec.get("published"), (int, str)):
                published = str(spec["published"])
                if published.isdigit():
                    return int(published)
            match = PUBLISHED.match(str(spec))
            if match and match.group(1).isdigit():
                return int(match.group(1))
    return None
