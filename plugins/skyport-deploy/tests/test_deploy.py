"""Deploying the sample projects for real: PM2 and the Docker engine, answering on 127.0.0.1,
redeployed with a change, a broken redeploy kept from replacing the good one, rolled back,
removed; and bad input refused with nothing left behind."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import docker
from litestar import Litestar
from litestar.testing import TestClient

from skyport.testing import free_port, login, wait_for

from .conftest import PM2, answer, copy_sample, deploy

BROKEN_SERVER = """
console.log('starting on ' + process.env.PORT);
throw new Error('the new version is broken');
"""


def data_dir() -> Path:
    return Path(os.environ["SKYPORT_DATA_DIR"]) / "deploy" / "apps"


def pm2_names(home: Path) -> list[str]:
    return [p["name"] for p in PM2.rpc(home, "getMonitorData", {})]


def test_a_node_app_deploys_redeploys_survives_a_broken_release_rolls_back_and_goes(
    api: TestClient[Litestar], tmp_path: Path, pm2_home: Path
) -> None:
    project, port = copy_sample("node-http", tmp_path / "hello"), free_port()
    first = deploy(api, project, name="hello", port=port, env={"GREETING": "hej"})
    assert first["state"] == "live", first["error"]
    assert json.loads(answer(port) or "{}") == {
        "app": "node",
        "version": "1.0.0",
        "greeting": "hej",
    }
    shown = api.get("/api/deploy/apps/hello").json()
    assert shown["status"]["state"] == "running" and shown["target"] == "pm2"
    assert shown["url"] == f"http://127.0.0.1:{port}/" and shown["env"] == ["GREETING"]
    assert "hello-1" in pm2_names(pm2_home)

    package = json.loads((project / "package.json").read_text())
    (project / "package.json").write_text(json.dumps({**package, "version": "2.0.0"}))
    second = deploy(api, project, name="hello")
    assert second["state"] == "live", second["error"]
    assert any("spare port" in s["step"] for s in second["steps"])
    assert json.loads(answer(port) or "{}")["version"] == "2.0.0"  # same port, GREETING kept
    assert json.loads(answer(port) or "{}")["greeting"] == "hej"

    (project / "server.js").write_text(BROKEN_SERVER)
    broken = deploy(api, project, name="hello")
    assert broken["state"] == "failed"
    assert broken["error"].startswith("release 3 ")
    assert not any("stopping release 2" in s["step"] for s in broken["steps"])  # tried aside
    assert "the new version is broken" in broken["error"]
    assert json.loads(answer(port) or "{}")["version"] == "2.0.0"  # the good one stays
    assert "hello-3" not in pm2_names(pm2_home)

    back = api.post("/api/deploy/apps/hello/rollback")
    assert back.status_code == 200, back.text
    assert back.json()["live"] == 1
    assert wait_for(lambda: json.loads(answer(port) or "{}").get("version") == "1.0.0", "v1")
    logs = api.get("/api/deploy/apps/hello/logs", params={"lines": 5}).json()["lines"]
    assert any("hello-node 1.0.0 listening" in line for line in logs)

    assert api.delete("/api/deploy/apps/hello").status_code == 204
    assert answer(port) is None
    assert not [n for n in pm2_names(pm2_home) if n.startswith("hello-")]
    assert not (data_dir() / "hello").exists()
    assert api.get("/api/deploy/apps/hello").status_code == 404


def test_a_dockerfile_project_is_built_run_on_the_host_network_and_replaced(
    api: TestClient[Litestar], tmp_path: Path, engine: docker.APIClient
) -> None:
    project, port = copy_sample("dockerfile", tmp_path / "site"), free_port()
    first = deploy(api, project, name="boxed", port=port)
    assert first["state"] == "live", first["error"]
    assert any(s["step"].startswith("build | Step") for s in first["steps"])
    assert "hello from a Dockerfile, version 1" in (answer(port) or "")
    (container,) = engine.containers(filters={"name": "boxed-1"})
    assert engine.inspect_container(container["Id"])["HostConfig"]["NetworkMode"] == "host"

    (project / "www" / "index.html").write_text("<p>hello from a Dockerfile, version 2</p>\n")
    second = deploy(api, project, name="boxed")
    assert second["state"] == "live", second["error"]
    assert "version 2" in (answer(port) or "")
    assert engine.images(name="skyport-deploy/boxed")  # release 2's, and 1's kept for rollback

    assert api.delete("/api/deploy/apps/boxed").status_code == 204
    assert not engine.containers(all=True, filters={"label": "skyport.deploy=boxed"})
    assert not engine.images(name="skyport-deploy/boxed")


def test_a_static_site_is_served_by_a_small_web_server_container(
    api: TestClient[Litestar], tmp_path: Path
) -> None:
    port = free_port()
    site = deploy(api, copy_sample("static-site", tmp_path / "site"), name="site", port=port)
    assert site["state"] == "live", site["error"]
    assert "hello from a static site" in (answer(port) or "")


def test_a_compose_project_comes_up_as_a_stack(
    api: TestClient[Litestar], tmp_path: Path, engine: docker.APIClient
) -> None:
    port = free_port()
    stack = deploy(api, copy_sample("compose", tmp_path / "stack"), name="stacked", port=port)
    assert stack["state"] == "live", stack["error"]
    assert "hello from compose, version 1" in (answer(port) or "")
    assert engine.containers(filters={"label": "com.docker.compose.project=stacked-1"})
    assert api.delete("/api/deploy/apps/stacked").status_code == 204
    assert not engine.containers(
        all=True, filters={"label": "com.docker.compose.project=stacked-1"}
    )


def test_a_python_asgi_app_runs_in_a_virtual_environment_under_pm2(
    api: TestClient[Litestar], tmp_path: Path
) -> None:
    port = free_port()
    app = deploy(api, copy_sample("python-asgi", tmp_path / "py"), name="py", port=port)
    assert app["state"] == "live", app["error"]
    assert json.loads(answer(port) or "{}") == {"app": "python", "version": "1", "greeting": None}


# -- bad input ----------------------------------------------------------------------------------


def post(
    api: TestClient[Litestar], folder: Path | None, route: str = "apps", **options: object
) -> Any:
    """POST /api/deploy/<route> (``apps``: deploy; ``detect``) with ``folder`` packed."""
    from skyport_deploy.sources import pack

    files: dict[str, object] = {"options": (None, json.dumps(options))}
    if folder is not None:
        files["project"] = ("p.tar.gz", pack(folder), "application/gzip")
    return api.post(f"/api/deploy/{route}", files=files)


def nothing_left(api: TestClient[Litestar], name: str) -> bool:
    return (
        api.get(f"/api/deploy/apps/{name}").status_code == 404 and not (data_dir() / name).exists()
    )


def test_detect_says_the_type_the_evidence_and_the_plan_and_keeps_nothing(
    api: TestClient[Litestar], tmp_path: Path
) -> None:
    project = copy_sample("node-http", tmp_path / "hello")
    found = post(api, project, route="detect")
    assert found.status_code == 200, found.text
    detection = found.json()
    assert detection["type"] == "node" and detection["plan"]["target"] == "pm2"
    assert "package.json" in {e["file"] for e in detection["evidence"]}
    assert api.get("/api/deploy/apps/hello").status_code == 404  # detecting deploys nothing
    assert not any((data_dir().parent / "detect").iterdir())  # nor keeps the upload

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "notes.txt").write_text("just notes")
    not_a_project = post(api, tmp_path / "notes", route="detect")
    assert not_a_project.status_code == 400 and "no project found" in not_a_project.text
    neither = post(api, None, route="detect")
    assert neither.status_code == 400 and "a tar.gz upload or a git URL" in neither.text

    created = api.post(
        "/api/users", json={"username": "vic", "password": "vic-password-1", "role": "viewer"}
    )
    assert created.status_code == 201, created.text
    viewer = {"Authorization": f"Bearer {login(api, 'vic', 'vic-password-1')}"}
    files = {"options": (None, json.dumps({"git": "git://127.0.0.1:9/none.git"}))}
    cloning = api.post("/api/deploy/detect", files=files, headers=viewer)
    assert cloning.status_code == 403 and "needs deploy:write" in cloning.text


def test_what_is_not_a_project_is_a_400_and_leaves_nothing(
    api: TestClient[Litestar], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("just notes")
    refused = post(api, tmp_path, name="notes")
    assert refused.status_code == 400
    assert "no project found" in refused.json()["detail"]
    assert nothing_left(api, "notes")


def test_a_project_without_a_start_command_is_a_400(
    api: TestClient[Litestar], tmp_path: Path
) -> None:
    (tmp_path / "package.json").write_text('{"name": "lib"}')
    refused = post(api, tmp_path, name="lib")
    assert refused.status_code == 400
    assert "no start command" in refused.json()["detail"]
    assert nothing_left(api, "lib")


def test_a_build_that_fails_shows_its_last_lines_and_leaves_nothing(
    api: TestClient[Litestar], tmp_path: Path, engine: docker.APIClient
) -> None:
    project = copy_sample("dockerfile", tmp_path / "broken")
    (project / "Dockerfile").write_text(
        "FROM skyport-test/busybox:latest\nRUN echo missing dependency libfoo >&2 && false\n"
    )
    failed = deploy(api, project, name="broken", port=free_port())
    assert failed["state"] == "failed"
    assert "the image build failed" in failed["error"] and "libfoo" in failed["error"]
    assert nothing_left(api, "broken")
    assert not engine.images(name="skyport-deploy/broken")
    assert not engine.containers(all=True, filters={"name": "broken-1"})


def test_a_port_in_use_is_a_409(api: TestClient[Litestar], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = post(api, copy_sample("node-http", tmp_path / "n"), name="clash", port=port)
    assert refused.status_code == 409
    assert f"port {port} is already in use" in refused.json()["detail"]
    assert nothing_left(api, "clash")


def test_bad_options_and_archives_are_400s(api: TestClient[Litestar], tmp_path: Path) -> None:
    sample = copy_sample("node-http", tmp_path / "n")
    cases = [
        (post(api, sample, name="Bad Name"), "name: 'Bad Name'"),
        (post(api, sample, name="x", env={"1X": "y"}), "env: '1X' is not a variable name"),
        (post(api, sample, name="x", target="kubernetes"), "options: Expected `str` matching"),
        (post(api, None, name="x"), "give the project as a tar.gz upload or a git URL"),
        (post(api, None, name="x", git="/etc"), "is not a git URL this server may clone"),
        (post(api, sample, name="x", target="docker"), "target: a node project runs on pm2"),
    ]
    for response, said in cases:
        assert response.status_code == 400, response.text
        assert said.split(":")[0] in response.json()["detail"], response.text
    garbage = api.post(
        "/api/deploy/apps",
        files={"options": (None, '{"name": "x"}'), "project": ("p.tar.gz", b"not gzip", "x")},
    )
    assert garbage.status_code == 400 and "not a readable tar.gz" in garbage.json()["detail"]
    assert nothing_left(api, "x")


def test_an_operator_cannot_deploy_a_compose_project_that_mounts_the_host(
    api: TestClient[Litestar], tmp_path: Path, engine: docker.APIClient
) -> None:
    from skyport.testing import bearer, login

    body = {"username": "ops", "password": "ops-password-1", "role": "operator"}
    assert api.post("/api/users", json=body).status_code == 201
    project = copy_sample("compose", tmp_path / "escape")
    compose = (project / "compose.yaml").read_text()
    (project / "compose.yaml").write_text(compose + "    volumes:\n      - /:/host\n")
    api.headers.update(bearer(login(api, "ops", "ops-password-1")))
    refused = deploy(api, project, name="escape", port=free_port())
    assert refused["state"] == "failed"
    assert "docker:host" in refused["error"] and "volumes" in refused["error"]
    assert not engine.containers(all=True, filters={"label": "com.docker.compose.project=escape-1"})
    assert nothing_left(api, "escape")


def test_a_git_url_the_server_can_reach_is_cloned_and_deployed(
    api: TestClient[Litestar], tmp_path: Path
) -> None:
    import subprocess

    from skyport.testing import free_port as any_port

    project = copy_sample("node-http", tmp_path / "repos" / "hello.git-work")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=project, check=True)
    subprocess.run([*git, "add", "."], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], cwd=project, check=True)
    bare = tmp_path / "repos" / "hello.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(project), str(bare)], check=True)
    daemon_port = any_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            f"--base-path={tmp_path / 'repos'}",
            "--listen=127.0.0.1",
            f"--port={daemon_port}",
            str(tmp_path / "repos"),
        ]
    )
    try:
        wait_for(lambda: _listening(daemon_port), "git daemon")
        port = free_port()
        url = f"git://127.0.0.1:{daemon_port}/hello.git"
        cloned = deploy(api, None, name="from-git", git=url, ref="main", port=port)
        assert cloned["state"] == "live", cloned["error"]
        assert cloned["source"] == f"git {url} (main)"
        assert any(s["step"].startswith("cloned ") for s in cloned["steps"])
        assert json.loads(answer(port) or "{}")["version"] == "1.0.0"
        missing = deploy(api, None, name="nowhere", git=f"git://127.0.0.1:{daemon_port}/no.git")
        assert missing["state"] == "failed" and missing["error"].startswith("git: git failed")
        assert nothing_left(api, "nowhere")
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
