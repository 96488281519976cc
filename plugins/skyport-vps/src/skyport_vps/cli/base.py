"""What every ``skyport vps`` command shares: the command group and small helpers."""

from __future__ import annotations

import os
import sys
from typing import Any
from urllib.parse import quote

from cyclopts import App, Parameter

app = App(
    name="vps",
    help="Servers over SSH: inventory, host keys, parallel commands, files, shell.",
    default_parameter=Parameter(negative=()),
)

PREFIX = "/api/vps"
COLOURS = (36, 33, 35, 32, 34, 96, 93, 95, 92, 94)
"""ANSI colours of per-server prefixes, in turn."""


def api_path(*parts: str) -> str:
    """``/api/vps/<parts>``, each part quoted whole."""
    return PREFIX + "".join("/" + quote(part, safe="") for part in parts)


def fields(**values: Any) -> dict[str, Any]:
    """A request body without the unset values."""
    return {k: v for k, v in values.items() if v is not None and v != [] and v is not False}


def use_colour(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ


def paint(text: str, colour: int, enabled: bool) -> str:
    return f"\x1b[{colour}m{text}\x1b[0m" if enabled else text
