"""CLI start-up: wall time of short commands, hyperfine when present, else a timing loop."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass


@dataclass
class StartupResult:
    name: str
    command: str
    tool: str
    runs: int
    median_ms: float | None
    mean_ms: float | None
    stdev_ms: float | None
    min_ms: float | None
    error: str = ""
    cpu_ms: float | None = None
    """User plus system CPU time, mean (hyperfine): steadier than wall time on a busy machine."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _check(argv: list[str], env: dict[str, str]) -> str:
    """Run once; return an error text when the command does not succeed."""
    try:
        p = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{type(e).__name__}: {e}"
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or [""]
        return f"exit {p.returncode}: {tail[0][:200]}"
    return ""


def _hyperfine(argv: list[str], runs: int, warmup: int, env: dict[str, str]) -> dict | None:
    hf = shutil.which("hyperfine")
    if hf is None:
        return None
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        p = subprocess.run(
            [
                hf,
                "--shell=none",
                "--warmup",
                str(warmup),
                "--runs",
                str(runs),
                "--style",
                "none",
                "--export-json",
                out.name,
                shlex.join(argv),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        if p.returncode != 0:
            return None
        with open(out.name) as f:
            r = json.load(f)["results"][0]
    return {
        "tool": "hyperfine",
        "runs": len(r["times"]),
        "median_ms": r["median"] * 1000,
        "mean_ms": r["mean"] * 1000,
        "stdev_ms": (r.get("stddev") or 0) * 1000,
        "min_ms": r["min"] * 1000,
        "cpu_ms": (r["user"] + r["system"]) * 1000,
    }


def _loop(argv: list[str], runs: int, warmup: int, env: dict[str, str]) -> dict:
    times = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        subprocess.run(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return {
        "tool": "subprocess loop",
        "runs": runs,
        "median_ms": statistics.median(times),
        "mean_ms": statistics.fmean(times),
        "stdev_ms": statistics.pstdev(times),
        "min_ms": min(times),
    }


def time_command(
    name: str,
    argv: list[str],
    *,
    runs: int = 20,
    warmup: int = 3,
    use_hyperfine: bool = True,
    env: dict[str, str] | None = None,
) -> StartupResult:
    """Time ``argv``; ``env`` adds to (or, with a value of ``""``, removes from) the
    environment."""
    env = {**os.environ, **(env or {})}
    env = {k: v for k, v in env.items() if v != ""}
    env.setdefault("NO_COLOR", "1")
    err = _check(argv, env)
    if err:
        return StartupResult(name, shlex.join(argv), "-", 0, None, None, None, None, err)
    r = (_hyperfine(argv, runs, warmup, env) if use_hyperfine else None) or _loop(
        argv, runs, warmup, env
    )
    return StartupResult(
        name,
        shlex.join(argv),
        r["tool"],
        r["runs"],
        round(r["median_ms"], 2),
        round(r["mean_ms"], 2),
        round(r["stdev_ms"], 2),
        round(r["min_ms"], 2),
        cpu_ms=round(r["cpu_ms"], 2) if r.get("cpu_ms") is not None else None,
    )
