"""``skyport docker …``: containers, images, volumes, networks, stacks and engines.

Every command calls ``/api/docker`` through the one SkyPort client (the
server you logged in to, or the API in-process), so it needs no Docker socket
of its own. Flags follow the docker CLI's names; ``--json`` prints the API's
JSON as it came; ``--engine NAME`` picks an engine (``all`` for listings).
Errors are the core's one-line messages with a non-zero exit code.

Keep the imports light: ``skyport docker --help`` imports this package,
never the docker SDK, Litestar or ``skyport_docker.api``. Each module adds
its commands to the groups of :mod:`skyport_docker.cli.base`.
"""

from skyport_docker.cli import (  # noqa: F401 - importing them registers their commands
    containers,
    engines,
    images,
    logs,
    networks,
    stacks,
    stats,
    volumes,
)
from skyport_docker.cli.base import app as commands

app = commands.meta
"""The ``docker`` group as its meta app, which ends ``run``'s and ``exec``'s options at their
operand (:func:`~skyport_docker.cli.base.options_end_at_operand`) before the commands parse."""
app.help = commands.help

__all__ = ["app"]
