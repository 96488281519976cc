"""``/api/pm2``: every endpoint against the real daemon, errors, env redaction, scopes."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from skyport.testing import bearer, free_port, promtool_problems, wait_for

from .conftest import rows_named, rpc, start_app

SECRET = "hunter2-do-not-show"


def http_get(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return dict(json.loads(response.read()))


def serving(port: int) -> dict[str, Any] | None:
    try:
        return http_get(port)
    except OSError:
        return None


class Poller:
    """Asks the app on ``port`` again and again in a thread, counting answers and refusals.

    A refused connection means nothing listened: downtime. (A request that the
    cluster hands to a worker just as it closes may hang: Node's race, not pm2's.)
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.answered = 0
        self.refused = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Poller:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        while not self.done.is_set():
            try:
                http_get(self.port)
                self.answered += 1
            except OSError as exc:
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                self.refused += isinstance(reason, ConnectionRefusedError)
            self.done.wait(0.01)


def test_start_a_script_lists_it_online_and_it_serves(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    name, port = unique("web"), free_port()
    started = start_app(
        api, script=str(scripts / "server.js"), name=name, env={"PORT": str(port)}, args=["--x"]
    )
    assert len(started["ids"]) == 1
    (row,) = rows_named(api, name)
    assert row["pm_id"] == started["ids"][0]
    assert (row["status"], row["mode"], row["instances"]) == ("online", "fork", 1)
    assert row["script"] == str(scripts / "server.js") and row["cwd"] == str(scripts)
    assert row["interpreter"] == "node" and row["watch"] is False and row["pid"] > 0
    assert wait_for(lambda: serving(port), "the app to serve")["pid"] == row["pid"]
    (detail,) = api.get(f"/api/pm2/processes/{name}").json()
    assert detail["args"] == ["--x"] and detail["autorestart"] is True
    assert detail["out_log"].endswith(f"{name}-out.log")


def test_options_reach_the_daemon(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    name = unique("opts")
    start_app(
        api,
        script="logger.js",
        cwd=str(scripts),
        name=name,
        interpreter="node",
        interpreter_args="--max-old-space-size=64",
        watch=True,
        max_memory_restart="200M",
        cron_restart="0 3 * * *",
        autorestart=False,
        namespace="tests",
    )
    (detail,) = api.get(f"/api/pm2/processes/{name}").json()
    assert detail["interpreter_args"] == ["--max-old-space-size=64"]
    assert detail["watch"] is True and detail["autorestart"] is False
    assert detail["max_memory_restart"] == 200 * 1024 * 1024
    assert detail["cron_restart"] == "0 3 * * *" and detail["namespace"] == "tests"
    # a namespace names its processes too
    assert [r["name"] for r in api.get("/api/pm2/processes/tests").json()] == [name]


def test_start_errors_name_the_problem(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    missing = api.post("/api/pm2/start", json={"script": str(scripts / "nope.js")})
    assert missing.status_code == 400 and str(scripts / "nope.js") in missing.json()["detail"]
    folder = api.post("/api/pm2/start", json={"script": str(scripts)})
    assert folder.status_code == 400 and "not a readable file" in folder.json()["detail"]
    relative = api.post("/api/pm2/start", json={"script": "server.js"})
    assert relative.status_code == 400 and "relative" in relative.json()["detail"]
    script = str(scripts / "logger.js")
    for body, field in (
        ({"script": script, "max_memory_restart": "lots"}, "max_memory_restart"),
        ({"script": script, "cron_restart": "every day"}, "cron_restart"),
        ({"script": script, "name": "42"}, "name"),
        ({"script": script, "interpreter": "python3", "exec_mode": "cluster"}, "exec_mode"),
        ({}, "script"),
    ):
        answer = api.post("/api/pm2/start", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert field in answer.json()["detail"], answer.text
    name = unique("dup")
    start_app(api, script=script, name=name)
    again = api.post("/api/pm2/start", json={"script": script, "name": name})
    assert again.status_code == 409 and name in again.json()["detail"]


def test_start_refuses_an_interpreter_or_a_name_it_cannot_use(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    script = str(scripts / "logger.js")
    # pm2 itself starts it anyway: an "online" process without a pid that zeroes everyone's CPU
    missing = api.post(
        "/api/pm2/start", json={"script": script, "interpreter": "sp-no-such-interpreter"}
    )
    assert missing.status_code == 400, missing.text
    assert missing.json()["detail"].startswith("interpreter: 'sp-no-such-interpreter'")
    assert "PATH" in missing.json()["detail"]
    assert rows_named(api, "logger") == []
    for bad in ("a/b", " web", "", "x" * 129):
        answer = api.post("/api/pm2/start", json={"script": script, "name": bad})
        assert answer.status_code == 400, answer.text
        detail = answer.json()["detail"]
        assert detail.startswith("name: ") and "regex" not in detail, detail
    name = unique("sh")
    absolute = start_app(api, script=script, name=name, interpreter=shutil.which("node"))
    assert absolute["processes"][0]["interpreter"] == shutil.which("node")


def test_actions_by_name_and_id_and_unknown_processes(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    name = unique("act")
    (pm_id,) = start_app(api, script=str(scripts / "logger.js"), name=name)["ids"]
    stopped = api.post(f"/api/pm2/processes/{name}/stop")
    assert stopped.status_code == 200 and stopped.json()[0]["status"] == "stopped"
    started = api.post(f"/api/pm2/processes/{pm_id}/start").json()
    assert started[0]["status"] == "online"
    first_pid = started[0]["pid"]
    restarted = api.post(f"/api/pm2/processes/{pm_id}/restart").json()
    assert restarted[0]["pid"] != first_pid and restarted[0]["restarts"] >= 1
    reset = api.post(f"/api/pm2/processes/{name}/reset").json()
    assert reset[0]["restarts"] == 0
    signalled = api.post(f"/api/pm2/processes/{name}/signal", json={"signal": "SIGCONT"})
    assert signalled.status_code == 200
    bad_signal = api.post(f"/api/pm2/processes/{name}/signal", json={"signal": "SIGNOPE"})
    assert bad_signal.status_code == 400 and "SIGNOPE" in bad_signal.json()["detail"]
    deleted = api.delete(f"/api/pm2/processes/{name}")
    assert deleted.status_code == 200 and deleted.json()[0]["pm_id"] == pm_id
    assert rows_named(api, name) == []
    for method, path in (
        ("GET", f"/api/pm2/processes/{name}"),
        ("POST", f"/api/pm2/processes/{name}/stop"),
        ("POST", f"/api/pm2/processes/{name}/flush"),
        ("GET", f"/api/pm2/processes/{name}/logs"),
        ("DELETE", f"/api/pm2/processes/{name}"),
        ("POST", "/api/pm2/processes/9999/restart"),
    ):
        answer = api.request(method, path)
        assert answer.status_code == 404, (path, answer.text)
        assert path.split("/")[4] in answer.json()["detail"]
    assert api.post(f"/api/pm2/processes/{name}/explode").status_code in (400, 404)


def test_signals_reach_the_app(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    name = unique("sig")
    start_app(api, script=str(scripts / "server.js"), name=name, env={"PORT": str(free_port())})

    def said(text: str) -> bool:
        lines = api.get(f"/api/pm2/processes/{name}/logs", params={"lines": 50}).json()["lines"]
        return any(text in line["line"] for line in lines)

    wait_for(lambda: said("listening"), "the app to start")
    assert api.post(f"/api/pm2/processes/{name}/signal", json={"signal": "USR2"}).status_code == 200
    wait_for(lambda: said("got SIGUSR2"), "the signal to arrive")


def test_cluster_mode_two_instances_reload_and_scale(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    name, port = unique("cluster"), free_port()
    started = start_app(
        api, script=str(scripts / "server.js"), name=name, instances=2, env={"PORT": str(port)}
    )
    assert len(started["ids"]) == 2
    rows = rows_named(api, name)
    assert [r["mode"] for r in rows] == ["cluster", "cluster"]
    assert [r["instances"] for r in rows] == [2, 2]
    wait_for(lambda: serving(port), "the cluster to serve")
    before = {r["pm_id"]: r["pid"] for r in rows}
    with Poller(port) as poller:  # requests all through the reload
        reloaded = api.post(f"/api/pm2/processes/{name}/reload")
    assert reloaded.status_code == 200, reloaded.text
    assert poller.answered > 0 and poller.refused == 0
    after = {r["pm_id"]: r for r in reloaded.json()}
    assert set(after) == set(before)
    assert all(r["status"] == "online" and r["pid"] != before[i] for i, r in after.items())
    assert serving(port) is not None  # still serving after a zero-downtime reload
    scaled = api.post(f"/api/pm2/processes/{name}/scale", json={"instances": 3}).json()
    assert scaled["instances"] == 3 and len(scaled["added"]) == 1
    assert len(rows_named(api, name)) == 3
    down = api.post(f"/api/pm2/processes/{name}/scale", json={"instances": "-2"}).json()
    assert down["instances"] == 1 and len(down["removed"]) == 2
    assert len(rows_named(api, name)) == 1
    too_far = api.post(f"/api/pm2/processes/{name}/scale", json={"instances": -5})
    assert too_far.status_code == 400
    assert too_far.json()["detail"] == (
        "instances: -5 would leave -4 instances: keep between 1 and 256 (or delete)"
    )


def test_a_crasher_is_restarted_unless_autorestart_is_off(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    again, once = unique("crash"), unique("crash-once")
    start_app(api, script=str(scripts / "crasher.js"), name=again)
    start_app(api, script=str(scripts / "crasher.js"), name=once, autorestart=False)
    wait_for(lambda: rows_named(api, again)[0]["restarts"] >= 2, "pm2 to restart the crasher")
    wait_for(lambda: rows_named(api, once)[0]["status"] == "stopped", "the crasher to stop")
    (detail,) = api.get(f"/api/pm2/processes/{once}").json()
    assert detail["exit_code"] == 3 and detail["restarts"] == 0


def test_logs_last_lines_of_out_and_err_then_flush(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    name = unique("logs")
    start_app(api, script=str(scripts / "crasher.js"), name=name, autorestart=False)
    wait_for(lambda: rows_named(api, name)[0]["status"] == "stopped", "the app to end")
    logs = api.get(f"/api/pm2/processes/{name}/logs", params={"lines": 5}).json()
    assert [(x["stream"], x["line"]) for x in logs["lines"]] == [
        ("out", "about to crash"),
        ("err", "crash: no reason"),
    ]
    assert api.get(f"/api/pm2/processes/{name}/logs", params={"lines": 20000}).status_code == 400
    flushed = api.post(f"/api/pm2/processes/{name}/flush").json()
    assert len(flushed["files"]) == 2
    assert api.get(f"/api/pm2/processes/{name}/logs").json()["lines"] == []
    assert api.post("/api/pm2/flush").status_code == 200


def test_environment_values_are_redacted_except_for_an_admin_asking(
    api: TestClient[Litestar],
    scripts: Path,
    unique: Callable[[str], str],
    user_token: Callable[[str], str],
) -> None:
    name = unique("env")
    start_app(
        api,
        script=str(scripts / "crasher.js"),
        name=name,
        env={"CRASH_REASON": "planned", "API_TOKEN": SECRET},
        autorestart=False,
    )
    for path in ("/api/pm2/list", f"/api/pm2/processes/{name}", "/api/metrics"):
        assert SECRET not in api.get(path).text, path
    (detail,) = api.get(f"/api/pm2/processes/{name}").json()
    assert detail["env"]["API_TOKEN"] == "<redacted>" and detail["env_revealed"] is False
    assert "PATH" in detail["env"]  # the server's environment, as with the pm2 CLI
    (revealed,) = api.get(f"/api/pm2/processes/{name}", params={"reveal_env": True}).json()
    assert revealed["env"]["API_TOKEN"] == SECRET and revealed["env_revealed"] is True
    audit = api.get("/api/audit").text
    assert "pm2: reveal environment" in audit and name in audit and SECRET not in audit
    (entry,) = api.get("/api/audit", params={"action": "pm2: reveal environment"}).json()["items"]
    assert (entry["username"], entry["target"], entry["client"]) == ("admin", name, "testclient")
    operator = bearer(user_token("operator"))
    refused = api.get(f"/api/pm2/processes/{name}?reveal_env=true", headers=operator)
    assert refused.status_code == 403
    assert api.get("/api/pm2/processes/all?reveal_env=true").status_code == 403


def test_a_viewer_reads_but_cannot_change(
    api: TestClient[Litestar],
    scripts: Path,
    unique: Callable[[str], str],
    user_token: Callable[[str], str],
) -> None:
    name = unique("scoped")
    start_app(api, script=str(scripts / "logger.js"), name=name)
    viewer = bearer(user_token("viewer"))
    assert api.get("/api/pm2/list", headers=viewer).status_code == 200
    assert api.get(f"/api/pm2/processes/{name}/logs", headers=viewer).status_code == 200
    for method, path, body in (
        ("POST", f"/api/pm2/processes/{name}/stop", None),
        ("DELETE", f"/api/pm2/processes/{name}", None),
        ("POST", "/api/pm2/start", {"script": str(scripts / "logger.js")}),
        ("POST", "/api/pm2/save", None),
        ("POST", "/api/pm2/ecosystem", {"file": str(scripts / "ecosystem.config.js")}),
    ):
        answer = api.request(method, path, json=body, headers=viewer)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["extra"]["missing_scope"] == "pm2:write"
    assert rows_named(api, name)[0]["status"] == "online"
    audit = json.dumps(api.get("/api/audit").json())
    assert "/api/pm2/start" in audit  # every mutating call is audited, refused ones too


def test_ecosystem_files_are_listed_and_started(
    api: TestClient[Litestar], scripts: Path, daemon: Path
) -> None:
    file = scripts / "ecosystem.config.js"
    listed = api.post("/api/pm2/ecosystem", json={"file": str(file)})
    assert listed.status_code == 200, listed.text
    apps = {a["name"]: a for a in listed.json()["apps"]}
    assert apps["eco-logger"]["env"] == {"ECO_SECRET": "<redacted>"}
    assert apps["eco-server"]["instances"] == 2 and apps["eco-server"]["running"] == 0
    assert "eco-hunter2" not in listed.text
    only = api.post("/api/pm2/start", json={"ecosystem": str(file), "only": ["eco-logger"]})
    assert only.status_code == 201, only.text
    assert [p["name"] for p in only.json()["processes"]] == ["eco-logger"]
    assert len(only.json()["ids"]) == 1
    everything = api.post("/api/pm2/start", json={"ecosystem": str(file)}).json()
    assert sorted(p["name"] for p in everything["processes"]) == [
        "eco-logger",
        "eco-server",
        "eco-server",
    ]
    json_file = scripts / "eco.json"
    json_file.write_text(json.dumps({"apps": [{"name": "j", "script": "logger.js"}]}))
    assert (
        api.post("/api/pm2/ecosystem", json={"file": str(json_file)}).json()["apps"][0]["name"]
        == "j"
    )
    for bad in ("relative.config.js", str(scripts / "missing.config.js"), str(scripts / "x.txt")):
        assert api.post("/api/pm2/ecosystem", json={"file": bad}).status_code == 400
    broken = scripts / "broken.config.js"
    broken.write_text("module.exports = {apps: [")
    answer = api.post("/api/pm2/ecosystem", json={"file": str(broken)})
    assert answer.status_code == 400 and "broken.config.js" in answer.json()["detail"]
    unknown = api.post("/api/pm2/start", json={"ecosystem": str(file), "only": ["nope"]})
    assert unknown.status_code == 400 and "nope" in unknown.json()["detail"]


def test_an_ecosystem_file_that_never_ends_is_a_400_before_the_client_gives_up(
    api: TestClient[Litestar], tmp_path: Path
) -> None:
    endless = tmp_path / "endless.config.js"
    endless.write_text("while (true) {}")
    for answer in (
        api.post("/api/pm2/ecosystem", json={"file": str(endless)}),
        api.post("/api/pm2/start", json={"ecosystem": str(endless)}),
    ):
        assert answer.status_code == 400, answer.text
        # the CLI waits 30 s for an answer: a file may take far less to load
        assert answer.json()["detail"] == f"ecosystem: {endless}: still running after 5 s"


def test_save_then_resurrect(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str], daemon: Path
) -> None:
    name = unique("saved")
    start_app(api, script=str(scripts / "logger.js"), name=name)
    saved = api.post("/api/pm2/save")
    assert saved.status_code == 200, saved.text
    assert saved.json()["processes"] == 1 and (daemon / "dump.pm2").exists()
    gone = api.post("/api/pm2/processes/all/delete")  # the action form of DELETE
    assert [r["name"] for r in gone.json()] == [name]
    assert rows_named(api, name) == []
    back = api.post("/api/pm2/resurrect")
    assert back.status_code == 200, back.text
    assert [r["name"] for r in back.json()] == [name]
    assert rpc(daemon, "getMonitorData", {})[0]["name"] == name


def test_metrics_collector_reports_each_process(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    name = unique("metrics")
    (pm_id,) = start_app(api, script=str(scripts / "logger.js"), name=name)["ids"]
    snapshot = api.get("/api/metrics").json()["collectors"]["pm2"]
    assert snapshot["daemon_up"] is True and snapshot["online"] >= 1
    (row,) = [p for p in snapshot["process"] if p["pm_id"] == pm_id]
    assert row["name"] == f"{name}:{pm_id}" and row["online"] is True
    assert row["memory_bytes"] > 0 and row["restarts"] == 0 and row["uptime_seconds"] >= 0
    prometheus = api.get("/metrics").text
    assert f'skyport_pm2_process_memory_bytes{{name="{name}:{pm_id}"}}' in prometheus
    assert promtool_problems(prometheus) == []


def test_dashboard_panel_lists_processes_with_actions(api: TestClient[Litestar]) -> None:
    panels = api.get("/api/dashboard/panels").json()
    (panel,) = [p for p in panels if p["id"] == "pm2-processes"]
    assert panel["source"] == "/pm2/list"
    assert {a["id"] for a in panel["actions"]} == {"start", "stop", "restart", "delete"}


def test_interpreter_follows_the_extension_and_executables_run_as_they_are(
    api: TestClient[Litestar], scripts: Path, unique: Callable[[str], str]
) -> None:
    shell = scripts / "hello.sh"
    shell.write_text('echo "hello from $0"\nexec sleep 30\n')
    binary = scripts / "hello-bin"
    binary.write_text('#!/bin/sh\necho "binary says hi"\nexec sleep 30\n')
    binary.chmod(0o755)
    for script, interpreter, said in ((shell, "bash", "hello from"), (binary, "none", "says hi")):
        name = unique("interp")
        start_app(api, script=str(script), name=name)
        assert rows_named(api, name)[0]["interpreter"] == interpreter

        def logged(name: str = name, said: str = said) -> bool:
            lines = api.get(f"/api/pm2/processes/{name}/logs").json()["lines"]
            return any(said in line["line"] for line in lines)

        wait_for(logged, f"{script.name} to print")
