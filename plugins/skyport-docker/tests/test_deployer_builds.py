"""The container deployer builds an image from the caller's files (``DeployRequest.build``),
shows a failed build's last lines, reads the app's logs and removes the image with its data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from litestar import Litestar
from litestar.exceptions import ClientException
from litestar.testing import TestClient

from skyport.api import AppTemplate, ContainerSpec, DeployRequest, ImageBuild, Principal
from skyport.types import DeployerLogs
from skyport_docker.testing import TEST_IMAGE

ADMIN = Principal(1, "admin", "admin", frozenset({"*"}), "password")


@pytest.fixture
def running(docker_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(docker_app) as client:
        yield client


def deployer(client: TestClient[Litestar]) -> Any:
    found = client.app.state.services.registry.deployers
    return next(d for d in found if d.name == "docker-container")


def request(name: str, folder: Path, image: str) -> DeployRequest:
    template = AppTemplate(
        id=name,
        title=name,
        kind="container",
        container=ContainerSpec(image=image, network_mode="none"),
    )
    return DeployRequest(name, template, {"GREETING": "hej"}, ADMIN, ImageBuild(folder))


def test_an_image_is_built_from_the_callers_files_and_removed_with_the_data(
    running: TestClient[Litestar],
    engine: docker.APIClient,
    test_image: str,
    tmp_path: Path,
    unique: Callable[[str], str],
) -> None:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {test_image}\nCOPY said.txt /said.txt\n"
        'CMD ["sh", "-c", "cat /said.txt; echo $GREETING; sleep 3600"]\n'
    )
    (tmp_path / "said.txt").write_text("built from the caller's files\n")
    name, image = unique("built"), f"{unique('image')}:1"
    steps: list[str] = []
    target = deployer(running)
    portal = running.blocking_portal
    try:
        result = portal.call(
            target.deploy, request(name, tmp_path, image), lambda s, f=None: steps.append(s)
        )
        assert result.resource_id == name
        assert any(s.startswith("build | Step 2/") and "COPY said.txt" in s for s in steps)
        assert engine.inspect_image(image)["Config"]["Labels"]["skyport.app"] == name
        assert isinstance(target, DeployerLogs)
        lines = portal.call(lambda: _wait_logs(target, name))
        assert lines[:2] == ["built from the caller's files", "hej"]
    finally:
        portal.call(lambda: target.remove(name, keep_data=False))
    assert not engine.containers(all=True, filters={"name": name})
    assert not engine.images(name=image.partition(":")[0])


async def _wait_logs(target: Any, name: str) -> list[str]:
    import asyncio

    for _ in range(100):
        lines: list[str] = await target.logs(name, 10)
        if len(lines) >= 2:
            return lines
        await asyncio.sleep(0.05)
    return lines


def test_a_failed_build_says_its_last_lines_and_leaves_no_container(
    running: TestClient[Litestar],
    engine: docker.APIClient,
    test_image: str,
    tmp_path: Path,
    unique: Callable[[str], str],
) -> None:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {test_image}\nRUN echo compiling the app && echo it is broken >&2 && false\n"
    )
    name, image = unique("broken"), f"{unique('image')}:1"
    with pytest.raises(ClientException) as failed:
        running.blocking_portal.call(
            deployer(running).deploy, request(name, tmp_path, image), lambda s, f=None: None
        )
    message = str(failed.value.detail)
    assert message.startswith("the image build failed: The command '/bin/sh -c echo compiling")
    assert "returned a non-zero code: 1" in message and "compiling the app" in message
    assert not engine.containers(all=True, filters={"name": name})
    assert not engine.images(name=image.partition(":")[0])
    assert TEST_IMAGE in {t for i in engine.images() for t in i["RepoTags"] or []}
