"""Checking what a user asks to install: the install's name and the settings' values.

Every mistake is a 400 that names what is wrong: an unknown setting, a fixed
one changed, a required one missing, a value outside the offered choices.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from litestar.exceptions import ClientException

from skyport.api import AppTemplate

NAME_RULE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
"""A name every backend takes: a Compose project, a container, a PM2 process."""


def invalid(field: str, message: str) -> ClientException:
    return ClientException(f"{field}: {message}", extra={"field": field})


def check_name(name: str) -> str:
    if not NAME_RULE.match(name):
        raise invalid(
            "name",
            f"{name!r} is not a valid install name (lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit, at most 63 characters)",
        )
    return name


def check_values(template: AppTemplate, given: Mapping[str, str]) -> dict[str, str]:
    """Every setting's value: the user's, else the template's default (fixed ones as fixed)."""
    fields = {field.name: field for field in template.env}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        takes = ", ".join(f.name for f in template.env if not f.hidden) or "no settings"
        raise invalid(
            "values",
            f"unknown setting{'s' * (len(unknown) > 1)} {', '.join(unknown)} "
            f"(this app takes: {takes})",
        )
    changed = sorted(n for n, v in given.items() if fields[n].hidden and v != fields[n].default)
    if changed:
        raise invalid("values", f"{', '.join(changed)} cannot be changed: fixed by the template")
    values: dict[str, str] = {}
    missing = []
    for field in template.env:
        value = given.get(field.name, field.default)
        if any(c in value for c in "\n\r\0"):
            raise invalid(f"values.{field.name}", "a value must be one line")
        if field.choices and value and value not in {c.value for c in field.choices}:
            offered = ", ".join(repr(c.value) for c in field.choices)
            raise invalid(f"values.{field.name}", f"{value!r} is not one of {offered}")
        if field.required and not value:
            missing.append(field.name)
        values[field.name] = value
    if missing:
        raise invalid(
            "values", f"required setting{'s' * (len(missing) > 1)} missing: {', '.join(missing)}"
        )
    return values


def secret_names(template: AppTemplate) -> frozenset[str]:
    return frozenset(field.name for field in template.env if field.secret)
