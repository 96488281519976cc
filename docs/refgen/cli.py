"""The command-line reference: every command of the cyclopts apps, the core's and each
installed plugin's group, with its arguments and options as ``--help`` shows them.

cyclopts' own Markdown generator does not descend into a group given as a meta app
(the docker plugin's), so the tree is walked here with cyclopts' public lookups.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import docstring_parser
from cyclopts import App

from refgen.markdown import code, table
from skyport.cli import app as root
from skyport.cli.plugin_commands import installed

_POSITIONAL = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.VAR_POSITIONAL,
)


def command_id(path: tuple[str, ...]) -> str:
    """The anchor of a command: ``skyport-docker-ps``."""
    return re.sub(r"[^a-z0-9]+", "-", " ".join(path).lower()).strip("-")


def plugin_groups() -> list[str]:
    return sorted(name for name, _ in installed())


def walk(path: tuple[str, ...], stack: list[App]) -> Iterator[tuple[tuple[str, ...], list[App]]]:
    """``(command path, app stack)`` of this command and every command under it."""
    yield path, stack
    app = stack[-1]
    skipped = {*app.help_flags, *app.version_flags}
    for name in app:
        if name in skipped:
            continue
        sub = app[name]
        if sub.show:
            yield from walk((*path, name), [*stack, sub])


def pages() -> dict[str, str]:
    """``{"reference/cli/index.md": …, "reference/cli/docker.md": …}``."""
    plugins = plugin_groups()
    core = [
        "# Command line",
        "",
        "Every `skyport` command, generated from the command-line apps; each plugin's group "
        "has its own page: " + ", ".join(f"[{p}]({p}.md)" for p in plugins) + ".",
        "",
    ]
    found = {"reference/cli/index.md": core}
    for name in plugins:
        found[f"reference/cli/{name}.md"] = [
            f"# skyport {name}",
            "",
            f"The commands of the `{name}` plugin, generated from its command-line app.",
            "",
        ]
    for path, stack in walk(("skyport",), [root]):
        found[f"reference/cli/{page_of(path, plugins)}"] += command(path, stack, plugins)
    return {file: "\n".join(lines) for file, lines in found.items()}


def page_of(path: tuple[str, ...], plugins: list[str]) -> str:
    """The page a command is on: its plugin's, or the core's."""
    return f"{path[1]}.md" if len(path) > 1 and path[1] in plugins else "index.md"


def command(path: tuple[str, ...], stack: list[App], plugins: list[str]) -> list[str]:
    app = stack[-1]
    arguments = []
    if app.default_command is not None:
        with app.app_stack(stack):
            collection = app.assemble_argument_collection(parse_docstring=True)
        arguments = [a for a in collection if a.show]
    subcommands = [n for n in app if n not in {*app.help_flags, *app.version_flags}]
    doc = docstring_parser.parse(inspect.cleandoc(app.help or ""))
    lines = [f"## {code(' '.join(path))} {{#{command_id(path)}}}", ""]
    lines += ["```console", usage(path, arguments, bool(subcommands)), "```", ""]
    lines += [part for part in (doc.short_description, doc.long_description) if part]
    lines.append("")
    if arguments:
        headers = ("argument or option", "type", "default", "description")
        lines.append(table(headers, rows(arguments)))
    if subcommands:
        here = page_of(path, plugins)
        links = ", ".join(f"[`{n}`]({link(here, (*path, n), plugins)})" for n in subcommands)
        lines += [f"Commands: {links}.", ""]
    return lines


def link(here: str, path: tuple[str, ...], plugins: list[str]) -> str:
    there = page_of(path, plugins)
    return f"{'' if there == here else there}#{command_id(path)}"


def usage(path: tuple[str, ...], arguments: list[Any], has_subcommands: bool) -> str:
    words = [*path]
    if any(a.field_info.kind not in _POSITIONAL for a in arguments):
        words.append("[OPTIONS]")
    for argument in arguments:
        if argument.field_info.kind in _POSITIONAL:
            name = argument_name(argument)
            words.append(name if argument.required else f"[{name}]")
    if has_subcommands:
        words.append("COMMAND")
    return " ".join(words)


def argument_name(argument: Any) -> str:
    name = argument.field_info.name.upper().replace("_", "-")
    return f"{name}…" if argument.field_info.kind is inspect.Parameter.VAR_POSITIONAL else name


def rows(arguments: list[Any]) -> Iterator[list[str]]:
    for argument in arguments:
        names = [n for n in argument.names if n.startswith("-")]
        if argument.field_info.kind in _POSITIONAL:
            names.insert(0, argument_name(argument))
        default = argument.field_info.default
        shown = "" if default is inspect.Parameter.empty or default is None else code(repr(default))
        yield [
            ", ".join(code(n) for n in names),
            type_name(argument.hint),
            "**required**" if argument.required else shown,
            argument.parameter.help or "",
        ]


def type_name(hint: Any) -> str:
    text = hint.__name__ if isinstance(hint, type) else str(hint)
    text = re.sub(r"\btyping\.|\bpathlib\.|<class '([^']+)'>", r"\1", text)
    return code(text.replace(" | None", ""))
