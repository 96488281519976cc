"""MkDocs hooks: the reference pages, generated from the code on every build.

Nothing under ``docs/reference/`` is committed: the CLI, HTTP API, WebSocket topics,
scopes, settings and hooks are read from the installed core and plugins each time the
site is built (``mkdocs build`` or ``mkdocs serve``), so they cannot fall behind.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from refgen import api, cli, plugin_hooks, scopes, settings, system, topics


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Add the Reference section to the navigation (one CLI page per installed plugin)."""
    command_line = ["reference/cli/index.md"]
    command_line += [f"reference/cli/{name}.md" for name in cli.plugin_groups()]
    reference: list[Any] = [
        {"Command line": command_line},
        {"HTTP API": "reference/api.md"},
        {"WebSocket topics": "reference/topics.md"},
        {"Scopes": "reference/scopes.md"},
        {"Settings": "reference/settings.md"},
        {"Hooks": "reference/hooks.md"},
    ]
    config.nav = [*(config.nav or []), {"Reference": reference}]
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Generate the reference pages into the build's file list."""
    snapshot = system.snapshot()
    pages = {
        **cli.pages(),
        "reference/api.md": api.page(snapshot.openapi, snapshot.scopes),
        "reference/topics.md": topics.page(snapshot.topics, snapshot.websockets),
        "reference/scopes.md": scopes.page(snapshot.permissions),
        "reference/settings.md": settings.page(snapshot.settings_types),
        "reference/hooks.md": plugin_hooks.page(),
    }
    for path, markdown in pages.items():
        files.append(File.generated(config, path, content=markdown))
    return files
