"""SkyPort: a self-hosted infrastructure platform built from plugins.

Importing this package does nothing but define the plugin markers: a plugin
writes ``from skyport import hookimpl`` and decorates its hook functions.
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

PROJECT_NAME = "skyport"
"""The pluggy project name and the entry-point group plugins are found in."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

try:
    __version__ = version("skyport")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["PROJECT_NAME", "__version__", "hookimpl", "hookspec"]
