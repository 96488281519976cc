"""The ``deploy`` section of SkyPort's settings (``SKYPORT_DEPLOY__<KEY>``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]


class DeploySettings(msgspec.Struct, forbid_unknown_fields=True):
    listen: str = "127.0.0.1"
    """The address the commands SkyPort writes make apps listen on (a static site's web
    server, a Python app's server), also given to every app as ``HOST``: ``0.0.0.0`` to
    reach them from other machines (or put a reverse proxy in front)."""
    first_port: Port = 3000
    """Apps deployed without a port, whose project names none, get the first free port from
    here on."""
    static_image: str = "busybox:stable"
    """The image whose ``httpd`` serves static sites (BusyBox's web server)."""
    python_image: str = "python:3.12-slim"
    """The base image of Python apps deployed to Docker."""
    go_image: str = "golang:1.22"
    """The image Go apps are built in (the app itself runs from an empty image)."""
    python: str = "python3"
    """The Python that makes a Python app's virtual environment on this server."""
    health_timeout: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    """Seconds a new version has to answer on its port before the deploy fails."""
    build_timeout: Annotated[float, msgspec.Meta(gt=0)] = 900.0
    """Seconds a build (an image build, ``npm ci``) may take."""
    max_upload: Annotated[int, msgspec.Meta(gt=0)] = 200 << 20
    """The largest project upload (tar.gz bytes) the API takes."""
    max_unpacked: Annotated[int, msgspec.Meta(gt=0)] = 1 << 30
    """The most an upload or a checkout may hold once unpacked."""
    git_timeout: Annotated[float, msgspec.Meta(gt=0)] = 300.0
    """Seconds a ``git clone`` may take."""
    log_lines: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20
    """Lines of the app's output shown when it fails to answer."""
