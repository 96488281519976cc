"""The scopes reference: every scope the core and the installed plugins declare."""

from __future__ import annotations

from refgen.markdown import code, table
from skyport.types import Permission

ROLES = {"read": "viewer, operator, admin", "write": "operator, admin", "admin": "admin"}


def page(permissions: list[tuple[str, Permission]]) -> str:
    return "\n".join(
        [
            "# Scopes",
            "",
            "Every scope, generated from the `register_permissions` hook of the core and of "
            "each installed plugin. A scope's level decides which built-in roles hold it; "
            "custom roles and API tokens pick scopes by name. "
            "[Security](../guides/security.md) says which scopes are root-equivalent.",
            "",
            table(
                ("scope", "level", "built-in roles", "declared by", "what it allows"),
                (
                    (code(p.name), p.level, ROLES[p.level], plugin or "core", p.description)
                    for plugin, p in permissions
                ),
            ),
        ]
    )
