"""``skyport tui`` as a person runs it: in a real terminal (tmux), keys typed, screen read.

In-process mode (no server configured) with the installed plugins and the
real Docker engine; pm2 is left out (it would start a daemon of its own).
The tmux server is a private one (its socket in the test's folder), killed at the end.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from skyport.testing import require_backend, wait_for
from skyport_docker.testing import TEST_IMAGE, build_test_image

WAIT = 60.0
"""Seconds for each step: a TUI on a machine busy with other tests is slow to draw."""

CPU = re.compile(r"CPU\s+\d+\.\d%\s+load \d")
SAMPLED = re.compile(r"at \d\d:\d\d:\d\d")


class Tmux:
    """A private tmux server (its socket in the test's folder) running one 80x24 session."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "tui")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    require_backend(
        shutil.which("tmux") is not None, "tmux is not installed (apt-get install tmux)"
    )
    require_backend(
        os.path.exists("/var/run/docker.sock"), "no Docker engine at /var/run/docker.sock"
    )
    session = Tmux(tmp_path / "tmux.sock")
    yield session
    subprocess.run(
        ["tmux", "-S", str(session.socket), "kill-server"], capture_output=True, timeout=30
    )


@pytest.fixture
def container() -> Iterator[str]:
    """A running busybox container (no network) with a name no other run uses; its name."""
    engine = docker.APIClient(base_url="unix:///var/run/docker.sock", version="auto", timeout=30)
    if not engine.images(name=TEST_IMAGE):
        build_test_image(engine)
    name = f"sp-tui-{secrets.token_hex(3)}"
    created = engine.create_container(
        TEST_IMAGE,
        command=["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
        name=name,
        host_config=engine.create_host_config(network_mode="none"),
    )
    try:
        engine.start(created["Id"])
        yield name
    finally:
        engine.remove_container(created["Id"], force=True)
        engine.close()


def start_tui(tmux: Tmux) -> None:
    """``skyport tui`` in the session; when it ends the pane says ``TUI-EXITED-<code>``."""
    # tmux starts the program from its server's environment: pass what the test set.
    env = {n: v for n, v in os.environ.items() if n.startswith(("SKYPORT_", "HOME", "XDG_"))}
    env |= {"SKYPORT_DISABLE_PLUGINS": "pm2", "TERM": "xterm-256color"}
    command = f"{sys.executable} -m skyport.cli tui; echo TUI-EXITED-$?; sleep 60"
    options = [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]
    tmux("new-session", "-d", "-s", "tui", "-x", "80", "-y", "24", *options, command)


def test_skyport_tui_in_a_terminal_shows_live_cpu_switches_to_containers_and_quits(
    tmux: Tmux,
) -> None:
    start_tui(tmux)

    first = wait_for(lambda: SAMPLED.search(tmux.screen()), "live figures", timeout=WAIT).group()
    assert CPU.search(tmux.screen())
    wait_for(
        lambda: (m := SAMPLED.search(tmux.screen())) and m.group() != first,
        "a new sample",
        timeout=WAIT,
    )
    assert "Containers" in tmux.screen().splitlines()[0]

    tmux("send-keys", "-t", "tui", "2")
    wait_for(
        lambda: re.search(r"NAME\s+IMAGE\s+STATE\s+CPU%", tmux.screen()), "containers", timeout=WAIT
    )

    tmux("send-keys", "-t", "tui", "q")
    wait_for(lambda: "TUI-EXITED-0" in tmux.screen(), "skyport tui to quit with 0", timeout=WAIT)


def test_a_shell_in_a_container_gets_the_terminal_and_gives_it_back(
    tmux: Tmux, container: str
) -> None:
    start_tui(tmux)
    wait_for(lambda: "Containers" in tmux.screen(), "the screen bar", timeout=WAIT)
    tmux("send-keys", "-t", "tui", "2")
    wait_for(lambda: container in tmux.screen(), "the container", timeout=WAIT)
    tmux("send-keys", "-t", "tui", "/")
    # The filter has the keys once the footer no longer offers the list's ("l Logs" …).
    wait_for(
        lambda: "Logs" not in tmux.screen().splitlines()[-1], "the filter focused", timeout=WAIT
    )
    tmux("send-keys", "-t", "tui", *container, "Enter")  # the only row left, selected
    wait_for(lambda: f"{container}\n" in tmux.screen(), "the filter typed", timeout=WAIT)
    tmux("send-keys", "-t", "tui", "s")
    wait_for(
        lambda: f"a shell in {container}" in tmux.screen(), "the terminal handed over", timeout=WAIT
    )
    wait_for(
        lambda: re.search(r"^/ #\s*$", tmux.screen(), re.M), "the shell's prompt", timeout=WAIT
    )
    tmux("send-keys", "-t", "tui", "echo hi-$((6*7)) from $(hostname)", "Enter")
    wait_for(
        lambda: re.search(r"^hi-42 from \w+", tmux.screen(), re.M),
        "the shell's answer",
        timeout=WAIT,
    )
    tmux("send-keys", "-t", "tui", "exit", "Enter")
    wait_for(
        lambda: re.search(r"NAME\s+IMAGE\s+STATE", tmux.screen()), "the TUI back", timeout=WAIT
    )
    tmux("send-keys", "-t", "tui", "q")
    try:
        wait_for(
            lambda: "TUI-EXITED-0" in tmux.screen(), "skyport tui to quit with 0", timeout=WAIT
        )
    except AssertionError:
        raise AssertionError(tmux.screen()) from None
