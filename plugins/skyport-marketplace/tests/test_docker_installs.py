"""Installs through the docker plugin's deployers, against the real Docker engine.

Templates run the local busybox test image (no registry can be reached) with
``network_mode: none``; everything an install makes carries ``skyport.app``
and is removed afterwards.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.config import Settings
from skyport.testing import bearer, require_backend

from .conftest import logged_in, make_app, sibling_fixtures, user_token, wait_job

DOCKER = sibling_fixtures("skyport-docker")
LOOP = "trap 'exit 0' TERM; while true; do sleep 1; done"
STACK = """\
services:
  web:
    image: {image}
    command: ["sh", "-c", "echo greeting=$${{GREETING}}; {loop}"]
    network_mode: none
    environment:
      GREETING: "${{GREETING}}"
    labels:
      skyport.test: "yes"
    volumes:
      - data:/data
volumes:
  data: {{}}
"""
CASAOS = """\
name: echoer
services:
  echoer:
    image: {image}
    command: ["sh", "-c", "echo app=$AppID; {loop}"]
    network_mode: none
    volumes:
      - type: volume
        source: files
        target: /files
x-casaos:
  main: echoer
  title: {{en_US: Echoer}}
  tagline: {{en_US: Says who it is}}
  description: {{en_US: "<b>Echoes</b> its <script>x</script>name"}}
  category: Utilities
volumes:
  files: {{}}
"""


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.APIClient]:
    try:
        client = docker.APIClient(base_url="unix:///var/run/docker.sock", version="auto")
        client.ping()
    except Exception:
        client = None
    require_backend(client is not None, "no Docker engine at unix:///var/run/docker.sock")
    assert client is not None
    if not client.images(name=DOCKER.TEST_IMAGE):
        DOCKER.build_test_image(client)
    yield client
    client.close()


def catalog(tmp_path: Path) -> dict[str, Any]:
    """A SkyPort catalog of container templates, a Portainer one with a stack, a CasaOS store."""
    image = DOCKER.TEST_IMAGE
    stack_repo = tmp_path / "stack-repo"
    stack_repo.mkdir()
    (stack_repo / "stack.yml").write_text(STACK.format(image=image, loop=LOOP))
    privileged = STACK.format(image=image, loop=LOOP).replace(
        "    network_mode: none\n", "    network_mode: none\n    privileged: true\n", 1
    )
    (stack_repo / "privileged.yml").write_text(privileged)
    (tmp_path / "portainer.json").write_text(
        json.dumps(
            {
                "version": "2",
                "templates": [
                    {
                        "type": 3,
                        "title": "Greeter stack",
                        "repository": {"url": str(stack_repo), "stackfile": "stack.yml"},
                        "env": [{"name": "GREETING", "label": "Greeting", "default": "hi"}],
                    },
                    {
                        "type": 3,
                        "title": "Privileged stack",
                        "repository": {"url": str(stack_repo), "stackfile": "privileged.yml"},
                    },
                ],
            }
        )
    )
    app_folder = tmp_path / "casaos" / "Apps" / "Echoer"
    app_folder.mkdir(parents=True)
    (app_folder / "docker-compose.yml").write_text(CASAOS.format(image=image, loop=LOOP))
    container = {
        "image": image,
        "command": f'sh -c "echo greeting=$GREETING; {LOOP}"',
        "network_mode": "none",
        "labels": {"skyport.test": "yes"},
    }
    apps = [
        {
            "id": "greeter",
            "title": "Greeter",
            "kind": "container",
            "container": container,
            "volumes": [{"container": "/data"}],
            "env": [
                {"name": "GREETING", "default": "hello"},
                {"name": "MODE", "choices": [{"value": "a"}, {"value": "b"}], "default": "a"},
                {"name": "TOKEN", "secret": True, "required": True},
                {"name": "FIXED", "default": "yes", "hidden": True},
            ],
        },
        {
            "id": "socket",
            "title": "Socket",
            "kind": "container",
            "container": container,
            "volumes": [{"container": "/var/run/docker.sock", "host": "/var/run/docker.sock"}],
        },
        {
            "id": "admin-stack",
            "title": "Admin stack",
            "kind": "stack",
            "stack": {"compose": privileged},
        },
        {
            "id": "broken",
            "title": "Broken",
            "kind": "container",
            "container": {**container, "command": "/no/such/program"},
            "volumes": [{"container": "/data"}],
        },
    ]
    (tmp_path / "apps.json").write_text(json.dumps({"skyport_catalog": 1, "apps": apps}))
    return {
        "sources": [
            {"name": "local", "type": "skyport", "url": str(tmp_path / "apps.json")},
            {"name": "tpl", "type": "portainer", "url": str(tmp_path / "portainer.json")},
            {"name": "casa", "type": "casaos", "url": str(tmp_path / "casaos")},
        ]
    }


@pytest.fixture
def names(engine: docker.APIClient) -> Iterator[Callable[[str], str]]:
    """Fresh install names; whatever remains of them is removed afterwards."""
    made: list[str] = []

    def make(stem: str) -> str:
        made.append(f"sp-{stem}-{secrets.token_hex(3)}")
        return made[-1]

    yield make
    for name in made:
        for selector in (f"skyport.app={name}", f"com.docker.compose.project={name}"):
            for found in engine.containers(all=True, filters={"label": selector}):
                engine.remove_container(found["Id"], force=True, v=True)
            for volume in (engine.volumes(filters={"label": selector}) or {}).get("Volumes") or []:
                with contextlib.suppress(docker.errors.APIError):
                    engine.remove_volume(volume["Name"], force=True)


@pytest.fixture
def market(
    engine: docker.APIClient, tmp_path: Path, make_settings: Callable[..., Settings]
) -> Iterator[TestClient[Litestar]]:
    from skyport_docker import plugin as docker_plugin

    app = make_app(make_settings, ("docker", docker_plugin), **catalog(tmp_path))
    with logged_in(app) as client:
        for source in ("local", "tpl", "casa"):
            job = client.post(f"/api/marketplace/sources/{source}/refresh").json()["job"]
            assert wait_job(client, job)["state"] == "done"
        yield client


def install(client: TestClient[Litestar], app_id: str, name: str, **values: str) -> dict[str, Any]:
    response = client.post(
        f"/api/marketplace/apps/{app_id}/install", json={"name": name, "values": values}
    )
    assert response.status_code == 202, response.text
    return wait_job(client, response.json()["job"])


def done(client: TestClient[Litestar], response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    job = wait_job(client, response.json()["job"])
    assert job["state"] == "done", job["error"]
    return job


def test_a_container_template_installs_updates_keeps_its_data_and_uninstalls(
    market: TestClient[Litestar], engine: docker.APIClient, names: Callable[[str], str]
) -> None:
    name = names("greeter")
    job = install(market, "local:greeter", name, GREETING="bonjour", TOKEN="s3cret")
    assert job["state"] == "done", job["error"]
    assert [s["step"] for s in job["steps"]][-1] == "installed"
    info = engine.inspect_container(name)
    assert info["State"]["Running"] and info["HostConfig"]["NetworkMode"] == "none"
    assert {"GREETING=bonjour", "MODE=a", "TOKEN=s3cret", "FIXED=yes"} <= set(info["Config"]["Env"])
    volume = f"{name}-data"
    assert engine.inspect_volume(volume)["Labels"]["skyport.app"] == name

    shown = market.get(f"/api/marketplace/installed/{name}").json()
    assert shown["status"]["state"] == "running" and shown["values"]["TOKEN"] == "***"
    assert market.post(f"/api/marketplace/installed/{name}/stop").json()["status"]["state"] == (
        "stopped"
    )
    assert market.post(f"/api/marketplace/installed/{name}/start").json()["status"]["state"] == (
        "running"
    )

    exec_id = engine.exec_create(name, ["sh", "-c", "echo kept > /data/note"])
    engine.exec_start(exec_id)
    updated = done(market, market.post(f"/api/marketplace/installed/{name}/update"))
    assert any("could not pull" in s["step"] for s in updated["steps"])  # no registry here
    after = engine.inspect_container(name)
    assert after["Id"] != info["Id"] and after["State"]["Running"]
    assert "TOKEN=s3cret" in after["Config"]["Env"]
    output = engine.exec_start(engine.exec_create(name, ["cat", "/data/note"]))
    assert output.strip() == b"kept"

    done(market, market.delete(f"/api/marketplace/installed/{name}"))
    assert not engine.containers(all=True, filters={"label": f"skyport.app={name}"})
    assert engine.inspect_volume(volume)  # data volumes stay unless asked
    assert market.get(f"/api/marketplace/installed/{name}").status_code == 404


def test_uninstall_can_remove_the_data_too(
    market: TestClient[Litestar], engine: docker.APIClient, names: Callable[[str], str]
) -> None:
    name = names("greeter")
    assert install(market, "local:greeter", name, TOKEN="t")["state"] == "done"
    done(market, market.delete(f"/api/marketplace/installed/{name}?remove_data=true"))
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_volume(f"{name}-data")


def test_a_failing_install_is_rolled_back_and_says_why(
    market: TestClient[Litestar], engine: docker.APIClient, names: Callable[[str], str]
) -> None:
    name = names("broken")
    job = install(market, "local:broken", name)
    assert job["state"] == "failed" and "/no/such/program" in job["error"]
    assert not engine.containers(all=True, filters={"label": f"skyport.app={name}"})
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_volume(f"{name}-data")
    assert market.get(f"/api/marketplace/installed/{name}").status_code == 404
    audit = market.get("/api/audit", params={"action": "marketplace.install"}).json()["items"]
    assert audit[0]["target"] == name and audit[0]["result"].startswith("failed")


def test_values_are_checked_before_anything_runs(
    market: TestClient[Litestar], names: Callable[[str], str]
) -> None:
    def refused(values: dict[str, str], name: str = "sp-x") -> tuple[int, str]:
        response = market.post(
            "/api/marketplace/apps/local:greeter/install", json={"name": name, "values": values}
        )
        return response.status_code, response.json()["detail"]

    assert refused({}) == (400, "values: required setting missing: TOKEN")
    assert refused({"TOKEN": "t", "NOPE": "1"})[1].startswith("values: unknown setting NOPE")
    assert refused({"TOKEN": "t", "MODE": "c"}) == (400, "values.MODE: 'c' is not one of 'a', 'b'")
    assert refused({"TOKEN": "t", "FIXED": "no"}) == (
        400,
        "values: FIXED cannot be changed: fixed by the template",
    )
    assert refused({"TOKEN": "t"}, name="Bad Name")[1].startswith("name: 'Bad Name'")
    name = names("greeter")
    assert install(market, "local:greeter", name, TOKEN="t")["state"] == "done"
    assert refused({"TOKEN": "t"}, name=name)[0] == 409


def test_a_portainer_stack_from_its_repository_installs_updates_and_uninstalls(
    market: TestClient[Litestar], engine: docker.APIClient, names: Callable[[str], str]
) -> None:
    name = names("stack")
    job = install(market, "tpl:greeter-stack-stack", name, GREETING="salut")
    assert job["state"] == "done", job["error"]
    assert any(s["step"] == "fetching the compose file" for s in job["steps"])
    (web,) = engine.containers(filters={"label": f"com.docker.compose.project={name}"})
    assert b"greeting=salut" in engine.logs(web["Id"])
    installed = market.get(f"/api/marketplace/installed/{name}").json()
    assert installed["status"]["state"] == "running"

    done(market, market.post(f"/api/marketplace/installed/{name}/update"))
    (again,) = engine.containers(filters={"label": f"com.docker.compose.project={name}"})
    assert again["Id"] != web["Id"]
    assert market.post(f"/api/marketplace/installed/{name}/stop").json()["status"]["state"] == (
        "stopped"
    )
    done(market, market.delete(f"/api/marketplace/installed/{name}?remove_data=true"))
    assert not engine.containers(all=True, filters={"label": f"com.docker.compose.project={name}"})
    project_volumes = engine.volumes(filters={"label": f"com.docker.compose.project={name}"})
    assert not (project_volumes or {}).get("Volumes")


def test_a_casaos_app_installs_with_casaos_variables_and_uninstalls(
    market: TestClient[Litestar], engine: docker.APIClient, names: Callable[[str], str]
) -> None:
    detail = market.get("/api/marketplace/apps/casa:echoer").json()
    assert detail["title"] == "Echoer" and "<script" not in detail["description"]
    assert detail["deployer"] == "docker-stack" and detail["you_may_install"]
    name = names("casa")
    job = install(market, "casa:echoer", name)
    assert job["state"] == "done", job["error"]
    (echoer,) = engine.containers(filters={"label": f"com.docker.compose.project={name}"})
    assert b"app=echoer" in engine.logs(echoer["Id"])
    listed = {row["name"]: row for row in market.get("/api/marketplace/installed").json()}
    assert listed[name]["status"]["state"] == "running" and listed[name]["kind"] == "stack"
    done(market, market.delete(f"/api/marketplace/installed/{name}"))
    assert not engine.containers(all=True, filters={"label": f"com.docker.compose.project={name}"})
    kept = engine.volumes(filters={"label": f"com.docker.compose.project={name}"}) or {}
    assert kept.get("Volumes")  # its data volume stays


def test_progress_reaches_the_websocket(
    market: TestClient[Litestar], names: Callable[[str], str]
) -> None:
    name = names("greeter")
    assert install(market, "local:greeter", name, TOKEN="t")["state"] == "done"
    started = market.post(f"/api/marketplace/installed/{name}/update").json()["job"]
    with market.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topics": [f"marketplace.jobs:{started}"]})
        messages = []
        while not any(m.get("data", {}).get("done") for m in messages):
            messages.append(ws.receive_json(timeout=60))
    finished = next(m["data"]["job"] for m in messages if m.get("data", {}).get("done"))
    assert finished["state"] == "done"
    assert any("recreating" in s["step"] for s in finished["steps"])


def test_the_cli_installs_follows_the_job_and_uninstalls(
    engine: docker.APIClient,
    tmp_path: Path,
    run_cli: Callable[..., Any],
    names: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from skyport.testing import cli_ok, one_line_error

    monkeypatch.setenv("SKYPORT_DISABLE_PLUGINS", "pm2,vps")  # local mode loads every plugin
    sources = catalog(tmp_path)["sources"]
    cli_ok(run_cli("marketplace", "source", "add", "local", "skyport", sources[0]["url"]))
    name = names("cli")
    error = one_line_error(run_cli("marketplace", "install", "local:greeter", "--name", name))
    assert "required setting missing: TOKEN" in error
    installed = cli_ok(
        run_cli("marketplace", "install", "local:greeter", "--name", name, "--set", "TOKEN=t")
    )
    assert f"install {name}: done" in installed.out and "installed" in installed.out
    rows = cli_ok(run_cli("marketplace", "installed", "--json")).json()
    assert [(r["name"], r["status"]["state"]) for r in rows] == [(name, "running")]
    assert engine.inspect_container(name)["State"]["Running"]
    cli_ok(run_cli("marketplace", "uninstall", name, "--remove-data"))
    assert not engine.containers(all=True, filters={"label": f"skyport.app={name}"})


def test_an_operator_is_refused_a_template_that_mounts_the_docker_socket(
    market: TestClient[Litestar], engine: docker.APIClient, names: Callable[[str], str]
) -> None:
    operator = bearer(user_token(market, "operator"))
    detail = market.get("/api/marketplace/apps/local:socket", headers=operator).json()
    (host,) = [r for r in detail["requirements"] if r["scope"] == "docker:host"]
    assert "volumes: /var/run/docker.sock" in host["reason"]
    assert detail["you_may_install"] is False
    name = names("socket")
    refused = market.post(
        "/api/marketplace/apps/local:socket/install", json={"name": name}, headers=operator
    )
    assert refused.status_code == 403, refused.text
    assert "docker:host" in refused.json()["detail"] and "docker.sock" in refused.json()["detail"]
    assert market.get(f"/api/marketplace/installed/{name}").status_code == 404
    assert not engine.containers(all=True, filters={"label": f"skyport.app={name}"})
    admin_view = market.get("/api/marketplace/apps/local:socket").json()
    assert admin_view["you_may_install"] is True


def test_a_stack_that_wants_privileges_says_so_and_is_refused_to_an_operator(
    market: TestClient[Litestar], names: Callable[[str], str]
) -> None:
    operator = bearer(user_token(market, "operator"))
    detail = market.get("/api/marketplace/apps/local:admin-stack", headers=operator).json()
    assert any(
        r["scope"] == "docker:host" and "privileged" in r["reason"] for r in detail["requirements"]
    )
    name = names("admin")
    refused = market.post(
        "/api/marketplace/apps/local:admin-stack/install", json={"name": name}, headers=operator
    )
    assert refused.status_code == 403 and "privileged" in refused.json()["detail"]


def test_the_docker_policy_stops_what_only_the_fetched_compose_file_shows(
    market: TestClient[Litestar], engine: docker.APIClient, names: Callable[[str], str]
) -> None:
    """The compose file of a Portainer stack is known only at install: the docker plugin's
    own policy refuses it then, and the install is rolled back."""
    operator = bearer(user_token(market, "operator"))
    name = names("fetched")
    started = market.post(
        "/api/marketplace/apps/tpl:privileged-stack-stack/install",
        json={"name": name},
        headers=operator,
    )
    assert started.status_code == 202, started.text
    job = wait_job(market, started.json()["job"])
    assert job["state"] == "failed" and "privileged" in job["error"]
    assert "docker:host" in job["error"]
    assert market.get(f"/api/marketplace/installed/{name}").status_code == 404
    assert not engine.containers(all=True, filters={"label": f"com.docker.compose.project={name}"})


def test_installs_survive_a_restart_and_work_cut_short_is_marked_failed(
    engine: docker.APIClient,
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    names: Callable[[str], str],
) -> None:
    from skyport_docker import plugin as docker_plugin
    from skyport_marketplace.tables import installs, jobs

    name, cut = names("kept"), names("cut")

    sources = catalog(tmp_path)

    def app() -> Litestar:
        return make_app(make_settings, ("docker", docker_plugin), **sources)

    with logged_in(app()) as client:
        assert (
            wait_job(client, client.post("/api/marketplace/sources/local/refresh").json()["job"])[
                "state"
            ]
            == "done"
        )
        assert install(client, "local:greeter", name, TOKEN="t")["state"] == "done"
        database = client.app.state.services.database
        state = client.app.state.contexts["marketplace"].state["marketplace"]
        template = msgspec.json.encode(state.catalog.app("local:greeter")).decode()

        async def half_done() -> None:  # as if the server died during an install of `cut`
            async with database.begin() as conn:
                row = {"name": cut, "app_id": "local:greeter", "title": "Greeter"}
                await conn.execute(
                    installs.insert().values(
                        **row, kind="container", state="installing", deployer="",
                        resource_id="", template=template, values="{}", message="",
                        created_by="admin", created=0.0, updated=0.0,
                    )
                )  # fmt: skip
                await conn.execute(
                    jobs.insert().values(
                        id="cut-short", action="install", target=cut, username="admin",
                        server=socket.gethostname(), state="running", steps="[]", created=0.0,
                    )
                )  # fmt: skip

        client.blocking_portal.call(half_done)
    with logged_in(app()) as client:
        rows = {r["name"]: r for r in client.get("/api/marketplace/installed").json()}
        assert rows[name]["status"]["state"] == "running" and rows[name]["values"]["TOKEN"] == "***"
        assert rows[cut]["state"] == "failed" and "restarted" in rows[cut]["message"]
        assert client.get("/api/marketplace/jobs/cut-short").json()["state"] == "failed"
        done(client, client.delete(f"/api/marketplace/installed/{name}?remove_data=true"))
