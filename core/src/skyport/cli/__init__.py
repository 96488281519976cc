"""The ``skyport`` command line.

Every command is registered lazily (an import path plus its help line), so
``skyport --help`` imports only cyclopts and the plugin metadata: no
Litestar, no HTTP client, no plugin code. Each command module imports what it
needs when it runs; plugin groups are built by :mod:`skyport.cli.plugin_commands`.
Failures are reported by :func:`main` as one line on stderr with a non-zero
exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from cyclopts import App, Group, Parameter

from skyport import __version__
from skyport.cli.plugin_commands import aliases, installed

app = App(
    name="skyport",
    help=(
        "SkyPort: manage servers, containers and processes from one place.\n\n"
        "Commands talk to the server you logged in to (skyport login URL) or the one in "
        "client.url / SKYPORT_URL; with neither, to an in-process server on this "
        "machine's data."
    ),
    version=__version__,
    default_parameter=Parameter(negative=()),
    help_format="plaintext",
)
_PLUGINS = Group("Plugins", sort_key=1)

_COMMANDS = {
    "serve": ("skyport.cli.serve:serve", "Run the SkyPort server (API, dashboard, /ws)."),
    "login": ("skyport.cli.session:login", "Log in to a SkyPort server; later commands use it."),
    "logout": ("skyport.cli.session:logout", "End the session and forget its token."),
    "passwd": ("skyport.cli.session:passwd", "Change your own password."),
    "status": ("skyport.cli.session:status", "Show server version, host, uptime and plugins."),
    "metrics": ("skyport.cli.metrics:metrics", "Show host metrics, once or live (--watch)."),
    "terminal": ("skyport.cli.terminal_cmd:terminal", "Open an interactive terminal (host, …)."),
    "tui": ("skyport.cli.tui_cmd:tui", "Open the full-screen terminal UI (live, k9s-style keys)."),
    "plugins": ("skyport.cli.plugins_cmd:plugins", "List plugins: loaded, failed, disabled."),
    "users": ("skyport.cli.users:app", "Manage user accounts."),
    "tokens": ("skyport.cli.tokens:app", "Create, list and revoke API tokens."),
    "config": ("skyport.cli.config_cmd:app", "Show the effective settings and their files."),
    "db": ("skyport.cli.db_cmd:app", "Show and apply database schema migrations."),
    "nodes": (
        "skyport.cli.nodes_cmd:nodes",
        "List the cluster's nodes: up or down, what each runs.",
    ),
}
for _name, (_path, _help) in _COMMANDS.items():
    app.command(_path, name=_name, help=_help)
for _name, _summary in installed(taken=_COMMANDS):
    app.command(f"skyport.cli.plugin_commands:{_name}", name=_name, help=_summary, group=_PLUGINS)
_ALIASES = aliases(taken=_COMMANDS)
for _alias, _words in _ALIASES.items():
    # Listed for --help; main() runs the command the alias names.
    app.command(App(name=_alias, help=f"Same as: skyport {' '.join(_words)}", group=_PLUGINS))
app.command(
    "skyport.cli.completion:install",
    name="--install-completion",
    help="Install shell completion for this application.",
)


_NEEDS_EVERY_PLUGIN = frozenset({"metrics", "terminal", "tui"})
"""Core commands whose in-process server needs every plugin (collectors, terminals)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0, 1 on failure, 2 for bad settings or usage)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        args, node = _take_node(args)
    except ValueError as exc:
        print(f"skyport: error: {exc}", file=sys.stderr)
        return 2
    targeting = None
    if node is not None:
        from skyport.client import target_node

        targeting = target_node.set(node)
    command = next((a for a in args if not a.startswith("-")), None)
    if command in _ALIASES:  # `skyport market …` is `skyport marketplace …`
        at = args.index(command)
        args[at : at + 1] = _ALIASES[command]
        command = args[at]
    serving = None
    if command is not None and command not in _NEEDS_EVERY_PLUGIN:
        from skyport.client import local_plugins

        plugin = command if command not in _COMMANDS else None
        serving = local_plugins.set(frozenset({plugin} if plugin else ()))
    try:
        # Usage errors come back as exceptions, to be told in one line like the rest.
        result = app(args, result_action="return_value", print_error=False, exit_on_error=False)
        sys.stdout.flush()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `skyport … | head`: the reader left, so be quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        explained = _explain(exc)
        if explained is None:
            raise
        message, code = explained
        print(f"skyport: error: {message}", file=sys.stderr)
        return code
    finally:
        if serving is not None:
            serving.var.reset(serving)
        if targeting is not None:
            targeting.var.reset(targeting)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def _take_node(args: list[str]) -> tuple[list[str], str | None]:
    """Take ``--node NAME`` (any command: send it to that cluster node; ``all`` for
    listings of every node) out of the arguments, up to a ``--``."""
    end = args.index("--") if "--" in args else len(args)
    for i, arg in enumerate(args[:end]):
        if arg == "--node":
            if i + 1 >= end or args[i + 1].startswith("-"):
                raise ValueError("--node needs a node name (skyport nodes lists them), or all")
            return args[:i] + args[i + 2 :], args[i + 1]
        if arg.startswith("--node="):
            return args[:i] + args[i + 1 :], arg.partition("=")[2]
    return args, None


def _explain(exc: Exception) -> tuple[str, int] | None:
    """The one-line message and exit code for an expected failure, else ``None``."""
    from cyclopts import CycloptsError

    from skyport.cli.output import CliError
    from skyport.client import ClientError
    from skyport.config import ConfigError
    from skyport.plugins import PluginError

    if isinstance(exc, CycloptsError):
        words = [c for c in (exc.command_chain or ()) if c]
        usage = " ".join(["skyport", *words, "--help"])
        return f"{' '.join(str(exc).split())} (see '{usage}')", 2
    if isinstance(exc, CliError):
        return str(exc), exc.code
    if isinstance(exc, ClientError):
        return str(exc), 1
    if isinstance(exc, (ConfigError, PluginError)):
        return str(exc), 2
    return None
