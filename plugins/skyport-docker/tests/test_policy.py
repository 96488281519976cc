"""The host-access policy against the real engine and Compose: the attacks of issue 10.

An operator (no ``docker:host``) tries to reach the host through ``run``,
stacks and volumes; each attempt is a 403 naming the key (and the service),
nothing is created, and the same request by an admin goes through — so each
test would fail if the policy let the attack pass.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.api import AppTemplate, ContainerSpec, DeployRequest, Principal, StackSpec
from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, bearer, login
from skyport_docker.deployers import ContainerDeployer, StackDeployer
from skyport_docker.policy import HostAccessRefused, HostPolicy

from .conftest import LABEL, PROJECT, RUN_ID, TEST_IMAGE, user_token

SERVICE = f"""\
services:
  app:
    image: {TEST_IMAGE}
    command: ["sleep", "3600"]
    network_mode: none
    labels:
      skyport.test: "{RUN_ID}"
"""


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    """The one host directory an admin allows for bind mounts, with a file in it."""
    folder = tmp_path / "allowed"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "note.txt").write_text("shared note\n")
    return folder


def docker_app(make_settings: Callable[..., Settings], **docker_settings: Any) -> Litestar:
    """The app with the docker plugin and these ``docker`` settings."""
    from skyport_docker import plugin

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="docker")
    return create_app(make_settings(docker=docker_settings), plugins=manager)


@contextlib.contextmanager
def admin_and_operator(app: Litestar) -> Iterator[tuple[TestClient[Litestar], dict[str, str]]]:
    """A client logged in as admin, and the headers of a new operator."""
    with TestClient(app) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client, bearer(user_token(client, "operator"))


@pytest.fixture
def policy_app(
    engine: docker.APIClient, make_settings: Callable[..., Settings], allowed: Path
) -> Litestar:
    return docker_app(make_settings, allowed_bind_paths=[str(allowed)])


@pytest.fixture
def clients(policy_app: Litestar) -> Iterator[tuple[TestClient[Litestar], dict[str, str]]]:
    with admin_and_operator(policy_app) as both:
        yield both


@pytest.fixture
def admin(clients: tuple[TestClient[Litestar], dict[str, str]]) -> TestClient[Litestar]:
    return clients[0]


@pytest.fixture
def operator(clients: tuple[TestClient[Litestar], dict[str, str]]) -> dict[str, str]:
    return clients[1]


@pytest.fixture
def run_names(engine: docker.APIClient, unique: Callable[[str], str]) -> Iterator[list[str]]:
    """Names for containers made through ``/run``; whatever exists afterwards is removed."""
    names: list[str] = []
    yield names
    for name in names:
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_container(name, force=True, v=True)


def run_body(name: str, volumes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "image": TEST_IMAGE,
        "name": name,
        "command": ["sleep", "3600"],
        "network_mode": "none",
        "labels": LABEL,
        "volumes": volumes,
        **extra,
    }


def refused(answer: Any, key: str, where: str) -> str:
    """Assert a policy refusal naming ``key`` and ``where``; return its message."""
    assert answer.status_code == 403, answer.text
    detail = answer.json()["detail"]
    assert f"{where}: {key}:" in detail, detail
    assert "docker:host" in detail
    assert answer.json()["extra"]["key"] == key
    return str(detail)


def exists(engine: docker.APIClient, name: str) -> bool:
    try:
        engine.inspect_container(name)
    except docker.errors.NotFound:
        return False
    return True


# -- POST /run ----------------------------------------------------------------------------


def test_operator_cannot_bind_the_host_root_but_an_admin_can(
    admin: TestClient[Litestar],
    operator: dict[str, str],
    engine: docker.APIClient,
    run_names: list[str],
    unique: Callable[[str], str],
) -> None:
    name = unique("root")
    run_names.append(name)
    body = run_body(name, ["/:/host:ro"], command=["cat", "/host/etc/shadow"])
    message = refused(
        admin.post("/api/docker/run", json=body, headers=operator), "volumes", f"container {name!r}"
    )
    assert "outside the host paths an admin allowed" in message
    assert not exists(engine, name)

    assert admin.post("/api/docker/run", json={**body, "start": False}).status_code == 201
    assert exists(engine, name)


def test_operator_binds_inside_the_allowed_paths(
    admin: TestClient[Litestar],
    operator: dict[str, str],
    engine: docker.APIClient,
    allowed: Path,
    run_names: list[str],
    unique: Callable[[str], str],
) -> None:
    name = unique("ok")
    run_names.append(name)
    body = run_body(name, [f"{allowed / 'data'}:/data:ro", "scratch:/scratch"])
    answer = admin.post("/api/docker/run", json=body, headers=operator)
    assert answer.status_code == 201, answer.text
    result = engine.exec_start(engine.exec_create(name, ["cat", "/data/note.txt"]))
    assert result == b"shared note\n"
    engine.remove_container(name, force=True)
    engine.remove_volume("scratch", force=True)


def test_symlinks_and_dot_dot_out_of_an_allowed_path_are_refused(
    admin: TestClient[Litestar],
    operator: dict[str, str],
    engine: docker.APIClient,
    allowed: Path,
    run_names: list[str],
    unique: Callable[[str], str],
) -> None:
    (allowed / "escape").symlink_to("/etc")
    for source in (allowed / "escape", f"{allowed}/../../../../etc"):
        name = unique("link")
        run_names.append(name)
        answer = admin.post(
            "/api/docker/run", json=run_body(name, [f"{source}:/x:ro"]), headers=operator
        )
        refused(answer, "volumes", f"container {name!r}")
        assert not exists(engine, name)


def test_the_docker_socket_and_data_dir_are_refused_even_when_allowed(
    engine: docker.APIClient,
    make_settings: Callable[..., Settings],
    unique: Callable[[str], str],
    run_names: list[str],
) -> None:
    app = docker_app(make_settings, allowed_bind_paths=["/"])
    with admin_and_operator(app) as (client, operator):
        for source, why in (
            ("/var/run/docker.sock", "socket"),
            ("/run", "socket"),
            (str(app.state.settings.data_path), "SkyPort's data"),
        ):
            name = unique("sock")
            run_names.append(name)
            answer = client.post(
                "/api/docker/run", json=run_body(name, [f"{source}:/x"]), headers=operator
            )
            assert why in refused(answer, "volumes", f"container {name!r}")
            assert not exists(engine, name)


def test_joining_a_privileged_container_is_refused(
    admin: TestClient[Litestar],
    operator: dict[str, str],
    engine: docker.APIClient,
    make_container: Callable[..., dict[str, Any]],
    run_names: list[str],
    unique: Callable[[str], str],
) -> None:
    plain = make_container("sleep 3600")
    host_pid = engine.create_container(
        TEST_IMAGE,
        command=["sleep", "3600"],
        name=unique("hostpid"),
        labels=LABEL,
        host_config=engine.create_host_config(network_mode="none", pid_mode="host"),
    )
    engine.start(host_pid["Id"])
    try:
        name = unique("join")
        run_names.append(name)
        answer = admin.post(
            "/api/docker/run",
            json=run_body(name, network_mode=f"container:{host_pid['Id']}"),
            headers=operator,
        )
        assert "has pid that shares the host's namespace" in refused(
            answer, "network_mode", f"container {name!r}"
        )
        missing = admin.post(
            "/api/docker/run",
            json=run_body(name, network_mode="container:sp-no-such-box"),
            headers=operator,
        )
        assert "is not on Docker engine 'local'" in refused(
            missing, "network_mode", f"container {name!r}"
        )
        joined = admin.post(
            "/api/docker/run",
            json=run_body(name, network_mode=f"container:{plain['Id']}"),
            headers=operator,
        )
        assert joined.status_code == 201, joined.text
    finally:
        engine.remove_container(host_pid["Id"], force=True)


def test_host_network_is_allowed_unless_turned_off(
    engine: docker.APIClient,
    make_settings: Callable[..., Settings],
    unique: Callable[[str], str],
    run_names: list[str],
) -> None:
    for allow in (True, False):
        app = docker_app(make_settings, allow_host_network=allow)
        with admin_and_operator(app) as (client, operator):
            name = unique("hostnet")
            run_names.append(name)
            body = run_body(name, network_mode="host", start=False)
            answer = client.post("/api/docker/run", json=body, headers=operator)
            if allow:
                assert answer.status_code == 201, answer.text
            else:
                refused(answer, "network_mode", f"container {name!r}")


# -- volumes ------------------------------------------------------------------------------


def test_volumes_that_bind_host_paths_count_as_bind_mounts(
    admin: TestClient[Litestar],
    operator: dict[str, str],
    engine: docker.APIClient,
    run_names: list[str],
    unique: Callable[[str], str],
) -> None:
    rootfs = unique("rootfs")
    bind_root = {"type": "none", "o": "bind", "device": "/"}
    made = admin.post(
        "/api/docker/volumes",
        json={"name": rootfs, "driver_opts": bind_root, "labels": LABEL},
        headers=operator,
    )
    refused(made, "driver_opts", f"volume {rootfs!r}")
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_volume(rootfs)

    # An admin's volume of the host root cannot be borrowed by an operator's container.
    assert (
        admin.post(
            "/api/docker/volumes", json={"name": rootfs, "driver_opts": bind_root, "labels": LABEL}
        ).status_code
        == 201
    )
    try:
        name = unique("borrow")
        run_names.append(name)
        answer = admin.post(
            "/api/docker/run", json=run_body(name, [f"{rootfs}:/host"]), headers=operator
        )
        assert "mounts a host path" in refused(answer, "volumes", f"container {name!r}")
    finally:
        engine.remove_volume(rootfs, force=True)


# -- stacks -------------------------------------------------------------------------------


ESCAPES = {
    "privileged": "privileged: true",
    "pid": "pid: host",
    "ipc": "ipc: host",
    "userns_mode": "userns_mode: host",
    "cap_add": "cap_add: [SYS_ADMIN]",
    "security_opt": "security_opt: ['seccomp:unconfined']",
    "devices": "devices: ['/dev/fuse:/dev/fuse']",
    "sysctls": "sysctls: {net.core.somaxconn: '1024'}",
    "volumes": "volumes: ['/:/host']",
}


@pytest.mark.parametrize("key", sorted(ESCAPES))
def test_stack_services_that_reach_the_host_are_refused(
    key: str,
    admin: TestClient[Litestar],
    operator: dict[str, str],
    engine: docker.APIClient,
    stack_names: Callable[[], str],
    policy_app: Litestar,
) -> None:
    name = stack_names()
    compose = SERVICE + f"  escape:\n    image: {TEST_IMAGE}\n    {ESCAPES[key]}\n"
    answer = admin.post(
        "/api/docker/stacks", json={"name": name, "compose": compose}, headers=operator
    )
    refused(answer, key, "service 'escape'")
    assert engine.containers(all=True, filters={"label": f"{PROJECT}={name}"}) == []
    assert not (policy_app.state.settings.data_path / "docker" / "stacks" / name).exists()


def test_stacks_are_judged_after_interpolation_and_extends(
    admin: TestClient[Litestar],
    operator: dict[str, str],
    engine: docker.APIClient,
    stack_names: Callable[[], str],
) -> None:
    interpolated = SERVICE + "    volumes: ['${ROOT}:/host']\n"
    name = stack_names()
    answer = admin.post(
        "/api/docker/stacks",
        json={"name": name, "compose": interpolated, "env": {"ROOT": "/"}},
        headers=operator,
    )
    assert "/ is outside" in refused(answer, "volumes", "service 'app'")

    # Compose lists services by name: "child" is judged first, on what it inherits.
    extended = (
        "services:\n"
        "  child:\n"
        "    extends: {service: zbase}\n"
        "  zbase:\n"
        f"    image: {TEST_IMAGE}\n"
        "    network_mode: none\n"
        "    cap_add: [SYS_ADMIN]\n"
    )
    answer = admin.post(
        "/api/docker/stacks", json={"name": stack_names(), "compose": extended}, headers=operator
    )
    refused(answer, "cap_add", "service 'child'")


def test_compose_may_not_read_files_outside_the_stack(
    admin: TestClient[Litestar],
    operator: dict[str, str],
    stack_names: Callable[[], str],
    tmp_path: Path,
) -> None:
    secret = tmp_path / "server.env"
    secret.write_text("SKYPORT_SECRET_KEY=do-not-leak\n")
    for line in (f"env_file: {secret}", "env_file: ../../../../server.env", "env_file: ${F}"):
        compose = SERVICE + f"    {line}\n"
        answer = admin.post(
            "/api/docker/stacks",
            json={"name": stack_names(), "compose": compose, "env": {"F": str(secret)}},
            headers=operator,
        )
        refused(answer, "env_file", "service 'app'")


def test_an_update_is_judged_again_and_leaves_the_stack_as_it_was(
    admin: TestClient[Litestar],
    operator: dict[str, str],
    engine: docker.APIClient,
    stack_names: Callable[[], str],
    allowed: Path,
) -> None:
    name = stack_names()
    compose = SERVICE + f"    volumes: ['${{DATA:-{allowed}/data}}:/data:ro']\n"
    deployed = admin.post(
        "/api/docker/stacks", json={"name": name, "compose": compose}, headers=operator
    )
    assert deployed.status_code == 201, deployed.text
    before = {c["Id"] for c in engine.containers(filters={"label": f"{PROJECT}={name}"})}

    answer = admin.post(
        f"/api/docker/stacks/{name}/update",
        json={"env": {"DATA": "/etc"}, "pull": False},
        headers=operator,
    )
    refused(answer, "volumes", "service 'app'")
    assert admin.get(f"/api/docker/stacks/{name}").json()["env"] == {}
    after = {c["Id"] for c in engine.containers(filters={"label": f"{PROJECT}={name}"})}
    assert after == before


def test_an_outside_stack_pointed_at_by_forged_labels_is_judged_too(
    admin: TestClient[Litestar],
    operator: dict[str, str],
    engine: docker.APIClient,
    stack_names: Callable[[], str],
    run_names: list[str],
    tmp_path: Path,
) -> None:
    """Compose labels on an operator's container name a privileged compose file on the host."""
    name = stack_names()
    folder = tmp_path / "admin-stack"
    folder.mkdir()
    (folder / "compose.yaml").write_text(SERVICE + "    privileged: true\n")
    run_names.append(f"{name}-decoy")
    labels = {**LABEL, PROJECT: name, "com.docker.compose.project.working_dir": str(folder)}
    decoy = run_body(f"{name}-decoy", labels=labels, start=False)
    assert admin.post("/api/docker/run", json=decoy, headers=operator).status_code == 201

    answer = admin.post(f"/api/docker/stacks/{name}/update", json={"pull": False}, headers=operator)
    refused(answer, "privileged", "service 'app'")
    left = engine.containers(all=True, filters={"label": f"{PROJECT}={name}"})
    assert [c["Names"] for c in left] == [[f"/{name}-decoy"]]


# -- deployers (marketplace, deploy) ------------------------------------------------------


def principal(role: str) -> Principal:
    scopes = {"operator": {"docker:read", "docker:write"}, "admin": {"*"}}[role]
    return Principal(1, role, role, frozenset(scopes), "token")


def test_deployers_apply_the_policy_of_the_user_who_installs(
    policy_app: Litestar,
    admin: TestClient[Litestar],
    engine: docker.APIClient,
    unique: Callable[[str], str],
    run_names: list[str],
    stack_names: Callable[[], str],
) -> None:
    context = policy_app.state.contexts["docker"]
    name = unique("app")
    run_names.append(name)
    spec = ContainerSpec(TEST_IMAGE, "sleep 3600", network_mode="none", cap_add=("NET_ADMIN",))
    template = AppTemplate("tool", "Tool", "container", container=spec)
    containers = ContainerDeployer(context)

    def deploy(user: str) -> Any:
        request = DeployRequest(name, template, {}, principal(user))
        return asyncio.run(containers.deploy(request, lambda *_: None))

    with pytest.raises(HostAccessRefused, match=f"container '{name}': cap_add"):
        deploy("operator")
    assert not exists(engine, name)
    deploy("admin")
    assert engine.inspect_container(name)["HostConfig"]["CapAdd"] == ["NET_ADMIN"]

    stack = stack_names()
    compose = SERVICE + "    pid: host\n"
    stack_template = AppTemplate("st", "St", "stack", stack=StackSpec(compose=compose))
    request = DeployRequest(stack, stack_template, {}, principal("operator"))
    with pytest.raises(HostAccessRefused, match="service 'app': pid"):
        asyncio.run(StackDeployer(context).deploy(request, lambda *_: None))
    assert engine.containers(all=True, filters={"label": f"{PROJECT}={stack}"}) == []


# -- the policy on its own ----------------------------------------------------------------


def test_binds_on_remote_engines_need_docker_host() -> None:
    """A remote engine's file system cannot be checked from here: no host paths there."""
    bind = {"type": "none", "o": "bind", "device": "/srv/data"}
    remote = HostPolicy(unrestricted=False, local=False, engine="nas", allowed_paths=["/srv"])
    with pytest.raises(HostAccessRefused, match="cannot be checked from here"):
        remote.check_volume("volume 'v'", "local", bind)
    HostPolicy(unrestricted=False, local=True, allowed_paths=["/srv"]).check_volume(
        "volume 'v'", "local", bind
    )
    HostPolicy(unrestricted=True, local=False).check_volume("volume 'v'", "local", bind)


def test_a_stack_cannot_read_the_servers_environment(
    admin: TestClient[Litestar],
    operator: dict[str, str],
    engine: docker.APIClient,
    stack_names: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Compose fills ``${VAR}`` from its environment: it gets none of the server's secrets,
    only the stack's own ``.env``."""
    monkeypatch.setenv("CLOUD_API_TOKEN", "server-secret-41")
    compose = f"""\
services:
  app:
    image: {TEST_IMAGE}
    command: ["sleep", "3600"]
    network_mode: none
    environment:
      LEAKED: "${{CLOUD_API_TOKEN:-absent}}"
      OWN: "${{GREETING}}"
    labels:
      skyport.test: "{RUN_ID}"
"""
    name = stack_names()
    deployed = admin.post(
        "/api/docker/stacks",
        json={"name": name, "compose": compose, "env": {"GREETING": "hi"}},
        headers=operator,
    )
    assert deployed.status_code == 201, deployed.text
    (container,) = engine.containers(all=True, filters={"label": f"{PROJECT}={name}"})
    env = engine.inspect_container(container["Id"])["Config"]["Env"]
    assert "LEAKED=absent" in env and "OWN=hi" in env
    assert not [line for line in env if "server-secret-41" in line]
