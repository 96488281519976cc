"""``skyport tui``: time to the first frame, and CPU at rest with live metrics, beside peers.

Every program runs in a pseudo-terminal of 80x24 made by the harness (as a
person's terminal would be), its output read as fast as it comes:

- First frame: from starting ``skyport tui`` (remote mode, against a
  ``skyport serve`` started by the harness) to the screen bar appearing in its
  output; then to the first live figures (the overview's ``load``). Beside it,
  in the same pty and round-robin: ``skyport --help`` and ``python -c pass``
  to their exit.
- At rest: the TUI on its overview (metrics every 2 s, the server's default)
  and Glances' curses UI (``glances``, its default 2 s refresh) each run
  alone for ``--tui-window`` seconds after settling; CPU time of each process
  tree over the window. Glances collects its own figures; the TUI's are
  collected by the server, whose CPU over the same window is reported too.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import targets
from bench.procs import cpu_seconds

TITLE = "skyport tui  (80x24 pty)"
COLS, ROWS = 80, 24
FIRST_FRAME = b"Overview"
LIVE = b"load "
GLANCES_FRAME = b"CPU"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tui-runs", type=int, default=10, help="timed starts of each command (10)")
    p.add_argument(
        "--tui-window", type=float, default=30.0, help="seconds of CPU measured at rest (30)"
    )


def bound(a: argparse.Namespace) -> None:
    a.tui_runs = max(1, min(a.tui_runs, 100))
    a.tui_window = max(5.0, min(a.tui_window, 300.0))


class PtyProgram:
    """A program in an 80x24 pseudo-terminal; notes when each awaited text first appears."""

    def __init__(self, argv: list[str], env: dict[str, str], awaited: tuple[bytes, ...]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.awaited = awaited
        self.seen: dict[bytes, float] = {}
        self.tail = b""
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the program ended (EIO)
                return
            if not chunk:
                return
            now = time.perf_counter()
            window = self.tail + chunk
            for text in self.awaited:
                if text not in self.seen and text in window:
                    self.seen[text] = now - self.started
            self.tail = window[-256:]

    def wait_seen(self, text: bytes, timeout: float = 60.0) -> float:
        """Seconds from the start to ``text`` in the output."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{text!r} did not appear; last output {self.tail[-120:]!r}")
            time.sleep(0.005)
        return self.seen[text]

    def wait_exit(self, timeout: float = 60.0) -> float:
        self.proc.wait(timeout=timeout)
        return time.perf_counter() - self.started

    def type(self, text: bytes) -> None:
        os.write(self.master, text)

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.reader.join(timeout=5)
        os.close(self.master)


@contextlib.contextmanager
def running(argv: list[str], env: dict[str, str], *awaited: bytes) -> Iterator[PtyProgram]:
    program = PtyProgram(argv, env, awaited)
    try:
        yield program
    finally:
        program.close()


def _tui_env(target: Any, home: str) -> dict[str, str]:
    token = target.headers["Authorization"].removeprefix("Bearer ")
    return dict(
        os.environ,
        HOME=home,
        TERM="xterm-256color",
        SKYPORT_URL=target.server.base_url,
        SKYPORT_TOKEN=token,
    )


def _starts(
    skyport: list[str], env: dict[str, str], runs: int, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """First frame and first figures of the TUI; ``--help`` and ``python -c pass`` to exit."""
    times: dict[str, list[float]] = {"tui": [], "live": [], "help": [], "python": []}
    log(f"starting skyport tui, skyport --help and python -c pass {runs} times each")
    for _ in range(runs):
        with running([*skyport, "tui"], env, FIRST_FRAME, LIVE) as tui:
            times["tui"].append(tui.wait_seen(FIRST_FRAME))
            times["live"].append(tui.wait_seen(LIVE))
            tui.type(b"q")
            tui.wait_exit(30)
        with running([*skyport, "--help"], env) as helping:
            times["help"].append(helping.wait_exit())
        with running([sys.executable, "-c", "pass"], env) as python:
            times["python"].append(python.wait_exit())
    names = {
        "tui": "skyport tui: first frame",
        "live": "skyport tui: first live figures",
        "help": "skyport --help (to exit)",
        "python": "python -c pass (to exit)",
    }
    floor = statistics.median(times["python"]) * 1000
    rows = []
    for key, name in names.items():
        median = statistics.median(times[key]) * 1000
        rows.append(
            {
                "name": name,
                "kind": "start",
                "status": "ok",
                "runs": runs,
                "median_ms": round(median, 1),
                "max_ms": round(max(times[key]) * 1000, 1),
                "vs_python": round(median / floor, 1),
            }
        )
    return rows


def _at_rest(
    name: str,
    argv: list[str],
    env: dict[str, str],
    frame: bytes,
    window: float,
    server_pid: int | None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    log(f"{name}: CPU at rest over {window:g} s")
    with running(argv, env, frame) as program:
        program.wait_seen(frame, timeout=120)
        time.sleep(3)  # start-up work settles
        own0 = cpu_seconds(program.proc.pid)
        server0 = cpu_seconds(server_pid) if server_pid else 0.0
        start = time.monotonic()
        time.sleep(window)
        elapsed = time.monotonic() - start
        own = cpu_seconds(program.proc.pid) - own0
        server = (cpu_seconds(server_pid) - server0) if server_pid else None
        program.type(b"q")
    row: dict[str, Any] = {
        "name": name,
        "kind": "rest",
        "status": "ok",
        "seconds": round(elapsed, 1),
        "cpu_percent": round(own / elapsed * 100, 2),
    }
    if server is not None:
        row["server_cpu_percent"] = round(server / elapsed * 100, 2)
    return row


def run(
    args: argparse.Namespace,
    start_skyport: Callable[[], Any],
    glances: Callable[[], Path],
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as home:
        rows = _skyport_rows(args, start_skyport, home, log)
        try:
            exe = glances()
        except Exception as e:
            rows.append({"name": "glances (curses)", "kind": "rest", "status": "unavailable",
                         "error": f"{type(e).__name__}: {e}"})  # fmt: skip
            return rows
        # Its own empty config (XDG_CONFIG_HOME), no update check: no outside calls.
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home, TERM="xterm-256color")
        argv = [str(exe), "--disable-check-update", "--disable-autodiscover", "-t", "2"]
        rows.append(
            _at_rest("glances (curses, -t 2)", argv, env, GLANCES_FRAME, args.tui_window, None, log)
        )
    return rows


def _skyport_rows(
    args: argparse.Namespace,
    start_skyport: Callable[[], Any],
    home: str,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    skyport = targets.skyport_argv(0, [])[:-3]  # the executable part only
    target = start_skyport()
    try:
        env = _tui_env(target, home)
        rows = _starts(skyport, env, args.tui_runs, log)
        tui = [*skyport, "tui"]
        pid = target.server.proc.pid
        rows.append(_at_rest("skyport tui (overview)", tui, env, LIVE, args.tui_window, pid, log))
    finally:
        target.close()
    return rows


def render(
    rows: list[dict[str, Any]],
    section: Callable[[str, list[str], list[list[str]], list[str]], str],
    fmt: Callable[..., str],
    problem: Callable[[dict[str, Any], list[str], int], list[str]],
) -> str:
    notes: list[str] = []
    starts = [
        [r["name"], fmt(r["runs"]), fmt(r["median_ms"], 1), fmt(r["max_ms"], 1),
         fmt(r["vs_python"], 1)]
        if r.get("status") == "ok"
        else [r.get("name", "-"), *problem(r, notes, 4)]
        for r in rows
        if r.get("kind") == "start"
    ]  # fmt: skip
    rest = [
        [r["name"], fmt(r["seconds"], 0), fmt(r["cpu_percent"]),
         fmt(r.get("server_cpu_percent"))]
        if r.get("status") == "ok"
        else [r.get("name", "-"), *problem(r, notes, 3)]
        for r in rows
        if r.get("kind") == "rest"
    ]  # fmt: skip
    return "\n".join(
        [
            section(
                f"{TITLE}: start", ["what", "runs", "median ms", "max ms", "x python"], starts, []
            ),
            section(
                f"{TITLE}: at rest, live metrics",
                ["program", "seconds", "CPU %", "its server CPU %"],
                rest,
                notes,
            ),
        ]
    )
