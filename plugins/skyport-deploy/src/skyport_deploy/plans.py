"""What detection answers: the project's type, the evidence that decided it, and the plan.

A :class:`Plan` says in words how the project is built and started (for
people: ``skyport deploy detect``) and, in its machine fields, what the
deployer is handed (:mod:`skyport_deploy.templates` turns it into an app
template). ``$PORT`` and ``$HOST`` in ``args`` and in a generated
Dockerfile's command stand for the port and address the app is given.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Target = Literal["docker", "pm2"]
Redeploy = Literal["trial", "replace"]


class Evidence(msgspec.Struct, frozen=True):
    """A file (and the field in it) that decided something about the project."""

    file: str
    detail: str = ""
    """``scripts.start = "node server.js"``, ``EXPOSE 8080`` …"""


class Plan(msgspec.Struct, kw_only=True):
    """How the project is built, started and reached."""

    target: Target
    """Where it runs by default: ``docker`` (a container or a Compose stack) or ``pm2``."""
    targets: tuple[Target, ...]
    """Where it can run (``--target`` picks one of them)."""
    build: list[str] = msgspec.field(default_factory=list)
    """Commands run first, in order, in the app's folder (``npm ci``, ``npm run build``);
    for Docker the image build."""
    start: str
    """What runs the app, as a command line."""
    port: int | None = None
    """The port the project asks for (``EXPOSE``, a Compose port, its framework's habit);
    None: SkyPort picks a free one. ``--port`` overrides it."""
    reads_port: bool = True
    """Whether the app listens on ``$PORT``: a redeploy then proves the new version on a
    trial port before replacing the old one (``trial``); otherwise the old one is stopped
    first and started again if the new one does not answer (``replace``)."""
    env: dict[str, str] = msgspec.field(default_factory=dict)
    """Environment the plan sets (``NODE_ENV=production``), besides ``PORT``."""
    notes: list[str] = msgspec.field(default_factory=list)
    # -- handed to the deployer ------------------------------------------------
    install: str = ""
    """PM2: the shell command run in the app's folder before it starts (the build steps)."""
    script: str = ""
    """PM2: the program to run, relative to the app's folder (or on ``PATH``: ``npm``)."""
    interpreter: str = ""
    """PM2: what runs ``script`` (``node``; ``none`` for an executable); empty: by extension."""
    args: list[str] = msgspec.field(default_factory=list)
    dockerfile: str = ""
    """Docker: the project's Dockerfile (relative path), built as the app's image."""
    generated_dockerfile: str = ""
    """Docker: a Dockerfile SkyPort writes into the app's copy and builds (static sites …)."""
    compose_file: str = ""
    """Compose: the project's Compose file (relative path)."""

    @property
    def redeploy(self) -> Redeploy:
        return "trial" if self.reads_port else "replace"


class Detection(msgspec.Struct, kw_only=True):
    """A project's type, why, and how it will run."""

    type: str
    """``dockerfile``, ``compose``, ``node``, ``python``, ``static``, ``go`` (or a plugin's)."""
    framework: str = ""
    """``Next.js``, ``FastAPI`` … when one was recognised."""
    evidence: list[Evidence]
    plan: Plan
    others: list[str] = msgspec.field(default_factory=list)
    """Other types the project also looks like (``--as`` picks one of them instead)."""
    files: int = 0
    """Files looked at (the walk skips dependencies, VCS data and build output)."""


class Ambiguous(Exception):
    """The project looks like several types equally: name one with ``--as``."""

    def __init__(self, candidates: list[Detection]) -> None:
        self.candidates = candidates
        types = ", ".join(d.type for d in candidates)
        super().__init__(f"the project could be any of: {types}; choose one with --as TYPE")


class Undetected(Exception):
    """No type fits the project (or not the one asked for), with what was looked for."""
