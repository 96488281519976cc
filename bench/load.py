"""HTTP load with wrk (Debian package `wrk`), bounded in time and connections.

wrk is closed-loop: each connection sends its next request when the previous
answer arrives, so requests/s is the server's throughput at that concurrency
and the percentiles are per-request latencies seen by wrk. A small Lua script
(`wrk_report.lua`) prints the exact summary as JSON at the end of the run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.procs import LOOPBACK

LUA = Path(__file__).with_name("wrk_report.lua")


class LoadToolMissing(RuntimeError):
    pass


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise LoadToolMissing(
            "wrk not found: install it with `apt-get install -y wrk` (Debian package); "
            "the HTTP figures are skipped without it"
        )
    return path


def wrk_version() -> str:
    try:
        out = subprocess.run(
            [wrk_path(), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except (LoadToolMissing, OSError, subprocess.TimeoutExpired):
        return "missing"
    return " ".join(out.split()[:2]) if out else "unknown"  # "wrk debian/4.1.0-3+b2"


@dataclass
class LoadResult:
    url: str
    duration_s: float
    connections: int
    threads: int
    requests: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    non_2xx: int
    socket_errors: int
    bytes_per_request: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def run_wrk(
    url: str,
    *,
    duration_s: int = 10,
    connections: int = 32,
    threads: int = 1,
    headers: dict[str, str] | None = None,
    timeout_s: int = 5,
) -> LoadResult:
    """One bounded wrk run against a loopback URL."""
    if f"//{LOOPBACK}:" not in url and "//localhost:" not in url:
        raise ValueError(f"refusing to load a non-loopback URL: {url}")
    argv = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        f"--timeout={timeout_s}s",
        "--latency",
        "-s",
        str(LUA),
    ]
    for k, v in (headers or {}).items():
        argv += ["-H", f"{k}: {v}"]
    argv.append(url)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 60)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed ({proc.returncode}): {proc.stderr.strip()} {proc.stdout.strip()[-500:]}"
        )
    d = json.loads(line.removeprefix("WRK_JSON "))
    lat = d["latency_us"]
    errs = d["errors"]
    secs = d["duration_us"] / 1e6
    n = d["requests"]
    return LoadResult(
        url=url,
        duration_s=round(secs, 3),
        connections=connections,
        threads=threads,
        requests=n,
        requests_per_s=round(n / secs, 1) if secs else 0.0,
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        mean_ms=round(lat["mean"] / 1000, 3),
        non_2xx=errs["status"],
        socket_errors=errs["connect"] + errs["read"] + errs["write"] + errs["timeout"],
        bytes_per_request=round(d["bytes"] / n, 1) if n else 0.0,
    )
