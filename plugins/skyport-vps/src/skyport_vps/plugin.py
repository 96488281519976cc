"""The VPS plugin's hooks."""

from __future__ import annotations

from skyport.api import Permission, hookimpl


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("vps:read", "List servers, test connections, read files and metrics"),
        Permission("vps:run", "Run commands on servers", "write"),
        Permission("vps:write", "Add, change, trust and remove servers; upload files", "write"),
        Permission("vps:shell", "Open an interactive shell on a server (root-equivalent)", "admin"),
    ]
