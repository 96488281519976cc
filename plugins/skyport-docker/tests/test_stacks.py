"""Compose stacks through ``/api/docker/stacks``, with the real Compose tool and engine."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.testing import bearer, login

from .conftest import LABEL, PROJECT, RUN_ID, TEST_IMAGE

SERVICES = """\
version: "3.7"
services:
  web:
    image: IMAGE
    command: ["sh", "-c", "trap 'exit 0' TERM; echo greeting=$$VAR; sleep 3600 & wait"]
    network_mode: none
    environment:
      VAR: "${VAR}"
    labels:
      skyport.test: "RUN"
    volumes:
      - data:/data
  worker:
    image: IMAGE
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    network_mode: none
    labels:
      skyport.test: "RUN"
volumes:
  data:
    labels:
      skyport.test: "RUN"
"""


def compose_file(variable: str = "GREETING") -> str:
    """Two busybox services without networking (quick to stop), one named volume.

    ``web`` takes ``variable`` from the ``.env`` file; everything is labelled for cleanup.
    """
    return SERVICES.replace("IMAGE", TEST_IMAGE).replace("RUN", RUN_ID).replace("VAR", variable)


def project(engine: docker.APIClient, name: str) -> list[dict[str, Any]]:
    return engine.containers(all=True, filters={"label": f"{PROJECT}={name}"})  # type: ignore[no-any-return]


def states(engine: docker.APIClient, name: str) -> dict[str, str]:
    return {c["Labels"]["com.docker.compose.service"]: c["State"] for c in project(engine, name)}


def run_compose(tool: tuple[str, ...], folder: Path, name: str, *args: str) -> None:
    done = subprocess.run(
        [*tool, "-p", name, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_deploy_inspect_stop_start_update_and_remove(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    stack_names: Callable[[], str],
    docker_app: Litestar,
) -> None:
    name = stack_names()
    deployed = api.post(
        "/api/docker/stacks",
        json={"name": name, "compose": compose_file(), "env": {"GREETING": "hello 'brave' world"}},
    )
    assert deployed.status_code == 201, deployed.text
    body = deployed.json()
    assert body["name"] == name and body["engine"] == "local" and body["managed"] is True
    assert body["status"] == "running" and body["services"] == ["web", "worker"]
    assert body["env"] == {"GREETING": "hello 'brave' world"}
    assert {m["service"] for m in body["members"]} == {"web", "worker"}
    assert states(engine, name) == {"web": "running", "worker": "running"}

    # The .env value reached the container, and the files live in the data dir.
    web = next(
        c for c in project(engine, name) if c["Labels"]["com.docker.compose.service"] == "web"
    )
    env = engine.inspect_container(web["Id"])["Config"]["Env"]
    assert "GREETING=hello 'brave' world" in env
    folder = docker_app.state.settings.data_path / "docker" / "stacks" / name
    assert (folder / "docker-compose.yml").read_text() == compose_file()
    assert body["working_dir"] == str(folder)

    # No network was made for the project: every service has network_mode none.
    assert engine.networks(filters={"label": f"{PROJECT}={name}"}) == []

    listed = api.get("/api/docker/stacks").json()
    mine = next(s for s in listed if s["name"] == name)
    assert mine["containers"] == 2 and mine["running"] == 2 and mine["managed"] is True

    stopped = api.post(f"/api/docker/stacks/{name}/stop")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "stopped"
    assert states(engine, name) == {"web": "exited", "worker": "exited"}

    started = api.post(f"/api/docker/stacks/{name}/start")
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "running"

    restarted = api.post(f"/api/docker/stacks/{name}/restart")
    assert restarted.status_code == 200 and restarted.json()["running"] == 2

    # Update with new files and values, no pull: every service is recreated.
    # The values given are merged over the earlier ones.
    before = {c["Id"] for c in project(engine, name)}
    updated = api.post(
        f"/api/docker/stacks/{name}/update",
        json={"compose": compose_file("SALUTE"), "env": {"SALUTE": "hi"}, "pull": False},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["env"] == {"GREETING": "hello 'brave' world", "SALUTE": "hi"}
    after = {c["Id"] for c in project(engine, name)}
    assert after and not after & before
    web = next(
        c for c in project(engine, name) if c["Labels"]["com.docker.compose.service"] == "web"
    )
    assert "SALUTE=hi" in engine.inspect_container(web["Id"])["Config"]["Env"]
    # ... unless they are to replace them.
    replaced = api.post(
        f"/api/docker/stacks/{name}/update",
        json={"env": {"SALUTE": "hey"}, "env_replace": True, "pull": False},
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["env"] == {"SALUTE": "hey"}
    assert (folder / ".env").read_text() == "SALUTE=hey\n"

    # Pulling needs a registry, and none can be reached: a 4xx with its message ...
    failed = api.post(f"/api/docker/stacks/{name}/update", json={})
    assert 400 <= failed.status_code < 500, failed.text
    assert "pull" in failed.json()["detail"]
    # ... unless pull failures are to be ignored: then a warning, and a recreation.
    ignored = api.post(f"/api/docker/stacks/{name}/update", json={"ignore_pull_failures": True})
    assert ignored.status_code == 200, ignored.text
    assert ignored.json()["warnings"] and ignored.json()["status"] == "running"

    volume = f"{name}_data"
    assert engine.inspect_volume(volume)["Name"] == volume
    removed = api.delete(f"/api/docker/stacks/{name}", params={"volumes": True})
    assert removed.status_code == 204, removed.text
    assert project(engine, name) == []
    assert not folder.exists()
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_volume(volume)
    assert name not in {s["name"] for s in api.get("/api/docker/stacks").json()}
    assert api.get(f"/api/docker/stacks/{name}").status_code == 404


def test_remove_keeps_volumes_unless_asked(
    api: TestClient[Litestar], engine: docker.APIClient, stack_names: Callable[[], str]
) -> None:
    name = stack_names()
    assert (
        api.post(
            "/api/docker/stacks",
            json={"name": name, "compose": compose_file(), "env": {"GREETING": "x"}},
        ).status_code
        == 201
    )
    assert api.delete(f"/api/docker/stacks/{name}").status_code == 204
    assert project(engine, name) == []
    assert engine.inspect_volume(f"{name}_data")["Labels"][PROJECT] == name


def test_invalid_requests_are_400_naming_the_field(
    api: TestClient[Litestar], stack_names: Callable[[], str], docker_app: Litestar
) -> None:
    for bad in ("Upper", "-dash-first", "a/b", "with space", "x" * 64, ""):
        answer = api.post("/api/docker/stacks", json={"name": bad, "compose": compose_file()})
        assert answer.status_code == 400, (bad, answer.text)
        assert "name" in answer.json()["detail"]
    assert api.get("/api/docker/stacks/Bad.Name").status_code == 400
    assert api.post("/api/docker/stacks/Bad.Name/stop").status_code == 400

    name = stack_names()
    for compose in ("services: [", "just text", "version: '3'\n"):
        answer = api.post("/api/docker/stacks", json={"name": name, "compose": compose})
        assert answer.status_code == 400, answer.text
        assert answer.json()["extra"]["field"] == "compose"
    answer = api.post(
        "/api/docker/stacks",
        json={"name": name, "compose": compose_file(), "env": {"NOT-A-NAME": "x"}},
    )
    assert answer.status_code == 400 and answer.json()["extra"]["field"] == "env"
    answer = api.post("/api/docker/stacks", json={"name": name})
    assert answer.status_code == 400 and "compose" in answer.text

    # Compose itself refuses the file: 400 with its message, and nothing is left behind.
    unknown_key = compose_file().replace(
        "network_mode: none", "network_mode: none\n    colour: red", 1
    )
    answer = api.post("/api/docker/stacks", json={"name": name, "compose": unknown_key})
    assert answer.status_code == 400, answer.text
    assert "colour" in answer.json()["detail"]
    assert not (docker_app.state.settings.data_path / "docker" / "stacks" / name).exists()

    assert api.get(f"/api/docker/stacks/{name}").status_code == 404
    assert api.post(f"/api/docker/stacks/{name}/start").status_code == 404
    assert api.delete(f"/api/docker/stacks/{name}").status_code == 404
    assert api.post(f"/api/docker/stacks/{name}/explode").status_code in (400, 404, 405)
    assert api.get("/api/docker/stacks", params={"engine": "nowhere"}).status_code == 404


def test_a_name_taken_is_409(
    api: TestClient[Litestar], engine: docker.APIClient, stack_names: Callable[[], str]
) -> None:
    name = stack_names()
    body = {"name": name, "compose": compose_file(), "env": {"GREETING": "x"}}
    assert api.post("/api/docker/stacks", json=body).status_code == 201
    again = api.post("/api/docker/stacks", json=body)
    assert again.status_code == 409, again.text
    assert name in again.json()["detail"]
    assert len(project(engine, name)) == 2

    # A container name another stack holds: Compose's conflict is a 409, and the
    # half-made stack is taken down again.
    fixed = compose_file().replace(
        "network_mode: none", f"network_mode: none\n    container_name: {name}-fixed", 1
    )
    first, second = stack_names(), stack_names()
    assert api.post("/api/docker/stacks", json={"name": first, "compose": fixed}).status_code == 201
    clash = api.post("/api/docker/stacks", json={"name": second, "compose": fixed})
    assert clash.status_code == 409, clash.text
    assert f"{name}-fixed" in clash.json()["detail"]
    assert project(engine, second) == []
    assert second not in {s["name"] for s in api.get("/api/docker/stacks").json()}


def test_a_stack_made_outside_skyport_is_listed_and_controlled(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    stack_names: Callable[[], str],
    compose_tool: tuple[str, ...],
    tmp_path: Path,
) -> None:
    name = stack_names()
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(compose_file())
    (folder / ".env").write_text("GREETING=from-outside\n")
    run_compose(compose_tool, folder, name, "up", "-d")

    listed = api.get("/api/docker/stacks").json()
    mine = next(s for s in listed if s["name"] == name)
    assert mine["managed"] is False and mine["status"] == "running"
    assert mine["services"] == ["web", "worker"] and mine["working_dir"] == str(folder)
    assert mine["config_files"] == [str(folder / "docker-compose.yml")]
    detail = api.get(f"/api/docker/stacks/{name}").json()
    assert detail["compose"] is None and len(detail["members"]) == 2

    assert api.post(f"/api/docker/stacks/{name}/stop").json()["status"] == "stopped"
    assert states(engine, name) == {"web": "exited", "worker": "exited"}
    assert api.post(f"/api/docker/stacks/{name}/start").json()["status"] == "running"

    # Its files are its owner's: SkyPort recreates from them but does not rewrite them.
    refused = api.post(f"/api/docker/stacks/{name}/update", json={"compose": compose_file()})
    assert refused.status_code == 409
    before = {c["Id"] for c in project(engine, name)}
    updated = api.post(f"/api/docker/stacks/{name}/update", json={"pull": False})
    assert updated.status_code == 200, updated.text
    assert not {c["Id"] for c in project(engine, name)} & before

    # Deploying over it is refused; removing it runs `down` with its own files.
    taken = api.post("/api/docker/stacks", json={"name": name, "compose": compose_file()})
    assert taken.status_code == 409
    assert api.delete(f"/api/docker/stacks/{name}", params={"volumes": True}).status_code == 204
    assert project(engine, name) == []
    assert engine.volumes(filters={"label": f"{PROJECT}={name}"})["Volumes"] in (None, [])
    assert (folder / "docker-compose.yml").exists()


def test_an_outside_stack_whose_files_are_gone_is_driven_by_its_labels(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    stack_names: Callable[[], str],
    compose_tool: tuple[str, ...],
    tmp_path: Path,
) -> None:
    name = stack_names()
    folder = tmp_path / "gone"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(compose_file())
    (folder / ".env").write_text("GREETING=x\n")
    run_compose(compose_tool, folder, name, "up", "-d")
    shutil.rmtree(folder)

    assert api.post(f"/api/docker/stacks/{name}/stop").json()["status"] == "stopped"
    assert set(states(engine, name).values()) == {"exited"}
    assert api.post(f"/api/docker/stacks/{name}/start").json()["status"] == "running"
    assert api.post(f"/api/docker/stacks/{name}/restart").json()["running"] == 2
    cannot = api.post(f"/api/docker/stacks/{name}/update", json={"pull": False})
    assert cannot.status_code == 409 and "compose file" in cannot.json()["detail"]
    assert api.delete(f"/api/docker/stacks/{name}", params={"volumes": True}).status_code == 204
    assert project(engine, name) == []
    assert engine.volumes(filters={"label": f"{PROJECT}={name}"})["Volumes"] in (None, [])


def test_an_outside_stack_without_a_files_label_uses_its_working_dirs_compose_file(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    stack_names: Callable[[], str],
    compose_tool: tuple[str, ...],
    tmp_path: Path,
) -> None:
    name = stack_names()
    for filename in ("compose.yml", "docker-compose.yaml", "docker-compose.yml"):
        (tmp_path / filename).write_text("not: [the file Compose prefers\n")
    (tmp_path / "compose.yaml").write_text(compose_file())
    labels = {
        **LABEL,
        PROJECT: name,
        "com.docker.compose.service": "worker",
        "com.docker.compose.oneoff": "False",
        "com.docker.compose.container-number": "1",
        "com.docker.compose.project.working_dir": str(tmp_path),
    }
    created = engine.create_container(
        TEST_IMAGE,
        command=["sleep", "3600"],
        name=f"{name}_worker_1",
        labels=labels,
        host_config=engine.create_host_config(network_mode="none"),
    )
    engine.start(created["Id"])

    detail = api.get(f"/api/docker/stacks/{name}").json()
    assert detail["config_files"] == [str(tmp_path / "compose.yaml")]
    stopped = api.post(f"/api/docker/stacks/{name}/stop")  # Compose, with that file
    assert stopped.status_code == 200, stopped.text
    assert states(engine, name) == {"worker": "exited"}


def test_listing_all_engines_marks_each_stack(
    api: TestClient[Litestar], stack_names: Callable[[], str]
) -> None:
    name = stack_names()
    body = {"name": name, "compose": compose_file(), "env": {"GREETING": "x"}}
    assert api.post("/api/docker/stacks", json=body, params={"engine": "local"}).status_code == 201
    listed = api.get("/api/docker/stacks", params={"engine": "all"})
    assert listed.status_code == 200
    mine = [s for s in listed.json() if s["name"] == name]
    assert [s["engine"] for s in mine] == ["local"]


def test_reading_needs_docker_read_and_changing_docker_write(
    api: TestClient[Litestar], stack_names: Callable[[], str]
) -> None:
    created = api.post(
        "/api/users", json={"username": "vera", "password": "vera-password", "role": "viewer"}
    )
    assert created.status_code == 201, created.text
    viewer = bearer(login(api, "vera", "vera-password"))
    assert api.get("/api/docker/stacks", headers=viewer).status_code == 200
    name = stack_names()
    refused = api.post(
        "/api/docker/stacks", json={"name": name, "compose": compose_file()}, headers=viewer
    )
    assert refused.status_code == 403
    assert refused.json()["extra"]["missing_scope"] == "docker:write"
    assert api.delete(f"/api/docker/stacks/{name}", headers=viewer).status_code == 403

    # Viewers see which .env keys a stack has, not their values; writers see them.
    body = {"name": name, "compose": compose_file(), "env": {"GREETING": "x", "DB_PASSWORD": "pw"}}
    assert api.post("/api/docker/stacks", json=body).status_code == 201
    seen = api.get(f"/api/docker/stacks/{name}", headers=viewer).json()["env"]
    assert seen == {"GREETING": "***", "DB_PASSWORD": "***"}
    assert api.get(f"/api/docker/stacks/{name}").json()["env"] == body["env"]
