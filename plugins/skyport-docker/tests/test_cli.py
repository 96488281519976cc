"""``skyport docker …`` run in-process (``main([...])``) against the real engine.

No server is configured, so the CLI runs in local mode: the application
(every installed plugin, strict) runs in-process on the test's data dir, as
on a machine with no SkyPort server. Everything the tests make carries the
label ``skyport.test=<run id>`` (or is removed by the test).
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from skyport.testing import ADMIN_PASSWORD, CliResult, LiveServer, one_line_error, wait_for
from skyport.testing import cli_ok as ok

from .conftest import LABEL, RUN_ID, TEST_IMAGE

LABEL_ARG = f"skyport.test={RUN_ID}"
OURS = f"label={LABEL_ARG}"
"""A --filter for what this test run made."""
WAIT = 20.0
Result = CliResult
Run = Callable[..., Result]


@pytest.fixture
def cli(engine: docker.APIClient, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``cli("docker", "ps", stdin="...", tty=False)`` → exit code, stdout, stderr (local mode)."""
    monkeypatch.setenv("SKYPORT_PLUGINS__STRICT", "true")  # a broken plugin fails loudly
    return run_cli


def docker_cli(cli: Run) -> Run:
    return lambda *args, **kw: cli("docker", *args, **kw)


@pytest.fixture
def sp(cli: Run) -> Run:
    """``sp("ps", "-a")`` is ``skyport docker ps -a``."""
    return docker_cli(cli)


@pytest.fixture
def removed(engine: docker.APIClient) -> Iterator[list[str]]:
    """Containers a test made through the CLI, removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_container(name, force=True, v=True)


# -- loading --------------------------------------------------------------------------------


def test_local_mode_loads_the_docker_plugin(cli: Run) -> None:
    status = ok(cli("status", "--json")).json()
    assert "docker" in status["plugins"]["loaded"], status["plugins"]


def test_engine_check_names_the_engine_and_the_compose_tool(sp: Run) -> None:
    checked = sp("engine", "check")
    assert checked.code == 0, checked
    lines = checked.out.splitlines()
    assert (
        lines[0].startswith("engine ") and "local (unix://" in lines[0] and "up (Docker" in lines[0]
    )
    assert lines[1].startswith("compose ") and lines[1].endswith(": reaches it")
    assert sp("engine", "check", "--json").json()["ok"] is True  # type: ignore[index]


def test_cli_module_imports_neither_the_sdk_nor_the_server() -> None:
    code = (
        "import sys; import skyport_docker.cli; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('docker', 'litestar', "
        "'httpx') or m.startswith('skyport_docker.api')); print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_root_help_lists_docker_without_loading_it() -> None:
    code = (
        "import sys; from skyport.cli import main; main(['--help']); "
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in "
        "('docker', 'litestar', 'skyport_docker')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert " docker " in done.stdout
    assert done.stdout.rstrip().endswith("LOADED []")


def test_groups_without_a_command_show_their_usage(sp: Run) -> None:
    assert sp().out.startswith("Usage: skyport docker COMMAND\n")
    assert sp("container").out.startswith("Usage: skyport docker container COMMAND\n")
    assert ok(sp("stack", "--help")).out.startswith("Usage: skyport docker stack COMMAND\n")


# -- containers ------------------------------------------------------------------------------


def test_ps_table_quiet_json_and_all(
    sp: Run, make_container: Callable[..., dict[str, Any]]
) -> None:
    running = make_container()
    stopped = make_container(start=False)
    only_ours = ("--filter", OURS)

    table = ok(sp("ps", *only_ours)).out
    assert table.splitlines()[0].split()[:2] == ["CONTAINER", "ID"]
    assert running["Name"].lstrip("/") in table and stopped["Name"].lstrip("/") not in table

    quiet = ok(sp("ps", "-q", *only_ours)).out.split()
    assert running["Id"][:12] in quiet and stopped["Id"][:12] not in quiet
    everything = ok(sp("ps", "-aq", *only_ours)).out.split()
    assert {running["Id"][:12], stopped["Id"][:12]} <= set(everything)

    rows = ok(sp("ps", "-a", "--json", *only_ours)).json()
    by_id = {row["id"]: row for row in rows}
    assert by_id[running["Id"]]["state"] == "running"
    assert by_id[stopped["Id"]]["state"] == "created"
    assert by_id[running["Id"]]["name"] == running["Name"].lstrip("/")
    assert by_id[running["Id"]]["engine"] == "local"

    across = ok(sp("ps", "--engine", "all", *only_ours)).out.splitlines()
    assert across[0].startswith("ENGINE") and any(line.startswith("local") for line in across[1:])


def test_run_detached_with_name_env_ports_then_stop_start_rm(
    sp: Run, engine: docker.APIClient, unique: Callable[[str], str], removed: list[str]
) -> None:
    name = unique("cli-run")
    removed.append(name)
    result = ok(
        sp(
            "run",
            "-d",
            "--name",
            name,
            "-e",
            "GREETING=hello",
            "--env",
            "EMPTY=",
            "-p",
            "127.0.0.1:18080:80/tcp",
            "--network",
            "none",
            "-l",
            LABEL_ARG,
            "--restart",
            "no",
            TEST_IMAGE,
            "sh",
            "-c",
            "echo started; sleep 3600",
        )
    )
    container_id = result.out.strip()
    info = engine.inspect_container(name)
    assert info["Id"] == container_id and info["State"]["Running"]
    assert {"GREETING=hello", "EMPTY="} <= set(info["Config"]["Env"])
    assert info["HostConfig"]["PortBindings"] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}]
    }
    assert info["Config"]["Cmd"] == ["sh", "-c", "echo started; sleep 3600"]

    assert ok(sp("stop", "-t", "0", name)).out == f"{name}\n"
    assert not engine.inspect_container(name)["State"]["Running"]
    started = ok(sp("start", name, "--json")).json()
    assert (started["id"], started["name"], started["running"]) == (container_id, name, True)
    assert ok(sp("restart", "-t", "0", name)).out == f"{name}\n"
    assert ok(sp("restart", name)).out == f"{name}\n"  # the container's own grace period
    assert engine.inspect_container(name)["State"]["Running"]

    assert "HTTP 409" in one_line_error(sp("rm", name))  # running: needs -f
    assert ok(sp("rm", "-f", name)).out == f"{name}\n"
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_container(name)


def test_run_in_the_foreground_prints_the_output_and_exits_with_its_code(
    sp: Run, engine: docker.APIClient, unique: Callable[[str], str], removed: list[str]
) -> None:
    name = unique("cli-fg")
    removed.append(name)
    result = sp(
        "run",
        "--name",
        name,
        "--network",
        "none",
        "-l",
        LABEL_ARG,
        TEST_IMAGE,
        "sh",
        "-c",
        "echo one; echo two >&2; echo three; exit 7",
    )
    assert result.code == 7, result
    assert result.out == "one\nthree\n" and result.err == "two\n"
    assert engine.inspect_container(name)["State"]["ExitCode"] == 7

    gone = unique("cli-rm")
    removed.append(gone)
    result = sp(
        "run",
        "--rm",
        "--name",
        gone,
        "--network",
        "none",
        "-l",
        LABEL_ARG,
        TEST_IMAGE,
        "echo",
        "bye",
    )
    assert (result.code, result.out) == (0, "bye\n"), result
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_container(gone)


def test_run_and_exec_give_everything_after_the_operand_to_the_command(
    sp: Run, engine: docker.APIClient, make_container: Callable[..., dict[str, Any]]
) -> None:
    # as docker: options end at IMAGE; -l is ls's here, not --label
    listing = sp("run", "--rm", "--network", "none", "-l", LABEL_ARG, TEST_IMAGE, "ls", "-l", "/")
    assert listing.code == 0 and "drwx" in listing.out, listing
    words = ("-l", "/etc", "--name", "x", "-d", "--rm", "-e", "--json", "-it", "--")
    run_args = ("run", "--rm", "--network=none", "-l", LABEL_ARG, TEST_IMAGE, "printf", "%s|")
    echoed = sp(*run_args, *words)
    assert (echoed.code, echoed.out) == (0, "|".join(words) + "|\n"), echoed  # a log line
    name = make_container()["Name"].lstrip("/")
    executed = sp("exec", "-u", "0", name, "printf", "%s|", *words)
    assert (executed.code, executed.out) == (0, "|".join(words) + "|"), executed
    helped = sp(*run_args[:-2], "--", "printf", "%s|", "--help", "-h")
    assert (helped.code, helped.out) == (0, "--help|-h|\n"), helped  # after --: the command's
    unknown = sp("run", "--no-such-option", TEST_IMAGE, "true")
    assert "--no-such-option" in one_line_error(unknown)
    assert "skyport docker run --help" in unknown.err
    assert "IMAGE" in ok(sp("run", "--help")).out


def test_run_reports_bad_specs_and_name_conflicts(
    sp: Run, make_container: Callable[..., dict[str, Any]]
) -> None:
    bad_env = sp("run", "-d", "-e", "NOVALUE", "--network", "none", TEST_IMAGE)
    assert "env" in one_line_error(bad_env) and "HTTP 400" in bad_env.err
    bad_port = sp("run", "-d", "-p", "99999:80", "--network", "none", TEST_IMAGE)
    assert "ports" in one_line_error(bad_port) and "HTTP 400" in bad_port.err
    taken = make_container()["Name"].lstrip("/")
    conflict = sp("run", "-d", "--name", taken, "--network", "none", TEST_IMAGE)
    assert "HTTP 409" in one_line_error(conflict)


def test_kill_pause_unpause_and_rename(
    sp: Run,
    engine: docker.APIClient,
    make_container: Callable[..., dict[str, Any]],
    unique: Callable[[str], str],
) -> None:
    container = make_container()
    name = container["Name"].lstrip("/")
    ok(sp("pause", name))
    assert engine.inspect_container(name)["State"]["Paused"]
    ok(sp("unpause", name))
    assert not engine.inspect_container(name)["State"]["Paused"]
    new_name = unique("renamed")
    renamed = ok(sp("rename", name, new_name, "--json")).json()
    assert renamed["name"] == new_name
    assert ok(sp("kill", "-s", "SIGKILL", new_name)).out == f"{new_name}\n"
    assert not engine.inspect_container(container["Id"])["State"]["Running"]


def test_logs_tail_timestamps_and_json(
    sp: Run, engine: docker.APIClient, make_container: Callable[..., dict[str, Any]]
) -> None:
    # stderr first; stdout only once the test has seen it (the two streams race otherwise)
    container = make_container(
        "echo oops >&2; while [ ! -e /go ]; do sleep 0.05; done; "
        "for i in 1 2 3 4 5; do echo line $i; done; sleep 3600"
    )
    wait_for(lambda: b"oops" in engine.logs(container["Id"]), "the container's stderr")
    engine.exec_start(engine.exec_create(container["Id"], ["sh", "-c", ": > /go"])["Id"])
    wait_for(lambda: b"line 5" in engine.logs(container["Id"]), "the container's stdout")
    name = container["Name"].lstrip("/")

    everything = ok(sp("logs", name))
    assert everything.out == "".join(f"line {i}\n" for i in range(1, 6))
    assert everything.err == "oops\n"

    tail = ok(sp("logs", "--tail", "2", name))
    assert (tail.out, tail.err) == ("line 4\nline 5\n", "")

    stamped = ok(sp("logs", "-t", "-n", "1", name))
    stamp, _, text = stamped.out.partition(" ")
    assert text == "line 5\n" and stamp.endswith("Z") and stamp[:2] == "20"

    answer = ok(sp("logs", "--tail", "all", "--json", name)).json()
    assert [(line["stream"], line["line"]) for line in answer["lines"]] == [
        ("stderr", "oops"),
        *(("stdout", f"line {i}") for i in range(1, 6)),
    ]
    assert "--tail" in one_line_error(sp("logs", "--tail", "many", name))


def test_logs_follow_prints_every_line_once_until_the_container_stops(
    sp: Run, make_container: Callable[..., dict[str, Any]]
) -> None:
    container = make_container("for i in $(seq 1 25); do echo tick $i; sleep 0.1; done")
    result = ok(sp("logs", "-f", container["Name"].lstrip("/")))
    assert result.out == "".join(f"tick {i}\n" for i in range(1, 26))


def test_exec_one_shot_prints_output_and_returns_the_exit_code(
    sp: Run, make_container: Callable[..., dict[str, Any]]
) -> None:
    name = make_container()["Name"].lstrip("/")
    result = sp(
        "exec", "-e", "WHO=world", name, "sh", "-c", "echo hello $WHO; echo warn >&2; exit 3"
    )
    assert (result.code, result.out, result.err) == (3, "hello world\n", "warn\n")
    answer = ok(sp("exec", "--json", name, "echo", "-n", "x")).json()
    assert answer["exit_code"] == 0 and answer["stdout"] == "x"
    assert "give the command" in one_line_error(sp("exec", name))


def test_exec_it_types_piped_input_into_a_terminal(
    sp: Run, make_container: Callable[..., dict[str, Any]]
) -> None:
    name = make_container()["Name"].lstrip("/")
    shell = sp("exec", "-it", name, "sh", stdin="echo hi from $((40 + 2))\nexit 5\n")
    assert shell.code == 5, shell
    assert "hi from 42" in shell.out
    command = sp("exec", "-i", "-t", name, "cat", stdin="ping\npong\n")
    assert command.code == 0, command
    lines = command.out.replace("\r\n", "\n").splitlines()
    assert sorted(lines) == ["ping", "ping", "pong", "pong"]  # the tty's echo, and cat's copy
    failing = sp("exec", "-it", name, "sh", "-c", "exit 4")
    assert failing.code == 4, failing


def test_exec_it_on_an_unknown_container_fails_clearly(sp: Run) -> None:
    result = sp("exec", "-it", "sp-no-such-container-cli", "sh")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "skyport: error: cannot open terminal 'docker': No such container: sp-no-such-container-cli"
    )


def test_top_lists_the_processes(sp: Run, make_container: Callable[..., dict[str, Any]]) -> None:
    name = make_container("sleep 3600")["Name"].lstrip("/")
    table = ok(sp("top", name)).out
    assert "PID" in table.splitlines()[0] and "sleep 3600" in table


def test_unknown_container_is_one_line_naming_it(sp: Run) -> None:
    missing = "sp-no-such-container-cli"
    for command in (
        ("stop", missing),
        ("start", missing),
        ("rm", "-f", missing),
        ("logs", missing),
        ("logs", "-f", missing),
        ("inspect", missing),
        ("exec", missing, "true"),
        ("top", missing),
    ):
        result = sp(*command)
        assert missing in one_line_error(result) and "HTTP 404" in result.err, command


def test_several_containers_go_on_after_a_failure(
    sp: Run, engine: docker.APIClient, make_container: Callable[..., dict[str, Any]]
) -> None:
    first, second = (make_container()["Name"].lstrip("/") for _ in range(2))
    result = sp("stop", "-t", "0", first, "sp-missing-in-the-middle", second)
    assert result.code == 1
    assert result.out == f"{first}\n{second}\n"
    assert "sp-missing-in-the-middle" in one_line_error(result)
    assert not engine.inspect_container(second)["State"]["Running"]


def test_unknown_engine_is_one_line(sp: Run) -> None:
    result = sp("ps", "--engine", "nowhere")
    assert "nowhere" in one_line_error(result) and "HTTP 404" in result.err


def test_stats_once(sp: Run, make_container: Callable[..., dict[str, Any]]) -> None:
    container = make_container("sleep 3600")
    rows = ok(sp("stats", "--no-stream", "--json")).json()
    mine = next(row for row in rows if row["id"] == container["Id"])
    assert mine["memory_usage_bytes"] > 0 and mine["pids"] >= 1
    one = ok(sp("stats", "--no-stream", container["Name"].lstrip("/"))).out.splitlines()
    assert one[0].split()[:3] == ["CONTAINER", "ID", "NAME"] and container["Id"][:12] in one[1]


def test_live_stats_redraw_in_place_on_a_terminal_and_append_otherwise(
    sp: Run, monkeypatch: pytest.MonkeyPatch, make_container: Callable[..., dict[str, Any]]
) -> None:
    name = make_container("sleep 3600")["Name"].lstrip("/")
    live = ("stats", "-n", "3", "--interval", "0.05", name)
    piped = ok(sp(*live)).out
    assert "\x1b" not in piped and piped.count("CONTAINER ID") == 3
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    drawn = ok(sp(*live)).out
    assert drawn.count("\x1b[2J") == 1  # the screen is cleared once, then drawn over
    frames = drawn.removeprefix("\x1b[2J").split("\x1b[H")
    assert frames[0] == "" and len(frames) == 4
    for frame in frames[1:]:
        assert frame.startswith("CONTAINER ID") and frame.endswith("\x1b[K\n\x1b[J")
        assert frame.count("CONTAINER ID") == 1 and name in frame


def test_container_prune_asks_first_as_docker_does(
    sp: Run, engine: docker.APIClient, make_container: Callable[..., dict[str, Any]]
) -> None:
    stopped = make_container(start=False)
    prune = ("container", "prune", "--filter", OURS, "--json")
    piped = sp(*prune)  # no terminal to ask on, no --force: nothing removed
    assert "add --force" in one_line_error(piped) and piped.code == 1
    declined = sp(*prune, tty=True, stdin="n\n")
    assert declined.code == 1 and declined.out == "", declined
    assert declined.err.startswith(
        "WARNING! This will remove all stopped containers.\n"
        "Are you sure you want to continue? [y/N] skyport: error: "
    ), declined.err
    assert "nothing was removed" in declined.err.splitlines()[-1]
    assert engine.inspect_container(stopped["Id"])  # still there
    answer = ok(sp(*prune, tty=True, stdin="y\n")).json()
    assert stopped["Id"] in answer["deleted"]
    again = make_container(start=False)
    forced = ok(sp("container", "prune", "-f", "--filter", OURS))
    assert f"Deleted: {again['Id']}" in forced.out.splitlines()
    misread = sp("container", "prune", "-f", OURS)  # -f is --force: no filter, so refused
    assert OURS in one_line_error(misread) and misread.code == 2


def test_every_prune_refuses_without_a_terminal_or_force(
    sp: Run, engine: docker.APIClient, unique: Callable[[str], str]
) -> None:
    for kind in ("image", "volume", "network"):
        refused = sp(kind, "prune", "--json")
        assert f"{kind} prune" in one_line_error(refused) and "--force" in refused.err, kind
    asked = sp("image", "prune", "-a", tty=True, stdin="\n")
    assert asked.code == 1 and "images without at least one container" in asked.err
    name = unique("cli-prune")
    engine.create_volume(name, labels=LABEL)
    answer = ok(sp("volume", "prune", "--force", "--filter", OURS, "--json")).json()
    assert name in answer["deleted"]


# -- images ------------------------------------------------------------------------------------


def test_images_tag_and_rmi(sp: Run, engine: docker.APIClient, test_image: str) -> None:
    rows = ok(sp("images", "--json")).json()
    ours = next(row for row in rows if test_image in row["tags"])
    assert ours["engine"] == "local"
    table = ok(sp("images")).out
    assert any(
        line.split()[:2] == ["skyport-test/busybox", "latest"] for line in table.splitlines()
    )
    assert ours["id"].removeprefix("sha256:")[:12] in ok(sp("images", "-q")).out.split()

    alias = f"skyport-test/cli-alias-{RUN_ID}:v1"
    try:
        ok(sp("tag", test_image, alias))
        assert engine.inspect_image(alias)["Id"] == ours["id"]
        history = ok(sp("image", "history", alias)).out
        assert history.splitlines()[0].split()[:2] == ["IMAGE", "CREATED"]
        removed = ok(sp("rmi", alias))
        assert removed.out == f"Untagged: {alias}\n"
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_image(alias)
    assert engine.inspect_image(test_image)["Id"] == ours["id"]
    missing = sp("rmi", "skyport-test/no-such-image:1")
    assert "no-such-image" in one_line_error(missing) and "HTTP 404" in missing.err


def test_pull_failure_is_one_clear_line(sp: Run) -> None:
    result = sp("pull", "registry.invalid/skyport/nothing:1")
    message = one_line_error(result)
    assert "cannot pull image 'registry.invalid/skyport/nothing:1'" in message
    assert "registry.invalid" in message.partition(": error: cannot pull")[2]


def test_run_with_an_image_that_cannot_be_pulled(sp: Run) -> None:
    result = sp("run", "-d", "--network", "none", "registry.invalid/skyport/nothing:1")
    message = one_line_error(result)
    assert "cannot pull image" in message and "HTTP 4" in message


def test_bad_image_reference_is_a_400(sp: Run) -> None:
    result = sp("pull", "Not A Reference")
    assert "image" in one_line_error(result) and "HTTP 400" in result.err


# -- volumes and networks ------------------------------------------------------------------------


def test_volume_create_ls_inspect_rm(
    sp: Run, engine: docker.APIClient, unique: Callable[[str], str]
) -> None:
    name = unique("cli-vol")
    assert ok(sp("volume", "create", name, "-l", LABEL_ARG)).out == f"{name}\n"
    assert name in ok(sp("volume", "ls", "-q")).out.split()
    rows = ok(sp("volume", "ls", "--json", "--filter", OURS)).json()
    assert [row["name"] for row in rows if row["name"] == name] == [name]
    assert ok(sp("volume", "inspect", name)).json()["labels"] == LABEL
    table = ok(sp("volume", "ls")).out.splitlines()
    assert table[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert ok(sp("volume", "rm", name)).out == f"{name}\n"
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_volume(name)
    again = sp("volume", "rm", name)
    assert name in one_line_error(again) and "HTTP 404" in again.err


def test_network_ls_create_rm(
    sp: Run, engine: docker.APIClient, unique: Callable[[str], str]
) -> None:
    rows = ok(sp("network", "ls", "--json")).json()
    assert {"host", "none"} <= {row["name"] for row in rows}
    assert "none" in ok(sp("network", "ls")).out
    name = unique("cli-net")
    network_id = ok(sp("network", "create", name, "--internal", "-l", LABEL_ARG)).out.strip()
    try:
        assert engine.inspect_network(name)["Internal"] is True
        assert network_id[:12] in ok(sp("network", "ls", "-q")).out.split()
        assert ok(sp("network", "rm", name)).out == f"{name}\n"
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_network(network_id)
    missing = sp("network", "rm", name)
    assert name in one_line_error(missing) and "HTTP 404" in missing.err


def test_inspect_shows_json_for_each_kind_as_its_help_says(
    sp: Run, engine: docker.APIClient, make_container: Callable[..., dict[str, Any]]
) -> None:
    for command in (("inspect",), ("image", "inspect")):
        assert "the engine's JSON" in ok(sp(*command, "--help")).out
    for kind in ("volume", "network"):  # reshaped by SkyPort: the help must not claim otherwise
        helped = " ".join(ok(sp(kind, "inspect", "--help")).out.split())
        assert "SkyPort's shape" in helped and "not the engine's" in helped
    container = make_container()
    name = container["Name"].lstrip("/")
    assert ok(sp("inspect", name)).json()["Id"] == container["Id"]
    assert ok(sp("container", "inspect", name)).json()["Id"] == container["Id"]
    assert (
        ok(sp("image", "inspect", TEST_IMAGE)).json()["Id"]
        == engine.inspect_image(TEST_IMAGE)["Id"]
    )
    both = ok(sp("network", "inspect", "none", "host")).json()
    assert [n["name"] for n in both] == ["none", "host"]  # several: a list, in order
    partly = sp("inspect", name, "sp-no-such-container")
    assert partly.code == 1 and "sp-no-such-container" in one_line_error(partly)
    assert [c["Id"] for c in json.loads(partly.out)] == [container["Id"]]  # the rest shown


# -- stacks -------------------------------------------------------------------------------------


STACK = f"""\
version: "3.7"
services:
  app:
    image: {TEST_IMAGE}
    command: ["sh", "-c", "echo $${{GREETING}}; sleep 3600"]
    network_mode: none
    environment:
      GREETING: "${{GREETING}}"
    labels:
      skyport.test: "{RUN_ID}"
"""


@pytest.fixture
def stack_name(engine: docker.APIClient, unique: Callable[[str], str]) -> Iterator[str]:
    from skyport.testing import require_backend
    from skyport_docker.compose import detect

    require_backend(bool(detect()), "no Compose tool (docker compose or docker-compose)")
    name = unique("cli-stack")
    yield name
    selector = {"label": f"com.docker.compose.project={name}"}
    for container in engine.containers(all=True, filters=selector):
        engine.remove_container(container["Id"], force=True, v=True)
    for network in engine.networks(filters=selector):
        engine.remove_network(network["Id"])


def test_stack_up_ls_ps_stop_start_down(
    sp: Run, engine: docker.APIClient, stack_name: str, tmp_path: Path
) -> None:
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(STACK)
    env_file = tmp_path / "app.env"
    env_file.write_text("# greeting\nGREETING='hi from the env file'\n")
    up = ok(sp("stack", "up", stack_name, "-f", str(compose), "--env-file", str(env_file)))
    assert up.out.startswith(f"Stack {stack_name} is up")
    selector = {"label": f"com.docker.compose.project={stack_name}"}
    [container] = engine.containers(filters=selector)
    wait_for(lambda: b"hi from the env file" in engine.logs(container["Id"]), "the greeting")

    listed = ok(sp("stack", "ls", "--json")).json()
    mine = next(row for row in listed if row["name"] == stack_name)
    assert (mine["status"], mine["managed"], mine["services"]) == ("running", True, ["app"])
    assert stack_name in ok(sp("stack", "ls", "-q")).out.split()

    members = ok(sp("stack", "ps", stack_name)).out.splitlines()
    assert members[0].split()[:2] == ["NAME", "SERVICE"]
    assert any(line.split()[1] == "app" for line in members[1:])
    detail = ok(sp("stack", "ps", stack_name, "--json")).json()
    assert detail["members"][0]["service"] == "app"

    ok(sp("stack", "stop", stack_name))
    assert engine.containers(filters=selector) == []
    ok(sp("stack", "start", stack_name))
    assert len(engine.containers(filters=selector)) == 1

    assert ok(sp("stack", "down", stack_name)).out == f"Stack {stack_name} removed.\n"
    assert engine.containers(all=True, filters=selector) == []
    assert stack_name not in ok(sp("stack", "ls", "-q")).out.split()


def test_stack_up_finds_compose_yaml_and_its_env_here_and_update_merges_values(
    sp: Run,
    engine: docker.APIClient,
    stack_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "compose.yaml").write_text(STACK)
    (tmp_path / ".env").write_text("GREETING=hi from dot env\nOTHER=kept\n")
    monkeypatch.chdir(tmp_path)
    ok(sp("stack", "up", stack_name))
    selector = {"label": f"com.docker.compose.project={stack_name}"}
    [container] = engine.containers(filters=selector)
    wait_for(lambda: b"hi from dot env" in engine.logs(container["Id"]), "the greeting")

    ok(sp("stack", "update", stack_name, "--no-pull", "-e", "GREETING=merged"))
    values = ok(sp("stack", "ps", stack_name, "--json")).json()["env"]
    assert values == {"GREETING": "merged", "OTHER": "kept"}
    ok(sp("stack", "update", stack_name, "--no-pull", "--replace-env", "-e", "GREETING=alone"))
    assert ok(sp("stack", "ps", stack_name, "--json")).json()["env"] == {"GREETING": "alone"}
    ok(sp("stack", "down", stack_name))

    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    nothing = sp("stack", "up", "sp-nothing-here")
    assert "no compose file here" in one_line_error(nothing)


def test_stack_errors_are_one_line(sp: Run, tmp_path: Path) -> None:
    missing_file = sp("stack", "up", "sp-nothing", "-f", str(tmp_path / "none.yml"))
    assert "--file: cannot read" in one_line_error(missing_file)
    bad = tmp_path / "bad.yml"
    bad.write_text("just: [a, list\n")
    assert "HTTP 400" in one_line_error(sp("stack", "up", "sp-bad", "-f", str(bad)))
    unknown = sp("stack", "ps", "sp-no-such-stack-cli")
    assert "sp-no-such-stack-cli" in one_line_error(unknown) and "HTTP 404" in unknown.err


# -- engines ------------------------------------------------------------------------------------


def test_engine_ls_shows_the_local_engine(sp: Run) -> None:
    rows = ok(sp("engine", "ls", "--json")).json()
    local = next(row for row in rows if row["name"] == "local")
    assert local["url"] == "unix:///var/run/docker.sock"
    table = ok(sp("engine", "ls")).out.splitlines()
    assert table[0].split()[:2] == ["NAME", "URL"]
    assert any(line.split()[0] == "local" for line in table[1:])


def test_engine_add_use_and_rm(sp: Run, make_container: Callable[..., dict[str, Any]]) -> None:
    container = make_container()
    added = ok(sp("engine", "add", "again", "unix:///var/run/docker.sock"))
    assert added.out.startswith("Engine again added: Docker ")
    names = [row["name"] for row in ok(sp("engine", "ls", "--json")).json()]
    assert names == ["local", "again"]
    through = ok(sp("ps", "-q", "--engine", "again", "--filter", OURS)).out.split()
    assert container["Id"][:12] in through
    both = ok(sp("ps", "--json", "--engine", "all", "--filter", OURS)).json()
    assert {row["engine"] for row in both if row["id"] == container["Id"]} == {"local", "again"}
    assert ok(sp("engine", "rm", "again")).out == "again\n"
    gone = sp("ps", "--engine", "again")
    assert "again" in one_line_error(gone) and "HTTP 404" in gone.err


def test_unreachable_engine_is_a_503_naming_its_url(sp: Run, tmp_path: Path) -> None:
    url = f"unix://{tmp_path}/no-engine.sock"
    refused = sp("engine", "add", "dead", url)
    assert url in one_line_error(refused) and "HTTP 503" in refused.err
    ok(sp("engine", "add", "dead", url, "--no-check"))
    table = ok(sp("engine", "ls")).out
    [line] = [line for line in table.splitlines() if line.startswith("dead ")]
    assert "down:" in line
    result = sp("ps", "--engine", "dead")
    assert url in one_line_error(result) and "HTTP 503" in result.err
    assert ok(sp("ps", "-q", "--engine", "local")).code == 0  # the rest keeps working


# -- remote mode ------------------------------------------------------------------------------


@pytest.fixture
def remote(cli: Run, docker_app: Any) -> Iterator[LiveServer]:
    """A real server with the docker plugin on loopback, logged in to as admin.

    Server and CLI share this process: the server's log handlers would also
    print the client's httpx request lines, which a CLI process never does.
    """
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)
    with LiveServer(docker_app) as server:
        login = cli("login", server.url, "-u", "admin", "--password-stdin", stdin=ADMIN_PASSWORD)
        assert login.code == 0, login
        yield server
    httpx_log.setLevel(level)


def test_remote_mode_lists_follows_logs_and_opens_a_terminal(
    sp: Run, remote: LiveServer, make_container: Callable[..., dict[str, Any]]
) -> None:
    container = make_container("for i in $(seq 1 5); do echo tock $i; sleep 0.1; done; sleep 3600")
    name = container["Name"].lstrip("/")
    rows = ok(sp("ps", "--json", "--filter", OURS)).json()
    assert container["Id"] in {row["id"] for row in rows}
    stopped = make_container("for i in $(seq 1 12); do echo tick $i; sleep 0.1; done")
    followed = ok(sp("logs", "-f", stopped["Name"].lstrip("/")))
    assert followed.out == "".join(f"tick {i}\n" for i in range(1, 13))
    shell = sp("exec", "-it", name, "sh", stdin="echo remote $((6 * 7))\nexit 3\n")
    assert shell.code == 3 and "remote 42" in shell.out, shell
    missing = sp("stop", "sp-no-such-container-cli")
    assert "sp-no-such-container-cli" in one_line_error(missing)


def test_listings_across_engines_name_the_engines_left_out(
    sp: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_container: Callable[..., dict[str, Any]],
) -> None:
    container = make_container()
    ok(sp("engine", "add", "dead", f"unix://{tmp_path}/no-engine.sock", "--no-check"))
    warning = "skyport: warning: engine dead is unavailable and was left out\n"
    for listing in (
        ("ps", "--filter", OURS),
        ("images",),
        ("volume", "ls"),
        ("network", "ls"),
        ("stack", "ls"),
        ("stats", "--no-stream"),
    ):
        result = ok(sp(*listing, "--engine", "all"))
        # once; the in-process server's own log line about it is api/common.py's to quieten
        assert result.err.count(warning) == 1 and result.err.endswith(warning), listing
    live = ("stats", "-n", "2", "--interval", "0.05", "--engine", "all")
    assert ok(sp(*live)).err.count(warning) == 1  # appended readings: said once
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert ok(sp(*live)).err.count(warning) == 2  # under each reading drawn over the last
    rows = ok(sp("ps", "--json", "--engine", "all", "--filter", OURS)).json()
    assert [row["id"] for row in rows] == [container["Id"]]
    assert ok(sp("ps", "--engine", "local")).err == ""


def test_remote_listing_across_engines_names_the_engines_left_out(
    sp: Run, remote: LiveServer, tmp_path: Path
) -> None:
    ok(sp("engine", "add", "gone", f"unix://{tmp_path}/no-engine.sock", "--no-check"))
    result = ok(sp("volume", "ls", "-q", "--engine", "all"))
    assert result.err.count("skyport: warning: engine gone is unavailable and was left out\n") == 1


def test_group_help_imports_neither_the_server_nor_the_sdk() -> None:
    probe = (
        "import sys\n"
        "from skyport.cli import main\n"
        "main(['docker', '--help'])\n"
        "heavy = {'litestar', 'docker', 'cryptography', 'paramiko'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines()[-1] == "[]", done.stdout
