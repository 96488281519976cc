"""The deploy plugin's hooks: what it adds to SkyPort, and nothing else."""

from __future__ import annotations

from skyport.api import Permission, hookimpl
from skyport_deploy.settings import DeploySettings


@hookimpl
def register_config() -> type:
    return DeploySettings


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("deploy:read", "See deployed apps, their releases and logs"),
        Permission("deploy:write", "Deploy, roll back and remove apps", "write"),
    ]


@hookimpl
def register_commands() -> str:
    return "skyport_deploy.cli:app"
