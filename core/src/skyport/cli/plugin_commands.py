"""Plugin command groups, built only when one runs (``skyport <plugin> …``).

The root app registers each installed plugin as the lazy command
``skyport.cli.plugin_commands:<name>``, with the help text taken from its
distribution's metadata: listing them imports no plugin code. When cyclopts
resolves one, this module's ``__getattr__`` imports that plugin alone, calls
its ``register_commands`` hook and returns the cyclopts ``App`` it gives
(directly or as a ``"module:attr"`` path). A plugin that is disabled, fails
to load or has no commands gets a stand-in group that says so.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Sequence
from functools import cache
from importlib.metadata import EntryPoint, EntryPoints
from typing import Any, cast

from cyclopts import App

from skyport import PROJECT_NAME
from skyport.cli.output import CliError

_built: dict[str, App] = {}


def installed(taken: Collection[str] = ()) -> Sequence[tuple[str, str]]:
    """``(name, summary)`` of every installed plugin, from metadata only.

    The same query as :func:`skyport.plugins.discover_entry_points`, made
    without importing the plugin manager (msgspec, pluggy hooks) so that
    ``skyport --help`` stays fast. Names in ``taken`` (core commands) are
    left out; the plugin manager refuses those names anyway.
    """
    return [
        (ep.name, _summary(ep) or f"Commands of the {ep.name} plugin.")
        for ep in _entry_points(PROJECT_NAME)
        if ep.name not in taken
    ]


@cache
def _all_entry_points() -> EntryPoints:
    """Every installed entry point: one scan of the installed distributions.

    (Python 3.11 answers with its deprecated ``SelectableGroups``, whose ``select``
    gives the same ``EntryPoints`` as 3.12's.)
    """
    from importlib.metadata import entry_points

    return cast(EntryPoints, entry_points())


def _entry_points(group: str) -> EntryPoints:
    return _all_entry_points().select(group=group)


ALIAS_GROUP = "skyport.aliases"
"""Entry points naming a shorter command for a plugin's group or command: ``market =
"marketplace"`` makes ``skyport market …`` run ``skyport marketplace …``, ``detect = "deploy
detect"`` makes ``skyport detect …`` run ``skyport deploy detect …``."""


def aliases(taken: Collection[str] = ()) -> dict[str, list[str]]:
    """``alias -> command words`` of every installed alias, from metadata only; an alias
    that would hide a command, or that names no installed plugin, is left out."""
    plugins = {ep.name for ep in _entry_points(PROJECT_NAME)}
    found = {}
    for ep in _entry_points(ALIAS_GROUP):
        words = ep.value.split()
        if ep.name not in taken and ep.name not in plugins and words and words[0] in plugins:
            found[ep.name] = words
    return found


def __getattr__(name: str) -> App:
    if name.startswith("__"):
        raise AttributeError(name)
    if name not in _built:
        _built[name] = build(name)
    return _built[name]


def build(name: str) -> App:
    """The command group of plugin ``name``, named ``name``."""
    from skyport.plugins import PluginManager, discover_entry_points

    entry = next((ep for ep in discover_entry_points() if ep.name == name), None)
    if entry is None:
        return _unavailable(name, f"no plugin named {name!r} is installed")
    if name in _disabled():
        return _unavailable(name, f"plugin {name!r} is disabled (plugins.disabled)")
    manager = PluginManager(use_entry_points=False, include_builtin=False)
    try:
        manager.register(entry.load(), name)
    except Exception as exc:
        return _unavailable(name, f"plugin {name!r} failed to load: {type(exc).__name__}: {exc}")
    results = dict(manager.call_each("register_commands"))
    if manager.records[name].status == "failed":
        return _unavailable(name, f"plugin {name!r}: {manager.records[name].error}")
    commands = results.get(name)
    if commands is None:
        return _unavailable(name, f"plugin {name!r} has no commands")
    try:
        app = _resolve(commands)
    except Exception as exc:
        return _unavailable(name, f"plugin {name!r}: bad register_commands result: {exc}")
    return _named(app, name, _summary(entry))


def _resolve(commands: Any) -> App:
    if isinstance(commands, str):
        module, _, attr = commands.partition(":")
        if not module or not attr:
            raise ValueError(f"{commands!r} is not a 'module:attr' path")
        commands = getattr(importlib.import_module(module), attr)
    if not isinstance(commands, App):
        raise TypeError(f"expected a cyclopts App, got {type(commands).__name__}")
    return commands


def _named(app: App, name: str, summary: str) -> App:
    """Make the plugin's App answer to ``name`` (cyclopts checks the lazy name)."""
    if app.name[0] != name:
        app._name = (name,)  # no public setter; the App is the plugin's to give
    if not app.help and summary:
        app.help = summary
    return app


def _unavailable(name: str, reason: str) -> App:
    """A group that reports ``reason`` as the usual one-line error, whatever is asked."""
    stand_in = App(name=name, help=f"(unavailable: {reason})")

    @stand_in.default
    def explain(*_args: str) -> None:
        raise CliError(reason)

    return stand_in


def _disabled() -> frozenset[str]:
    from skyport.config import ConfigError, load_settings

    try:
        return frozenset(load_settings().plugins.disabled)
    except ConfigError:
        return frozenset()


def _summary(entry: EntryPoint) -> str:
    return (entry.dist.metadata["Summary"] or "") if entry.dist else ""
