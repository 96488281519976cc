"""SkyPort: a self-hosted infrastructure platform built from plugins.

Importing this package does nothing but define the plugin markers: a plugin
writes ``from skyport import hookimpl`` and decorates its hook functions.
"""

from typing import Any

import pluggy

PROJECT_NAME = "skyport"
"""The pluggy project name and the entry-point group plugins are found in."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)



def __getattr__(name: str) -> Any:
    # The version is read from the installed metadata only when asked for:
    # scanning distributions costs tens of milliseconds on every CLI start.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("skyport")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0.0.0"
    raise AttributeError(f"module 'skyport' has no attribute {name!r}")

__all__ = ["PROJECT_NAME", "__version__", "hookimpl", "hookspec"]
