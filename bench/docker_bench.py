"""Docker section: SkyPort's container listing and stats beside the engine and the docker CLI.

Listing (``--docker-containers`` containers, default 100, on the engine):

- ``GET /api/docker/ps?all=1`` on a ``skyport serve`` started by the harness,
  over HTTP with a Bearer token (keep-alive, one request at a time);
- the raw Engine API ``GET /containers/json?all=1`` over the unix socket
  (keep-alive, the body read, not decoded): the floor;
- ``docker ps -a`` (the CLI, a process per run) and the SDK's high-level
  ``containers.list(all=True)``, which inspects every container (N+1 calls).

Stats (``--docker-running`` of them running, default 50):

- one pass of the ``containers`` metrics collector, in this process (the
  same code the server runs: one engine call, then the cgroup files);
- ``GET /api/docker/stats?window=0`` on the server (the same, plus HTTP);
- ``docker stats --no-stream`` for those containers, and the SDK's
  ``stats(stream=False)`` on one thread per container: both wait for the
  engine's ~1 s sampling tick.

The containers are made from the busybox test image (imported from
``/bin/busybox`` when missing, as the tests do), with ``--network none`` and
the label ``skyport.bench=<run id>``, and removed at the end (and any left
over by an earlier run at the start), within ``--docker-setup-timeout``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import os
import secrets
import socket
import statistics
import subprocess
import tarfile
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

SOCKET = "/var/run/docker.sock"
IMAGE = "skyport-test/busybox:latest"
BUSYBOX = "/bin/busybox"
APPLETS = "sh echo sleep cat ls ps top env hostname id printf seq yes true false wc head tail date"
LABEL = "skyport.bench"
UNITS = {
    "B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}  # fmt: skip


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--docker-containers", type=int, default=100, help="containers to list (100)")
    p.add_argument("--docker-running", type=int, default=50, help="of them running, for stats (50)")
    p.add_argument(
        "--docker-runs", type=int, default=30, help="timed runs per in-process figure (30)"
    )
    p.add_argument(
        "--docker-slow-runs",
        type=int,
        default=3,
        help="runs of the ~2 s figures (docker stats, SDK stats on threads) (3)",
    )
    p.add_argument(
        "--docker-setup-timeout",
        type=float,
        default=300.0,
        help="seconds allowed to create, and again to remove, the containers (300)",
    )


def bound(a: argparse.Namespace) -> None:
    a.docker_containers = max(1, min(a.docker_containers, 500))
    a.docker_running = max(1, min(a.docker_running, a.docker_containers))
    a.docker_runs = max(3, min(a.docker_runs, 1000))
    a.docker_slow_runs = max(1, min(a.docker_slow_runs, 20))
    a.docker_setup_timeout = max(30.0, min(a.docker_setup_timeout, 1800.0))


# --- timing ------------------------------------------------------------------------------
def timed(name: str, fn: Callable[[], Any], runs: int, warmup: int = 1) -> dict[str, Any]:
    """Median and spread of ``fn``'s wall time; a failure becomes an error row."""
    return interleaved([(name, fn)], runs, warmup)[0]


def interleaved(
    entries: list[tuple[str, Callable[[], Any]]], runs: int, warmup: int = 1
) -> list[dict[str, Any]]:
    """Time several calls round-robin, so a busy moment of the machine hits them all alike.

    One row per entry (median, min, p90 in ms); an entry that fails becomes an
    error row and leaves the rounds.
    """
    rows = {name: {"name": name, "runs": runs} for name, _ in entries}
    times: dict[str, list[float]] = {name: [] for name, _ in entries}
    live = dict(entries)

    def call(name: str, record: bool) -> None:
        t0 = time.perf_counter()
        try:
            live[name]()
        except Exception as e:
            rows[name].update(status="error", error=f"{type(e).__name__}: {e}")
            del live[name]
            return
        if record:
            times[name].append((time.perf_counter() - t0) * 1000)

    for round_ in range(warmup + runs):
        names = list(live)
        shift = round_ % max(1, len(names))  # rotate who goes first
        for name in names[shift:] + names[:shift]:
            call(name, round_ >= warmup)
    for name, row in rows.items():
        if name in live:
            spent = sorted(times[name])
            row.update(
                status="ok",
                median_ms=round(statistics.median(spent), 3),
                min_ms=round(spent[0], 3),
                p90_ms=round(spent[min(len(spent) - 1, int(len(spent) * 0.9))], 3),
            )
    return list(rows.values())


class KeepAliveHTTP(http.client.HTTPConnection):
    """One keep-alive HTTP/1.1 connection, the same client for SkyPort and the engine.

    Both sides of a ratio are timed with this stdlib client, so its own cost
    (small next to httpx's) is the same on both sides.
    """

    def __init__(self, host: str, port: int | None, headers: dict[str, str]) -> None:
        super().__init__(host, port, timeout=60)
        self.headers = headers

    def get(self, path: str) -> bytes:
        self.request("GET", path, headers=self.headers)
        response = self.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
        return body


class UnixHTTPConnection(KeepAliveHTTP):
    """HTTP/1.1 over the engine's unix socket."""

    def __init__(self, path: str = SOCKET) -> None:
        super().__init__("localhost", None, {})
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


# --- containers --------------------------------------------------------------------------
def _image(client: Any) -> None:
    if client.images(name=IMAGE):
        return
    if not os.path.exists(BUSYBOX):
        raise RuntimeError(f"{IMAGE} missing and no {BUSYBOX} (apt-get install busybox-static)")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in APPLETS.split():
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    repository, _, tag = IMAGE.rpartition(":")
    client.import_image_from_data(
        buffer.getvalue(), repository=repository, tag=tag, changes=['CMD ["/bin/sh"]']
    )


def _remove_all(client: Any, timeout: float) -> int:
    """Remove every container carrying the bench label (this run's and leftovers)."""
    deadline = time.monotonic() + timeout
    ids = [c["Id"] for c in client.containers(all=True, filters={"label": LABEL})]

    def remove(cid: str) -> None:
        if time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                client.remove_container(cid, force=True, v=True)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(remove, ids))
    return len(ids)


@contextlib.contextmanager
def containers(
    client: Any, total: int, running: int, timeout: float, log: Callable[[str], None]
) -> Iterator[list[str]]:
    """``total`` labelled busybox containers, the first ``running`` of them started."""
    run_id = secrets.token_hex(4)
    left = _remove_all(client, timeout)
    if left:
        log(f"removed {left} containers left over by an earlier bench run")
    _image(client)
    deadline = time.monotonic() + timeout
    host = client.create_host_config(network_mode="none")

    def make(i: int) -> str:
        if time.monotonic() > deadline:
            raise TimeoutError(f"creating {total} containers took over {timeout:.0f} s")
        name = f"skyport-bench-{run_id}-{i:03d}"
        client.create_container(
            IMAGE, command=["sleep", "86400"], name=name,
            labels={LABEL: run_id}, host_config=host,
        )  # fmt: skip
        if i < running:
            client.start(name)
        return name

    try:
        log(f"creating {total} containers ({running} running)")
        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            names = list(pool.map(make, range(total)))
        log(f"created in {time.monotonic() - t0:.1f} s")
        yield names[:running]
    finally:
        log("removing the bench containers")
        t0 = time.monotonic()
        _remove_all(client, timeout)
        log(f"removed in {time.monotonic() - t0:.1f} s")


# --- figures -----------------------------------------------------------------------------
def _collector() -> Any:
    """The ``containers`` collector as the server builds it, on a minimal plugin context."""
    from skyport_docker.engines import EngineRegistry
    from skyport_docker.settings import DockerSettings
    from skyport_docker.stats import container_collector

    registry = EngineRegistry(DockerSettings(local_url=f"unix://{SOCKET}"), None)  # type: ignore[arg-type]
    context = types.SimpleNamespace(
        state={"docker": types.SimpleNamespace(engines=registry)},
        config=types.SimpleNamespace(metrics=types.SimpleNamespace(interval=2.0)),
    )
    return container_collector(context)  # type: ignore[arg-type]


def _size(text: str) -> float:
    number = text.rstrip("BKMGTikb")
    return float(number) * UNITS[text[len(number) :]]


def _docker_stats(names: list[str]) -> dict[str, dict[str, float]]:
    out = subprocess.run(
        ["docker", "stats", "--no-stream", "--format", "{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}",
         *names],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    result = {}
    for line in out.splitlines():
        name, cpu, memory = line.split("\t")
        result[name] = {"cpu": float(cpu.rstrip("%")), "memory": _size(memory.split(" / ")[0])}
    return result


def _agreement(ours: Any, theirs: dict[str, dict[str, float]]) -> dict[str, Any]:
    """How many containers show docker stats' memory and CPU % (within its rounding)."""
    same = 0
    worst_mem = worst_cpu = 0.0
    for stats in ours.container:
        other = theirs.get(stats.name)
        if other is None:
            continue
        mem = abs(stats.memory_usage_bytes - other["memory"])
        cpu = abs(stats.cpu_percent - other["cpu"])
        worst_mem, worst_cpu = max(worst_mem, mem), max(worst_cpu, cpu)
        if mem <= max(0.005 * other["memory"], 1024) and cpu <= 0.5:
            same += 1
    return {
        "agree": same,
        "compared": len(theirs),
        "max_memory_diff_kib": round(worst_mem / 1024, 1),
        "max_cpu_diff": round(worst_cpu, 2),
    }


def run(
    args: argparse.Namespace,
    start_skyport: Callable[[], Any],
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    try:
        import docker
    except ImportError as e:
        return [{"name": "-", "status": "skipped", "error": f"docker SDK missing: {e}"}]
    try:
        client = docker.APIClient(base_url=f"unix://{SOCKET}", version="auto", timeout=120)
        client.ping()
    except Exception as e:
        return [{"name": "-", "status": "skipped", "error": f"no Docker engine at {SOCKET}: {e}"}]
    rows: list[dict[str, Any]] = []
    with containers(
        client, args.docker_containers, args.docker_running, args.docker_setup_timeout, log
    ) as running:
        listed = len(client.containers(all=True))
        rows += _measure(args, client, start_skyport, listed, log, running)
    client.close()
    return rows


def _measure(
    args: argparse.Namespace,
    client: Any,
    start_skyport: Callable[[], Any],
    listed: int,
    log: Callable[[str], None],
    running: list[str],
) -> list[dict[str, Any]]:
    runs, slow = args.docker_runs, args.docker_slow_runs
    rows: list[dict[str, Any]] = []

    def add(group: str, n: int, name: str, fn: Callable[[], Any], times: int, warmup: int) -> None:
        rows.append({"group": group, "containers": n, **timed(name, fn, times, warmup)})

    engine = UnixHTTPConnection()
    target, why = None, ""
    try:
        target = start_skyport()
    except Exception as e:
        why = f"skyport serve: {type(e).__name__}: {e}"
    address = httpx.URL(target.server.base_url) if target else httpx.URL("http://127.0.0.1:9")
    http = KeepAliveHTTP(address.host, address.port, target.headers if target else {})

    def sky(path: str) -> Callable[[], None]:
        def get() -> None:
            if target is None:
                raise RuntimeError(why)
            http.get(path)

        return get

    try:
        log(f"listing {listed} containers ({runs} runs each)")
        raw = f"/v{client.api_version}/containers/json?all=1"
        sdk = docker_low_level()
        side_by_side = interleaved(
            [
                ("raw Engine API GET /containers/json?all=1 (unix socket)",
                 lambda: engine.get(raw)),
                ("SkyPort GET /api/docker/ps?all=1 (HTTP, Bearer)", sky("/api/docker/ps?all=1")),
                ("SDK APIClient.containers(all=True) (in-process, decoded)",
                 lambda: sdk.containers(all=True)),
                ("SkyPort GET /api/status (HTTP + auth, no engine)", sky("/api/status")),
            ],
            runs * 3,
            5,
        )  # fmt: skip
        sdk.close()
        for row in side_by_side:
            rows.append({"group": "ps", "containers": 0 if "status" in row["name"] else listed,
                         **row})  # fmt: skip
        ps = ["docker", "ps", "-a"]
        add("ps", listed, "docker ps -a (CLI)",
            lambda: subprocess.run(ps, capture_output=True, timeout=60, check=True),
            max(3, runs // 3), 1)  # fmt: skip
        high = docker_high_level()
        add("ps", listed, "SDK containers.list(all=True) (inspects each)",
            lambda: high.containers.list(all=True), slow, 1)  # fmt: skip
        high.close()
        _ratios(rows, "ps")

        n = len(running)
        log(f"stats of {n} running containers")
        collect = _collector().collect
        add("stats", n, "SkyPort collector pass (in-process, cgroup files)", collect, runs, 2)
        add("stats", n, "SkyPort GET /api/docker/stats?window=0 (HTTP)",
            sky("/api/docker/stats?window=0"), runs, 2)  # fmt: skip
        theirs: dict[str, dict[str, float]] = {}
        add("stats", n, "docker stats --no-stream (CLI)",
            lambda: theirs.update(_docker_stats(running)), slow, 0)  # fmt: skip
        time.sleep(1.0)  # the collector's next reading: CPU % over about a second
        rows[-1].update(_agreement(collect(), theirs))

        def sdk_threads() -> None:
            with ThreadPoolExecutor(n) as pool:
                list(pool.map(lambda name: client.stats(name, stream=False), running))

        add("stats", n, f"SDK stats(stream=False) on {n} threads", sdk_threads, slow, 0)
        _ratios(rows, "stats")
    finally:
        http.close()
        engine.close()
        if target is not None:
            target.close()
    return rows


def docker_low_level() -> Any:
    import docker

    return docker.APIClient(base_url=f"unix://{SOCKET}", version="auto", timeout=120)


def docker_high_level() -> Any:
    import docker

    return docker.DockerClient(base_url=f"unix://{SOCKET}", version="auto", timeout=120)


def _ratios(rows: list[dict[str, Any]], group: str) -> None:
    """``x ref``: each median over the group's first row (the raw API / the collector pass)."""
    mine = [r for r in rows if r.get("group") == group]
    ref = mine[0].get("median_ms") if mine else None
    for r in mine:
        if ref and r.get("median_ms"):
            r["vs_ref"] = round(r["median_ms"] / ref, 2)


# --- output --------------------------------------------------------------------------------
TITLES = {
    "ps": "Docker: list containers  (median of sequential requests; x ref = over the raw "
    "Engine API; goal for SkyPort <= 1.3)",
    "stats": "Docker: stats of the running containers  (x ref = over one collector pass; "
    "goal: a pass <= 20 ms)",
}


def render(
    rows: list[dict[str, Any]],
    section: Callable[[str, list[str], list[list[str]], list[str]], str],
    fmt: Callable[..., str],
    problem: Callable[[dict[str, Any], list[str], int], list[str]],
) -> str:
    parts = []
    headers = ["what", "n", "runs", "median ms", "min ms", "p90 ms", "x ref"]
    for group in ("ps", "stats"):
        table, notes = [], []
        for r in rows:
            if r.get("group", "ps") != group:
                continue
            if r.get("status") == "ok":
                table.append([
                    r["name"], fmt(r.get("containers")), fmt(r["runs"]), fmt(r["median_ms"]),
                    fmt(r["min_ms"]), fmt(r["p90_ms"]), fmt(r.get("vs_ref")),
                ])  # fmt: skip
                if "agree" in r:
                    notes.append(
                        f"collector vs docker stats: {r['agree']}/{r['compared']} containers "
                        f"agree within its rounding (max diff {r['max_memory_diff_kib']} KiB, "
                        f"{r['max_cpu_diff']} CPU %)"
                    )
            else:
                table.append([r.get("name", "-"), *problem(r, notes, len(headers) - 1)])
        if table:
            parts.append(section(TITLES[group], headers, table, notes))
    return "\n".join(parts)
