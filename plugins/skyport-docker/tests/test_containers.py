"""Container endpoints against the real engine: ps, run, actions, logs, top, exec, prune."""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, bearer, login, wait_for

from .conftest import LABEL, RUN_ID, user_token
from .test_engines import SocketProxy

WAIT = 20.0


@pytest.fixture
def removed(engine: docker.APIClient) -> Iterator[list[str]]:
    """Containers a test made through the API, removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_container(name, force=True, v=True)


def run(api: TestClient[Litestar], removed: list[str], **body: Any) -> dict[str, Any]:
    body.setdefault("labels", dict(LABEL))
    body.setdefault("network_mode", "none")
    response = api.post("/api/docker/run", json=body)
    assert response.status_code == 201, response.text
    removed.append(response.json()["id"])
    return response.json()


# -- ps -----------------------------------------------------------------------------------


def test_ps_lists_running_and_with_all_stopped_containers(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]], test_image: str
) -> None:
    up = make_container("sleep 3600")
    down = make_container("true", start=False)
    label = f"label=skyport.test={RUN_ID}"

    running = api.get("/api/docker/ps", params={"filters": label})
    assert running.status_code == 200, running.text
    by_id = {row["id"]: row for row in running.json()}
    assert up["Id"] in by_id and down["Id"] not in by_id
    row = by_id[up["Id"]]
    assert row["name"] == up["Name"].lstrip("/")
    assert row["image"] == test_image
    assert row["state"] == "running" and row["status"].startswith("Up")
    assert row["labels"]["skyport.test"] == RUN_ID
    assert row["networks"] == ["none"]
    assert row["engine"] == "local"
    assert row["ports"] == []

    everything = api.get("/api/docker/ps", params={"all": "true", "filters": label}).json()
    states = {row["id"]: row["state"] for row in everything}
    assert states[up["Id"]] == "running" and states[down["Id"]] == "created"


def test_ps_filters_as_key_value_or_json(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    one = make_container("sleep 3600")
    make_container("sleep 3600")
    name = one["Name"].lstrip("/")
    by_pairs = api.get(
        "/api/docker/ps", params=[("filters", f"name={name}"), ("filters", "status=running")]
    ).json()
    by_json = api.get("/api/docker/ps", params={"filters": f'{{"name": ["{name}"]}}'}).json()
    assert [r["id"] for r in by_pairs] == [one["Id"]] == [r["id"] for r in by_json]

    bad = api.get("/api/docker/ps", params={"filters": "nonsense"})
    assert bad.status_code == 400 and "filters" in bad.json()["detail"]
    unknown = api.get("/api/docker/ps", params={"filters": "bogus=1"})
    assert unknown.status_code == 400 and "bogus" in unknown.json()["detail"]


def test_ps_across_engines_marks_each_item_and_unknown_engine_is_404(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("sleep 3600")
    rows = api.get("/api/docker/ps", params={"engine": "all", "filters": f"id={made['Id']}"})
    assert rows.status_code == 200
    assert [(r["id"], r["engine"]) for r in rows.json()] == [(made["Id"], "local")]

    unknown = api.get("/api/docker/ps", params={"engine": "nowhere"})
    assert unknown.status_code == 404 and "nowhere" in unknown.json()["detail"]
    single = api.post(f"/api/docker/containers/{made['Id']}/stop", params={"engine": "all"})
    assert single.status_code == 400 and "engine" in single.json()["detail"]


@pytest.fixture
def ghost_app(
    engine: docker.APIClient, make_settings: Callable[..., Settings], tmp_path: Path
) -> Iterator[TestClient[Litestar]]:
    """The docker app with a second engine whose socket does not exist."""
    from skyport_docker import plugin

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="docker")
    socket = tmp_path / "ghost.sock"
    settings = make_settings(docker={"engines": {"ghost": {"url": f"unix://{socket}"}}})
    with TestClient(create_app(settings, plugins=manager)) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client


def test_unreachable_engine_is_503_naming_it_and_left_out_of_all(
    ghost_app: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("sleep 3600")
    down = ghost_app.get("/api/docker/ps", params={"engine": "ghost"})
    assert down.status_code == 503, down.text
    assert "ghost" in down.json()["detail"] and "ghost.sock" in down.json()["detail"]
    assert (
        ghost_app.post(
            "/api/docker/run", json={"image": "x"}, params={"engine": "ghost"}
        ).status_code
        == 503
    )

    both = ghost_app.get("/api/docker/ps", params={"engine": "all", "filters": f"id={made['Id']}"})
    assert both.status_code == 200
    assert both.headers["x-docker-unavailable"] == "ghost"
    assert [r["engine"] for r in both.json()] == ["local"]
    assert ghost_app.get("/api/status").status_code == 200  # the rest keeps serving


def test_an_engine_left_out_of_listings_is_logged_once_until_it_is_back(
    ghost_app: TestClient[Litestar], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def list_all() -> Any:
        listed = ghost_app.get("/api/docker/ps", params={"engine": "all"})
        assert listed.status_code == 200, listed.text
        return listed

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "skyport.docker"]

    with caplog.at_level(logging.INFO, logger="skyport.docker"):
        for _ in range(3):
            assert list_all().headers["x-docker-unavailable"] == "ghost"
        assert len(logged()) == 1 and "ghost left out of listings" in logged()[0]
        assert "no such socket" in logged()[0]
        proxy = SocketProxy(tmp_path / "ghost.sock")  # the engine behind the ghost's socket
        proxy.start()
        try:
            for _ in range(2):
                assert "x-docker-unavailable" not in list_all().headers
        finally:
            proxy.stop()
        assert len(logged()) == 2 and "ghost answers again" in logged()[1]


# -- run ----------------------------------------------------------------------------------


def test_run_applies_every_option(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    test_image: str,
    unique: Callable[[str], str],
    removed: list[str],
    tmp_path: Path,
) -> None:
    volume = engine.create_volume(unique("vol"), labels=LABEL)["Name"]
    name = unique("run")
    result = run(
        api,
        removed,
        image=test_image,
        name=name,
        command="sh -c 'echo $GREETING from $(pwd); sleep 3600'",
        env={"GREETING": "hello", "EMPTY": ""},
        ports=["127.0.0.1:18080:80/tcp", "53/udp"],
        volumes=[f"{volume}:/data", f"{tmp_path}:/host:ro", "/scratch"],
        restart="on-failure:3",
        labels={**LABEL, "app": "web"},
        working_dir="/tmp",
        user="1000:1000",
        hostname="box",
        cpus=0.5,
        memory="64m",
    )
    assert result["name"] == name and result["engine"] == "local"
    info = engine.inspect_container(name)
    assert info["Id"] == result["id"] and info["State"]["Running"]
    config, host = info["Config"], info["HostConfig"]
    assert config["Cmd"] == ["sh", "-c", "echo $GREETING from $(pwd); sleep 3600"]
    assert {"GREETING=hello", "EMPTY="} <= set(config["Env"])
    assert config["Labels"] == {**LABEL, "app": "web"}
    assert (config["WorkingDir"], config["User"], config["Hostname"]) == (
        "/tmp",
        "1000:1000",
        "box",
    )
    assert set(config["ExposedPorts"]) == {"80/tcp", "53/udp"}
    assert host["PortBindings"]["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": "18080"}]
    assert host["PortBindings"]["53/udp"] == [{"HostIp": "", "HostPort": ""}]
    assert set(host["Binds"]) == {f"{volume}:/data:rw", f"{tmp_path}:/host:ro"}
    assert "/scratch" in config["Volumes"]
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["NanoCpus"] == 500_000_000 and host["Memory"] == 64 * 1024 * 1024
    assert host["NetworkMode"] == "none"
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert mounts["/data"]["Name"] == volume and mounts["/host"]["RW"] is False

    logs = wait_for(
        lambda: api.get(f"/api/docker/containers/{name}/logs").json()["lines"], what="output"
    )
    assert logs[0] == {"stream": "stdout", "line": "hello from /tmp"}


def test_run_entrypoint_env_list_create_only_and_auto_remove(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    test_image: str,
    removed: list[str],
) -> None:
    created = run(
        api,
        removed,
        image=test_image,
        entrypoint="/bin/echo",
        command=["from", "entrypoint"],
        env=["A=1", "B=two=2"],
        start=False,
    )
    info = engine.inspect_container(created["id"])
    assert info["State"]["Status"] == "created"
    assert info["Config"]["Entrypoint"] == ["/bin/echo"]
    assert {"A=1", "B=two=2"} <= set(info["Config"]["Env"])
    assert api.post(f"/api/docker/containers/{created['id']}/start").status_code == 200
    lines = wait_for(
        lambda: api.get(f"/api/docker/containers/{created['id']}/logs").json()["lines"],
        what="echo output",
    )
    assert lines == [{"stream": "stdout", "line": "from entrypoint"}]

    gone = run(api, removed, image=test_image, command="true", auto_remove=True, pull="never")
    wait_for(
        lambda: not engine.containers(all=True, filters={"id": gone["id"]}),
        what="the auto-removed container to go",
    )


def test_run_with_a_taken_name_is_409(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]], test_image: str
) -> None:
    taken = make_container("sleep 3600")["Name"].lstrip("/")
    response = api.post(
        "/api/docker/run",
        json={"image": test_image, "name": taken, "network_mode": "none", "labels": LABEL},
    )
    assert response.status_code == 409, response.text
    assert taken in response.json()["detail"]


def test_run_unknown_image_without_pull_is_404_naming_it(api: TestClient[Litestar]) -> None:
    image = f"skyport-missing/nothing-{secrets.token_hex(3)}:1"
    response = api.post("/api/docker/run", json={"image": image, "pull": "never", "labels": LABEL})
    assert response.status_code == 404, response.text
    assert image.split(":")[0] in response.json()["detail"]


def test_run_pulls_a_missing_image_and_reports_the_registry_message(
    api: TestClient[Litestar], engine: docker.APIClient
) -> None:
    image = f"skyport-missing/nothing-{secrets.token_hex(3)}:1"
    with pytest.raises(docker.errors.APIError) as direct:
        engine.pull(image)
    registry_message = str(direct.value.explanation)

    response = api.post("/api/docker/run", json={"image": image, "labels": LABEL})
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    assert image in detail and registry_message in detail
    assert not engine.containers(all=True, filters={"ancestor": image})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ports", ["99999:80"]),
        ("ports", ["1:2:3:4"]),
        ("ports", ["8080:80/icmp"]),
        ("ports", ["300.1.1.1:80:80"]),
        ("volumes", ["relative/dir:/data"]),
        ("volumes", ["/host:relative"]),
        ("volumes", ["/host:/data:bogus"]),
        ("volumes", ["a:b:c:d"]),
        ("env", ["NOVALUE"]),
        ("env", ["=x"]),
        ("env", {"BAD KEY": "x"}),
        ("restart", "sometimes"),
        ("restart", "always:3"),
        ("memory", "lots"),
        ("memory", 0),
        ("memory", 2**64),
        ("memory", "9" * 400 + "t"),
        ("restart", "on-failure:100000000000000000000"),
        ("cpus", 1e308),
        ("cpus", 0),
        ("name", "-bad"),
        ("command", "sh -c 'unclosed"),
    ],
)
def test_run_rejects_an_invalid_spec_naming_the_field(
    api: TestClient[Litestar], test_image: str, field: str, value: Any
) -> None:
    response = api.post(
        "/api/docker/run", json={"image": test_image, field: value, "labels": LABEL}
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["detail"].startswith(f"{field}:")
    assert body["extra"] == {"field": field}


def test_a_port_that_is_not_a_number_is_explained(
    api: TestClient[Litestar], test_image: str
) -> None:
    body = {"image": test_image, "ports": ["abc:80"], "labels": LABEL}
    response = api.post("/api/docker/run", json=body)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "'abc' is not a port number or range (1-65535)" in detail
    assert "invalid literal" not in detail


def test_logs_name_the_container_by_its_id(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("echo hello; sleep 3600")
    name = made["Name"].lstrip("/")
    answer = api.get(f"/api/docker/containers/{name}/logs").json()
    assert answer["id"] == made["Id"]


def test_run_body_validation_names_the_field(api: TestClient[Litestar]) -> None:
    missing = api.post("/api/docker/run", json={"name": "x"})
    assert missing.status_code == 400 and "image" in missing.text
    wrong = api.post("/api/docker/run", json={"image": "x", "cpus": -1})
    assert wrong.status_code == 400 and "cpus" in wrong.text
    unknown = api.post("/api/docker/run", json={"image": "x", "bogus": 1})
    assert unknown.status_code == 400 and "bogus" in unknown.text


def test_run_mistakes_the_engine_finds_at_start_are_400_with_its_message(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    test_image: str,
    unique: Callable[[str], str],
) -> None:
    for field, value, said in [
        ("user", "nosuchuser", "unable to find user nosuchuser"),
        ("command", "nosuchcommand", "executable file not found"),
        ("working_dir", "/bin/busybox", "not a directory"),
    ]:
        name = unique("bad")
        body = {"image": test_image, "name": name, field: value, "network_mode": "none"}
        answer = api.post("/api/docker/run", json={**body, "labels": LABEL})
        assert answer.status_code == 400, (field, answer.text)
        assert said in answer.json()["detail"]
        assert not engine.containers(all=True, filters={"name": name})  # not left behind


# -- inspect, actions, remove -------------------------------------------------------------


def test_inspect_by_name_and_unknown_container_is_404_naming_it(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("sleep 3600")
    response = api.get(f"/api/docker/containers/{made['Name'].lstrip('/')}")
    assert response.status_code == 200
    assert response.json()["Id"] == made["Id"]

    for method, path in [
        ("get", "/api/docker/containers/sp-no-such-box"),
        ("delete", "/api/docker/containers/sp-no-such-box"),
        ("post", "/api/docker/containers/sp-no-such-box/start"),
        ("post", "/api/docker/containers/sp-no-such-box/stop"),
        ("get", "/api/docker/containers/sp-no-such-box/logs"),
        ("get", "/api/docker/containers/sp-no-such-box/top"),
    ]:
        missing = api.request(method, path)
        assert missing.status_code == 404, (path, missing.text)
        assert "sp-no-such-box" in missing.json()["detail"]


def test_lifecycle_actions_change_the_state(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    make_container: Callable[..., dict[str, Any]],
) -> None:
    made = make_container("trap 'exit 0' TERM; while :; do sleep 0.1; done")
    base = f"/api/docker/containers/{made['Id']}"

    def act(action: str, **params: Any) -> dict[str, Any]:
        response = api.post(f"{base}/{action}", params=params)
        assert response.status_code == 200, (action, response.text)
        return response.json()

    assert act("stop", timeout=5)["state"] == "exited"
    assert engine.inspect_container(made["Id"])["State"]["Status"] == "exited"
    paused_while_stopped = api.post(f"{base}/pause")
    assert paused_while_stopped.status_code == 409, paused_while_stopped.text
    started = act("start")
    assert started == {
        "id": made["Id"],
        "name": made["Name"].lstrip("/"),
        "state": "running",
        "running": True,
        "engine": "local",
    }
    first_start = engine.inspect_container(made["Id"])["State"]["StartedAt"]
    assert act("restart", timeout=5)["state"] == "running"
    assert engine.inspect_container(made["Id"])["State"]["StartedAt"] != first_start
    assert act("pause")["state"] == "paused"
    assert api.post(f"{base}/pause").status_code == 409
    assert act("unpause")["state"] == "running"
    bad_signal = api.post(f"{base}/kill", params={"signal": "NOT A SIGNAL"})
    assert bad_signal.status_code == 400 and "signal" in bad_signal.json()["detail"]
    assert act("kill", signal="SIGKILL")["state"] == "exited"
    assert engine.inspect_container(made["Id"])["State"]["ExitCode"] == 137


def test_kill_sends_the_named_signal(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    make_container: Callable[..., dict[str, Any]],
) -> None:
    made = make_container("trap 'echo got-hup; exit 7' HUP; while :; do sleep 0.1; done")
    response = api.post(f"/api/docker/containers/{made['Id']}/kill", params={"signal": "SIGHUP"})
    assert response.status_code == 200, response.text
    wait_for(
        lambda: engine.inspect_container(made["Id"])["State"]["Status"] == "exited",
        what="the trap to exit",
    )
    assert engine.inspect_container(made["Id"])["State"]["ExitCode"] == 7


def test_rename_and_rename_to_a_taken_name(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    make_container: Callable[..., dict[str, Any]],
    unique: Callable[[str], str],
) -> None:
    made = make_container("sleep 3600")
    other = make_container("sleep 3600")["Name"].lstrip("/")
    new_name = unique("renamed")
    renamed = api.post(f"/api/docker/containers/{made['Id']}/rename", json={"name": new_name})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == new_name
    assert engine.inspect_container(made["Id"])["Name"] == f"/{new_name}"

    clash = api.post(f"/api/docker/containers/{new_name}/rename", json={"name": other})
    assert clash.status_code == 409 and other in clash.json()["detail"]
    bad = api.post(f"/api/docker/containers/{new_name}/rename", json={"name": "no spaces"})
    assert bad.status_code == 400 and bad.json()["extra"] == {"field": "name"}


def test_remove_needs_force_while_running_and_can_drop_volumes(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    make_container: Callable[..., dict[str, Any]],
) -> None:
    made = make_container("sleep 3600", volumes=["/data"])
    volume = next(m["Name"] for m in made["Mounts"] if m["Destination"] == "/data")
    path = f"/api/docker/containers/{made['Id']}"

    refused = api.delete(path)
    assert refused.status_code == 409, refused.text
    assert api.delete(path, params={"force": "true", "volumes": "true"}).status_code == 204
    assert not engine.containers(all=True, filters={"id": made["Id"]})
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_volume(volume)


# -- logs, top, exec, prune ---------------------------------------------------------------


def test_logs_streams_tail_timestamps_since(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("echo out1; echo err1 >&2; sleep 0.5; echo out2; sleep 3600")
    path = f"/api/docker/containers/{made['Id']}/logs"
    lines = wait_for(
        lambda: (got := api.get(path).json()["lines"]) and len(got) == 3 and got,
        what="three log lines",
    )
    assert sorted((x["stream"], x["line"]) for x in lines) == [
        ("stderr", "err1"),
        ("stdout", "out1"),
        ("stdout", "out2"),
    ]
    assert [x["line"] for x in api.get(path, params={"stderr": "false"}).json()["lines"]] == [
        "out1",
        "out2",
    ]
    assert api.get(path, params={"tail": 1}).json()["lines"] == [
        {"stream": "stdout", "line": "out2"}
    ]
    stamped = api.get(path, params={"timestamps": "true"}).json()["lines"]
    assert all(x["time"].endswith("Z") and "T" in x["time"] for x in stamped)
    assert api.get(path, params={"since": str(time.time() + 3600)}).json()["lines"] == []
    assert len(api.get(path, params={"since": "1h"}).json()["lines"]) == 3
    bad = api.get(path, params={"since": "yesterday-ish"})
    assert bad.status_code == 400 and bad.json()["extra"] == {"field": "since"}


def _receive_until(ws: Any, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        message = ws.receive_json(timeout=max(0.1, deadline - time.monotonic()))
        if predicate(message):
            return message
    raise AssertionError("no matching WebSocket message")


def test_follow_logs_over_the_websocket(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done")
    name = made["Name"].lstrip("/")
    headers = {"Authorization": api.headers["Authorization"]}
    for topic in (f"docker.logs:{name}", f"docker.logs:local/{made['Id']}"):
        with api.websocket_connect("/ws", headers=headers) as ws:
            ws.send_json({"type": "subscribe", "topics": [topic]})
            assert _receive_until(ws, lambda m: m.get("type") == "subscribed")["topics"] == [topic]
            message = _receive_until(ws, lambda m, t=topic: m.get("topic") == t)
            line = message["data"]["lines"][0]
            assert line["stream"] == "stdout" and line["line"].startswith("tick ")
            assert line["time"].endswith("Z")


def test_followed_logs_end_when_the_container_stops(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("trap 'echo bye; exit 0' TERM; while :; do sleep 0.1; done")
    topic = f"docker.logs:{made['Id']}"
    with api.websocket_connect(
        "/ws", headers={"Authorization": api.headers["Authorization"]}
    ) as ws:
        ws.send_json({"type": "subscribe", "topics": [topic]})
        _receive_until(ws, lambda m: m.get("type") == "subscribed")
        assert api.post(f"/api/docker/containers/{made['Id']}/stop").status_code == 200
        seen: list[str] = []

        def collect(message: dict[str, Any]) -> bool:
            data = message.get("data") or {}
            seen.extend(x["line"] for x in data.get("lines", []))
            return bool(data.get("end"))

        _receive_until(ws, collect)
        assert "bye" in seen


def test_following_an_unknown_container_is_refused(api: TestClient[Litestar]) -> None:
    with api.websocket_connect(
        "/ws", headers={"Authorization": api.headers["Authorization"]}
    ) as ws:
        ws.send_json({"type": "subscribe", "topics": ["docker.logs:sp-no-such-box"]})
        error = _receive_until(ws, lambda m: m.get("type") == "error")
        assert "sp-no-such-box" in error["message"]


def test_top_lists_the_processes(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("sleep 3600")
    response = api.get(f"/api/docker/containers/{made['Id']}/top")
    assert response.status_code == 200, response.text
    body = response.json()
    assert "PID" in body["titles"]
    command = body["titles"].index("CMD")
    assert any("sleep 3600" in row[command] for row in body["processes"])
    stopped = make_container("true", start=False)
    assert api.get(f"/api/docker/containers/{stopped['Id']}/top").status_code == 409
    bogus = api.get(f"/api/docker/containers/{made['Id']}/top", params={"ps_args": "bogus"})
    assert bogus.status_code == 400, bogus.text
    assert bogus.json()["detail"].startswith("ps: ")


def test_exec_returns_exit_code_and_output(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("sleep 3600")
    path = f"/api/docker/containers/{made['Id']}/exec"
    response = api.post(
        path,
        json={"command": "sh -c 'echo hi $WHO; echo oops >&2; exit 3'", "env": {"WHO": "there"}},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["exit_code"], result["stdout"], result["stderr"]) == (3, "hi there\n", "oops\n")
    assert sorted(result["output"].splitlines()) == ["hi there", "oops"]  # order: as it came
    where = api.post(
        path, json={"command": ["sh", "-c", "pwd"], "working_dir": "/bin", "user": "1000"}
    )
    assert where.json()["stdout"] == "/bin\n" and where.json()["exit_code"] == 0
    assert (
        api.post(path, json={"command": ["id", "-u"], "user": "1000"}).json()["stdout"] == "1000\n"
    )

    stopped = make_container("true", start=False)
    refused = api.post(f"/api/docker/containers/{stopped['Id']}/exec", json={"command": "true"})
    assert refused.status_code == 409, refused.text
    assert api.post(path, json={"command": ""}).status_code == 400


def test_prune_removes_only_matching_stopped_containers(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    test_image: str,
    make_container: Callable[..., dict[str, Any]],
    removed: list[str],
) -> None:
    batch = secrets.token_hex(4)
    labels = {**LABEL, "skyport.prune": batch}

    def create(command: str) -> str:
        made = engine.create_container(
            test_image,
            command=["sh", "-c", command],
            labels=labels,
            host_config=engine.create_host_config(network_mode="none"),
        )
        removed.append(made["Id"])
        return str(made["Id"])

    stopped = [create("true") for _ in range(2)]
    running = create("sleep 3600")
    engine.start(running)
    other = make_container("true", start=False)["Id"]

    response = api.post(
        "/api/docker/containers/prune", params={"filters": f"label=skyport.prune={batch}"}
    )
    assert response.status_code == 200, response.text
    assert sorted(response.json()["deleted"]) == sorted(stopped)
    left = {
        c["Id"] for c in engine.containers(all=True, filters={"label": f"skyport.test={RUN_ID}"})
    }
    assert running in left and other in left and not set(stopped) & left


# -- scopes and audit ---------------------------------------------------------------------


def test_scopes_guard_reading_writing_and_exec(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]], test_image: str
) -> None:
    made = make_container("sleep 3600")
    viewer = bearer(user_token(api, "viewer"))
    operator = bearer(user_token(api, "operator"))

    assert api.get("/api/docker/ps", headers=viewer).status_code == 200
    assert api.get(f"/api/docker/containers/{made['Id']}/logs", headers=viewer).status_code == 200
    for path in ("/api/docker/run", f"/api/docker/containers/{made['Id']}/stop"):
        denied = api.post(path, json={"image": test_image}, headers=viewer)
        assert denied.status_code == 403
        assert denied.json()["extra"]["missing_scope"] == "docker:write"
    denied = api.delete(f"/api/docker/containers/{made['Id']}", headers=viewer)
    assert denied.status_code == 403

    exec_path = f"/api/docker/containers/{made['Id']}/exec"
    refused = api.post(exec_path, json={"command": "true"}, headers=operator)
    assert refused.status_code == 403
    assert refused.json()["extra"]["missing_scope"] == "docker:exec"
    assert api.post(exec_path, json={"command": "true"}).json()["exit_code"] == 0

    anonymous = api.get("/api/docker/ps", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_environment_values_are_shown_only_to_writers(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("sleep 3600", environment=["DB_PASSWORD=s3cret=x", "EMPTY="])
    path = f"/api/docker/containers/{made['Id']}"
    seen = api.get(path, headers=bearer(user_token(api, "viewer"))).json()["Config"]["Env"]
    assert "DB_PASSWORD=***" in seen and "EMPTY=***" in seen
    assert not any("s3cret" in line for line in seen)
    for headers in (bearer(user_token(api, "operator")), {}):
        seen = api.get(path, headers=headers).json()["Config"]["Env"]
        assert "DB_PASSWORD=s3cret=x" in seen


def test_mutating_calls_are_audited(
    api: TestClient[Litestar], make_container: Callable[..., dict[str, Any]]
) -> None:
    made = make_container("sleep 3600")
    assert api.post(f"/api/docker/containers/{made['Id']}/pause").status_code == 200
    assert api.post("/api/docker/containers/sp-no-such-box/start").status_code == 404
    entries = api.get("/api/audit", params={"limit": 20}).json()["items"]
    targets = {(e["target"], e["result"]) for e in entries}
    assert any(t.endswith(f"{made['Id']}/pause") and r.startswith("ok") for t, r in targets)
    assert ("/api/docker/containers/sp-no-such-box/start", "failed (404)") in targets
