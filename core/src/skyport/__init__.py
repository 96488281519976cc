"""SkyPort: a self-hosted infrastructure platform built from plugins.

Importing this package does nothing: a plugin writes ``from skyport import
hookimpl`` and decorates its hook functions; the markers (and pluggy) load
on first use, so ``skyport --help`` pays for neither.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pluggy

    hookspec: pluggy.HookspecMarker
    hookimpl: pluggy.HookimplMarker
    __version__: str

PROJECT_NAME = "skyport"
"""The pluggy project name and the entry-point group plugins are found in."""


@cache
def _markers() -> tuple[Any, Any]:
    import pluggy

    return pluggy.HookspecMarker(PROJECT_NAME), pluggy.HookimplMarker(PROJECT_NAME)


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("skyport-core")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def __getattr__(name: str) -> Any:
    if name == "hookspec":
        return _markers()[0]
    if name == "hookimpl":
        return _markers()[1]
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'skyport' has no attribute {name!r}")


__all__ = ["PROJECT_NAME", "__version__", "hookimpl", "hookspec"]
