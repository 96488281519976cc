"""The commented config file ``skyport config init`` writes: every section, every key at
its default, each with what it means (the settings types' field docstrings)."""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from collections.abc import Mapping
from typing import Any

import msgspec
import yaml

from skyport.config import Settings

HEADER = """\
# SkyPort settings. Precedence, lowest first: built-in defaults < this file <
# SKYPORT_* environment variables (SKYPORT_<SECTION>__<KEY>, e.g. SKYPORT_SERVER__PORT)
# < command-line flags. Every key below is commented out at its default: uncomment
# and change what you need. `skyport config show` prints the effective settings.
"""


def field_docs(struct_type: type) -> dict[str, str]:
    """``field -> docstring`` of a settings type (the string literal under each field)."""
    try:
        source = textwrap.dedent(inspect.getsource(struct_type))
    except (OSError, TypeError):
        return {}
    (node,) = ast.parse(source).body
    docs: dict[str, str] = {}
    body = node.body if isinstance(node, ast.ClassDef) else []
    for field, following in itertools.pairwise(body):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[field.target.id] = " ".join(following.value.value.split())
    return docs


def commented_defaults(plugin_sections: Mapping[str, type]) -> str:
    """The whole file: the core's sections, then one per plugin (``name -> settings type``)."""
    settings = Settings()
    core_docs = field_docs(Settings)
    parts = [HEADER]
    for name in Settings.__struct_fields__:
        if name in ("plugins_config", "config_file"):
            continue
        value = getattr(settings, name)
        if isinstance(value, msgspec.Struct):
            parts.append(_section(name, type(value), value, core_docs.get(name, "")))
        else:
            parts.append(_key(name, value, core_docs.get(name, ""), indent="") + "\n")
    for name, settings_type in sorted(plugin_sections.items()):
        try:
            defaults = settings_type()
        except TypeError:  # a plugin setting without a default: nothing to show
            continue
        parts.append(_section(name, settings_type, defaults, f"the {name} plugin"))
    return "\n".join(parts)


def _section(name: str, settings_type: type, value: Any, about: str) -> str:
    docs = field_docs(settings_type)
    lines = [f"# {name}:" + (f"  # {about}" if about else "")]
    for field in settings_type.__struct_fields__:  # type: ignore[attr-defined]
        lines.append(_key(field, getattr(value, field), docs.get(field, ""), indent="  "))
    return "\n".join(lines) + "\n"


def _key(name: str, value: Any, doc: str, indent: str) -> str:
    rendered = yaml.safe_dump(
        {name: msgspec.to_builtins(value)}, default_flow_style=True, width=1000
    ).strip()[1:-1]  # "{key: value}" -> "key: value"
    comment = f"  # {doc}" if doc else ""
    return f"#{indent} {rendered}{comment}".rstrip()
