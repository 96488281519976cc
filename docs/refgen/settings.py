"""The settings reference: every key of the core's sections and of each plugin's section,
with its type, default, environment variable and docstring."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import msgspec
import msgspec.inspect as mi

from refgen.markdown import code, prose, table
from skyport import config
from skyport.config import ENV_PREFIX, Settings
from skyport.config_file import field_docs

_INTERNAL = frozenset({"plugins_config", "config_file"})
_SHORT_NAMES = {path: name for name, path in config._SHORT_ENV.items()}
_SHORT_NAMES[("plugins", "disabled")] = "SKYPORT_DISABLE_PLUGINS"  # added to the file's list
HEADERS = ("key", "type", "default", "environment", "what it is")


def page(plugin_types: dict[str, type]) -> str:
    lines = [
        "# Settings",
        "",
        "Every setting, generated from the settings types of the core (`skyport.config`) "
        "and of each installed plugin (its `register_config` hook). "
        "[Configuration](../guides/configuration.md) explains where they are read from.",
        "",
        prose(inspect.getdoc(config) or ""),
        "## Core",
        "",
    ]
    top_level = [f for f in mi.type_info(Settings).fields if f.name not in _INTERNAL]
    docs = field_docs(Settings)
    scalars = [f for f in top_level if not isinstance(f.type, mi.StructType)]
    lines.append(table(HEADERS, (row((f.name,), f, docs.get(f.name, "")) for f in scalars)))
    for section in top_level:
        if isinstance(section.type, mi.StructType):
            lines += [f"### {section.name}", "", section_table((section.name,), section.type)]
    for name, settings_type in sorted(plugin_types.items()):
        lines += [
            f"## {name} {{#plugin-{name}}}",
            "",
            f"The `{name}` plugin's section, `{type_name(settings_type)}`.",
            "",
            section_table((name,), mi.type_info(settings_type)),
        ]
    return "\n".join(lines)


def section_table(path: tuple[str, ...], struct: Any) -> str:
    return table(HEADERS, rows(path, struct))


def rows(path: tuple[str, ...], struct: Any) -> Iterator[list[str]]:
    docs = field_docs(struct.cls)
    for field in struct.fields:
        yield row((*path, field.name), field, docs.get(field.name, ""))
        if (item := _struct_inside(field.type)) is not None:
            key = "<name>" if isinstance(field.type, mi.DictType) else "[]"
            yield from rows((*path, field.name, key), item)


def row(path: tuple[str, ...], field: Any, doc: str) -> list[str]:
    in_collection = "<name>" in path or "[]" in path
    environment = "" if in_collection else env_var(path)
    key = ".".join(path).replace(".[]", "[]")
    return [code(key), describe(field.type), default(field), environment, doc]


def env_var(path: tuple[str, ...]) -> str:
    names = [ENV_PREFIX + "__".join(path).upper()] if len(path) > 1 else []
    if short := _SHORT_NAMES.get(path):
        names.append(short)
    return ", ".join(code(n) for n in names)


def default(field: Any) -> str:
    if field.required:
        return "required"
    value = field.default_factory() if field.default is msgspec.NODEFAULT else field.default
    return code(msgspec.json.encode(value).decode())


def describe(t: Any) -> str:
    """A settings type in words: ``float > 0``, ``list of str``, ``str or null``."""
    if isinstance(t, mi.UnionType):
        return " or ".join(describe(member) for member in t.types)
    if isinstance(t, mi.ListType):
        return f"list of {describe(t.item_type)}"
    if isinstance(t, mi.DictType):
        return f"mapping of {describe(t.key_type)} to {describe(t.value_type)}"
    if isinstance(t, mi.StructType):
        return type_name(t.cls)
    if isinstance(t, mi.LiteralType):
        return " or ".join(code(repr(v)) for v in t.values)
    name = type(t).__name__.removesuffix("Type").lower()
    return " ".join([name, *_constraints(t)])


def _constraints(t: Any) -> list[str]:
    words = []
    for attribute, symbol in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
        if (bound := getattr(t, attribute, None)) is not None:
            words.append(f"{symbol} {bound}")
    if pattern := getattr(t, "pattern", None):
        words.append(f"matching {code(pattern)}")
    return [", ".join(words)] if words else []


def type_name(cls: type) -> str:
    return cls.__name__


def _struct_inside(t: Any) -> Any:
    if isinstance(t, mi.ListType):
        t = t.item_type
    elif isinstance(t, mi.DictType):
        t = t.value_type
    return t if isinstance(t, mi.StructType) else None
