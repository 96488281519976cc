"""A release as the deployers take it: the plan made an app template (and an image build).

``pm2`` runs the app in its folder (``node`` templates: the build steps as the
install command, the start script with its arguments); ``docker`` builds the
project's Dockerfile (or one written from the plan) into the image
``skyport-deploy/<app>:<release>`` and runs it on the host's network; a
Compose project becomes a stack. ``$PORT`` and ``$HOST`` in the plan's
arguments are replaced by the release's port and listening address.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from skyport.api import AppTemplate, ContainerSpec, ImageBuild, NodeSpec, StackSpec
from skyport_deploy.plans import Detection, Target

GENERATED_DOCKERFILE = ".skyport.Dockerfile"
"""Where a Dockerfile SkyPort wrote from the plan goes, in the release's folder."""
APP_LABEL = "skyport.deploy"
Kind = Literal["container", "stack", "node"]
KINDS: dict[Target, Kind] = {"pm2": "node", "docker": "container"}


def kind_of(detection: Detection, target: Target) -> Kind:
    """The template kind (hence the deployer) the release needs."""
    return "stack" if detection.type == "compose" else KINDS[target]


def image_of(app: str, number: int) -> str:
    return f"skyport-deploy/{app}:{number}"


def template(
    detection: Detection,
    target: Target,
    folder: Path,
    app: str,
    number: int,
    *,
    port: int,
    host: str,
    build: bool,
) -> tuple[AppTemplate, ImageBuild | None]:
    """The app template of the release; with ``build`` its build steps run (an image build,
    the install command), without it the release's image or folder is used as built."""
    plan, kind = detection.plan, kind_of(detection, target)
    identity = f"deploy:{app}"
    if kind == "stack":
        compose = (folder / plan.compose_file).read_text()
        return AppTemplate(identity, app, kind, stack=StackSpec(compose=compose)), None
    args = [a.replace("$PORT", str(port)).replace("$HOST", host) for a in plan.args]
    if kind == "node":
        node = NodeSpec(
            repository=str(folder),
            start=plan.script,
            install=plan.install if build else "",
            args=tuple(args),
        )
        return AppTemplate(identity, app, kind, node=node), None
    container = ContainerSpec(
        image=image_of(app, number),
        network_mode="host",
        restart="unless-stopped",
        labels={APP_LABEL: app},
    )
    image_build = None
    if build:
        dockerfile = plan.dockerfile
        if not dockerfile:
            (folder / GENERATED_DOCKERFILE).write_text(plan.generated_dockerfile)
            dockerfile = GENERATED_DOCKERFILE
        image_build = ImageBuild(folder, dockerfile)
    return AppTemplate(identity, app, kind, container=container), image_build
