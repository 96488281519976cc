"""The deploy plugin's hooks: what it adds to SkyPort, and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skyport.api import Permission, PluginContext, hookimpl
from skyport_deploy.settings import DeploySettings


@hookimpl
def register_config() -> type:
    return DeploySettings


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("deploy:read", "See deployed apps, their releases and logs; detect projects"),
        Permission("deploy:write", "Deploy, roll back and remove apps", "write"),
    ]


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def register_routes(skyport: PluginContext) -> list[Any]:
    from skyport_deploy.api import routes

    return routes(skyport.settings)


@hookimpl
def register_commands() -> str:
    return "skyport_deploy.cli:app"


@hookimpl
async def startup(skyport: PluginContext) -> None:
    from skyport_deploy.deploys import Deploys
    from skyport_deploy.records import TOPIC

    skyport.add_topic(TOPIC, scope="deploy:read")
    state = Deploys(skyport)
    await state.book.fail_interrupted()
    skyport.state["deploy"] = state


@hookimpl
async def shutdown(skyport: PluginContext) -> None:
    state = skyport.state.pop("deploy", None)
    if state is not None:
        await state.stop()
