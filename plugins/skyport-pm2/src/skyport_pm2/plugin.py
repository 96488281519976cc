"""The PM2 plugin's hooks."""

from __future__ import annotations

from skyport.api import Permission, hookimpl


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("pm2:read", "List and describe PM2 processes, read their logs"),
        Permission("pm2:write", "Start, stop, reload, scale and delete PM2 processes", "write"),
    ]
