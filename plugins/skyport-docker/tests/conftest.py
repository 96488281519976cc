"""Fixtures for tests against a real Docker engine (DESIGN.md §7).

The engine is the local socket (``.ci/run`` starts ``dockerd --bridge=none
…``). No registry can be reached, so the test image is made with ``docker
import`` from Debian's static busybox. Containers use ``--network none``.
Every container, volume, network and stack a test makes carries the label
``skyport.test=<run id>`` and is removed afterwards.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, bearer, login, require_backend
from skyport_docker.compose import detect
from skyport_docker.testing import TEST_IMAGE, build_test_image

RUN_ID = secrets.token_hex(4)
PROJECT = "com.docker.compose.project"
LABEL = {"skyport.test": RUN_ID}


def _engine_client() -> docker.APIClient | None:
    try:
        client = docker.APIClient(
            base_url="unix:///var/run/docker.sock", version="auto", timeout=30
        )
        client.ping()
        return client
    except Exception:
        return None


@pytest.fixture(scope="session")
def engine() -> Iterator[docker.APIClient]:
    """The real local engine's low-level client (for arranging and checking)."""
    client = _engine_client()
    require_backend(client is not None, "no Docker engine at unix:///var/run/docker.sock")
    assert client is not None
    yield client
    _remove_labelled(client)
    client.close()


def _remove_labelled(client: docker.APIClient) -> None:
    selector = {"label": f"skyport.test={RUN_ID}"}
    for container in client.containers(all=True, filters=selector):
        client.remove_container(container["Id"], force=True, v=True)
    for volume in (client.volumes(filters=selector) or {}).get("Volumes") or []:
        client.remove_volume(volume["Name"], force=True)
    for network in client.networks(filters=selector):
        client.remove_network(network["Id"])


@pytest.fixture(scope="session")
def test_image(engine: docker.APIClient) -> str:
    if not engine.images(name=TEST_IMAGE):
        build_test_image(engine)
    return TEST_IMAGE


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names no other test run uses: ``unique("web")`` → ``sp-web-1a2b3c``."""
    return lambda stem: f"sp-{stem}-{secrets.token_hex(3)}"


@pytest.fixture
def make_container(
    engine: docker.APIClient, test_image: str, unique: Callable[[str], str]
) -> Iterator[Callable[..., dict[str, Any]]]:
    """Start a labelled busybox container directly through the engine."""
    made: list[str] = []

    def make(
        command: str = "sleep 3600", *, name: str | None = None, start: bool = True, **kwargs: Any
    ) -> dict[str, Any]:
        created = engine.create_container(
            test_image,
            command=["sh", "-c", command],
            name=name or unique("c"),
            labels=LABEL,
            host_config=engine.create_host_config(network_mode="none"),
            **kwargs,
        )
        made.append(created["Id"])
        if start:
            engine.start(created["Id"])
        return engine.inspect_container(created["Id"])

    yield make
    for container_id in made:
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_container(container_id, force=True, v=True)


@pytest.fixture
def docker_app(engine: docker.APIClient, make_settings: Callable[..., Settings]) -> Litestar:
    """The app with the docker plugin registered in-process (strict)."""
    from skyport_docker import plugin

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="docker")
    return create_app(make_settings(metrics={"interval": 1.0}), plugins=manager)


@pytest.fixture
def api(docker_app: Litestar) -> Iterator[TestClient[Litestar]]:
    """A TestClient logged in as admin (Bearer header) on the docker-enabled app."""
    with TestClient(docker_app) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client


def user_token(api: TestClient[Litestar], role: str) -> str:
    """A token of a new user with ``role`` (``api`` is logged in as admin)."""
    name = f"{role}-{secrets.token_hex(3)}"
    created = api.post(
        "/api/users", json={"username": name, "password": f"{name}-pw", "role": role}
    )
    assert created.status_code == 201, created.text
    return login(api, name, f"{name}-pw")


def compose_available() -> bool:
    return shutil.which("docker-compose") is not None or shutil.which("docker") is not None


@pytest.fixture
def compose_tool() -> tuple[str, ...]:
    tool = detect()
    require_backend(bool(tool), "no Compose tool (docker compose or docker-compose)")
    return tool


@pytest.fixture
def stack_names(
    engine: docker.APIClient, unique: Callable[[str], str], compose_tool: tuple[str, ...]
) -> Iterator[Callable[[], str]]:
    """Fresh stack names; whatever remains of those stacks is removed afterwards."""
    made: list[str] = []

    def make() -> str:
        name = unique("stack")
        made.append(name)
        return name

    yield make
    for name in made:
        selector = {"label": f"{PROJECT}={name}"}
        for container in engine.containers(all=True, filters=selector):
            engine.remove_container(container["Id"], force=True, v=True)
        for volume in (engine.volumes(filters=selector) or {}).get("Volumes") or []:
            engine.remove_volume(volume["Name"], force=True)
        for network in engine.networks(filters=selector):
            engine.remove_network(network["Id"])
