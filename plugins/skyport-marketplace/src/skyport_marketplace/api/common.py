"""What every marketplace route shares: scopes, the injected context, job answers."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from skyport.api import Principal, SkyportContext

READ = {"scope": "marketplace:read"}
INSTALL = {"scope": "marketplace:install"}
ADMIN = {"scope": "marketplace:admin"}

Skyport = SkyportContext
"""Annotation for the injected plugin context: ``skyport: Skyport``."""
AuthRequest = Request[Principal, Any, Any]


class JobStarted(msgspec.Struct, frozen=True):
    """Work begun: follow it on ``marketplace.jobs:<job>`` or at ``GET /jobs/{job}``."""

    job: str
