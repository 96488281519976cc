"""Container stats against the real engine: the same numbers as ``docker stats``.

A container burning CPU under a half-core quota and one holding ~30 MiB under
a 128 MiB limit are measured by the ``containers`` collector, the stats API
and the live topic, and compared with ``docker stats --no-stream`` (within
rounding; the two tools sample CPU over different one-second windows, and
the quota keeps the burner near 50 % even when other work shares the CPUs).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.app import create_app
from skyport.config import Settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, bearer, login, promtool_problems, wait_for
from skyport_docker.cgroups import HostCgroups
from skyport_docker.engines import Engine
from skyport_docker.settings import EngineConfig
from skyport_docker.stats import EngineSampler

from .conftest import LABEL

BURN = "while :; do :; done"
HOLD = "x=$(yes | head -c 30000000); echo ready; while :; do sleep 3600; done"
"""Keeps ~30 MB in a shell variable (the loop stops ash from exec-ing into sleep)."""
LIMIT = 128 * 2**20
HALF_CORE = 500_000_000
"""The burner's CPU quota (nano CPUs): ~50 % in ``docker stats``."""
BUSY = 5.0
"""CPU % the burner shows at least, even on a machine busy with other work."""
UNITS = {
    "B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}  # fmt: skip


def size(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)\s*([A-Za-z]+)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def docker_stats(*ids: str) -> dict[str, dict[str, Any]]:
    """``docker stats --no-stream`` parsed: name → cpu, memory, limit, pids, net, block."""
    out = subprocess.run(
        ["docker", "stats", "--no-stream", "--format", "{{json .}}", *ids],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    result = {}
    for line in out.splitlines():
        row = json.loads(line)
        used, limit = row["MemUsage"].split(" / ")
        rx, tx = row["NetIO"].split(" / ")
        read, written = row["BlockIO"].split(" / ")
        result[row["Name"]] = {
            "cpu": float(row["CPUPerc"].rstrip("%")),
            "mem_percent": float(row["MemPerc"].rstrip("%")),
            "memory": size(used),
            "limit": size(limit),
            "pids": int(row["PIDs"]),
            "net": (size(rx), size(tx)),
            "block": (size(read), size(written)),
        }
    return result


def assert_agrees(ours: dict[str, Any], theirs: dict[str, Any], busy: bool) -> None:
    """Ours equals ``docker stats`` up to its display rounding (and a moving CPU window)."""
    assert ours["pids"] == theirs["pids"]
    assert ours["memory_limit_bytes"] == pytest.approx(theirs["limit"], rel=0.005)
    assert ours["memory_usage_bytes"] == pytest.approx(theirs["memory"], rel=0.02, abs=256 * 1024)
    assert ours["memory_percent"] == pytest.approx(theirs["mem_percent"], rel=0.02, abs=0.01)
    assert (ours["network_rx_bytes"], ours["network_tx_bytes"]) == pytest.approx(
        theirs["net"], rel=0.01, abs=10
    )
    assert (ours["block_read_bytes"], ours["block_write_bytes"]) == pytest.approx(
        theirs["block"], rel=0.01, abs=10
    )
    if busy:  # half a core: ~50 % in both, each over its own second
        assert BUSY < ours["cpu_percent"] < 60
        assert ours["cpu_percent"] == pytest.approx(theirs["cpu"], abs=15)
    else:
        assert ours["cpu_percent"] < 5
        assert theirs["cpu"] < 5


@pytest.fixture
def own_container(
    engine: docker.APIClient, test_image: str, unique: Callable[[str], str]
) -> Iterator[Callable[..., dict[str, Any]]]:
    """A labelled, started busybox container with host options (limits) of our choosing."""
    made: list[str] = []

    def make(command: str, **host: Any) -> dict[str, Any]:
        config = engine.create_host_config(network_mode="none", **host)
        created = engine.create_container(
            test_image, command=["sh", "-c", command], name=unique("st"), labels=LABEL,
            host_config=config,
        )  # fmt: skip
        made.append(created["Id"])
        engine.start(created["Id"])
        return engine.inspect_container(created["Id"])

    yield make
    for container_id in made:
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_container(container_id, force=True, v=True)


@pytest.fixture
def burner(own_container: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return own_container(BURN, nano_cpus=HALF_CORE)


@pytest.fixture
def holder(
    engine: docker.APIClient, own_container: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    container = own_container(HOLD, mem_limit=LIMIT)
    wait_for(lambda: b"ready" in engine.logs(container["Id"]))
    return container


def name_of(container: dict[str, Any]) -> str:
    return str(container["Name"]).lstrip("/")


def collected(client: TestClient[Litestar]) -> dict[str, Any]:
    response = client.get("/api/metrics")
    assert response.status_code == 200, response.text
    snapshot = response.json()
    assert "containers" not in snapshot["errors"], snapshot["errors"]
    return snapshot["collectors"]["containers"] or {}


def by_name(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in snapshot.get("container", [])}


def test_collector_agrees_with_docker_stats(
    api: TestClient[Litestar], burner: dict[str, Any], holder: dict[str, Any]
) -> None:
    hot, warm = name_of(burner), name_of(holder)

    def sampled_twice() -> dict[str, dict[str, Any]] | None:
        seen = by_name(collected(api))
        return seen if hot in seen and warm in seen and seen[hot]["cpu_percent"] > 0 else None

    wait_for(sampled_twice)
    theirs = docker_stats(burner["Id"], holder["Id"])
    ours = by_name(collected(api))

    assert ours[hot]["id"] == burner["Id"] and ours[hot]["engine"] == "local"
    assert ours[hot]["source"] == "cgroup"
    assert_agrees(ours[hot], theirs[hot], busy=True)
    assert_agrees(ours[warm], theirs[warm], busy=False)
    assert ours[warm]["memory_limit_bytes"] == LIMIT
    assert ours[warm]["memory_usage_bytes"] > 25 * 2**20
    assert ours[warm]["memory_percent"] == pytest.approx(
        ours[warm]["memory_usage_bytes"] / LIMIT * 100, abs=0.01
    )
    snapshot = collected(api)
    assert snapshot["running"] == len(snapshot["container"]) >= 2
    [local] = snapshot["engines"]
    assert local["name"] == "local" and local["up"] is True and local["error"] is None


def test_prometheus_labels_each_container_by_name(
    api: TestClient[Litestar], burner: dict[str, Any]
) -> None:
    hot = name_of(burner)
    wait_for(lambda: by_name(collected(api)).get(hot, {}).get("cpu_percent", 0) > 0)
    text = api.get("/metrics").text
    line = next(
        line
        for line in text.splitlines()
        if line.startswith(f'skyport_containers_container_cpu_percent{{name="{hot}"}}')
    )
    assert float(line.split()[-1]) > BUSY
    assert f'skyport_containers_container_memory_limit_bytes{{name="{hot}"}}' in text
    assert 'skyport_containers_engines_up{name="local"} 1.0' in text
    assert 'skyport_metrics_up{collector="containers"} 1.0' in text
    assert promtool_problems(text) == []


def test_one_shot_stats_of_a_container(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    burner: dict[str, Any],
    holder: dict[str, Any],
    make_container: Callable[..., dict[str, Any]],
) -> None:
    response = api.get(f"/api/docker/containers/{name_of(burner)}/stats")
    assert response.status_code == 200, response.text
    hot = response.json()
    assert hot["id"] == burner["Id"] and hot["name"] == name_of(burner)
    assert BUSY < hot["cpu_percent"] < 60 and hot["pids"] == 1

    by_id = api.get(f"/api/docker/containers/{holder['Id'][:12]}/stats?engine=local").json()
    assert by_id["name"] == name_of(holder) and by_id["memory_limit_bytes"] == LIMIT

    quick = api.get(f"/api/docker/containers/{holder['Id']}/stats?window=0")
    assert quick.status_code == 200 and quick.json()["memory_usage_bytes"] > 25 * 2**20

    missing = api.get("/api/docker/containers/sp-no-such-container/stats")
    assert missing.status_code == 404 and "sp-no-such-container" in missing.text

    stopped = make_container("true", start=False)
    response = api.get(f"/api/docker/containers/{stopped['Id']}/stats")
    assert response.status_code == 409 and "not running" in response.json()["detail"]

    assert api.get(f"/api/docker/containers/{holder['Id']}/stats?engine=nope").status_code == 404
    assert api.get(f"/api/docker/containers/{holder['Id']}/stats?engine=all").status_code == 400
    assert api.get(f"/api/docker/containers/{holder['Id']}/stats?window=99").status_code == 400


def test_stats_of_every_running_container(
    api: TestClient[Litestar], burner: dict[str, Any], holder: dict[str, Any]
) -> None:
    response = api.get("/api/docker/stats")
    assert response.status_code == 200, response.text
    listed = {s["name"]: s for s in response.json()}
    assert listed[name_of(burner)]["cpu_percent"] > BUSY
    assert listed[name_of(holder)]["memory_limit_bytes"] == LIMIT

    across = api.get("/api/docker/stats?engine=all")
    assert across.status_code == 200
    assert {s["engine"] for s in across.json()} == {"local"}


def test_stats_api_path_agrees_with_cgroup_files(
    burner: dict[str, Any], holder: dict[str, Any]
) -> None:
    """The path remote engines take (stats API, one-shot) gives the cgroup path's numbers."""
    config = EngineConfig("unix:///var/run/docker.sock")
    by_files = EngineSampler(Engine("local", config, 30, "settings"), HostCgroups())
    by_api = EngineSampler(Engine("local", config, 30, "settings"), None)
    for container, busy in ((burner, True), (holder, False)):
        files = msgspec.to_builtins(by_files.sample_one(container["Id"], window=1.0)[0])
        api = msgspec.to_builtins(by_api.sample_one(container["Id"], window=1.0)[0])
        assert (files["source"], api["source"]) == ("cgroup", "api")
        for key in ("pids", "memory_limit_bytes", "network_rx_bytes", "block_read_bytes"):
            assert files[key] == api[key], key
        assert files["memory_usage_bytes"] == pytest.approx(
            api["memory_usage_bytes"], rel=0.02, abs=256 * 1024
        )
        if busy:
            assert files["cpu_percent"] == pytest.approx(api["cpu_percent"], abs=15)
            assert files["cpu_percent"] > BUSY and api["cpu_percent"] > BUSY
        else:
            assert files["cpu_percent"] < 5 and api["cpu_percent"] < 5


def test_live_stats_topic(
    api: TestClient[Litestar], burner: dict[str, Any], make_container: Callable[..., dict[str, Any]]
) -> None:
    stopped = make_container("true", start=False)
    hot = name_of(burner)
    topics = [f"docker.stats:{hot}", f"docker.stats:local/{burner['Id']}",
              f"docker.stats:{stopped['Id']}"]  # fmt: skip
    headers = {"Authorization": api.headers["Authorization"]}
    with api.websocket_connect("/ws", headers=headers) as ws:
        ws.send_json({"type": "subscribe", "topics": topics})
        assert ws.receive_json(timeout=10)["type"] == "subscribed"
        seen: dict[str, Any] = {}
        deadline = time.monotonic() + 20
        while len(seen) < len(topics) and time.monotonic() < deadline:
            message = ws.receive_json(timeout=10)
            seen.setdefault(message.get("topic"), message.get("data"))
    assert seen[topics[0]]["name"] == hot and seen[topics[0]]["cpu_percent"] > BUSY
    assert seen[topics[1]]["id"] == burner["Id"]
    assert seen[topics[2]]["status"] == 409 and "not running" in seen[topics[2]]["error"]


@pytest.fixture
def multi_engine_api(
    engine: docker.APIClient, make_settings: Callable[..., Settings], tmp_path: Path
) -> Iterator[TestClient[Litestar]]:
    """The app with the local engine twice (``twin``) and one that is down."""
    from skyport_docker import plugin

    engines = {
        "twin": {"url": "unix:///var/run/docker.sock"},
        "down": {"url": f"unix://{tmp_path}/no-engine.sock"},
    }
    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(plugin, name="docker")
    settings = make_settings(metrics={"interval": 1.0}, docker={"engines": engines})
    with TestClient(create_app(settings, plugins=manager)) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client


def test_collector_covers_every_engine(
    multi_engine_api: TestClient[Litestar], holder: dict[str, Any]
) -> None:
    warm = name_of(holder)

    def both() -> dict[str, Any] | None:
        snapshot = collected(multi_engine_api)
        names = by_name(snapshot)
        return snapshot if warm in names and f"twin/{warm}" in names else None

    snapshot = wait_for(both)
    names = by_name(snapshot)
    assert names[f"twin/{warm}"]["engine"] == "twin"
    assert names[f"twin/{warm}"]["id"] == names[warm]["id"] == holder["Id"]
    engines = {e["name"]: e for e in snapshot["engines"]}
    assert engines["local"]["up"] and engines["twin"]["up"]
    assert engines["down"]["up"] is False and "no-engine.sock" in engines["down"]["error"]

    text = multi_engine_api.get("/metrics").text
    assert f'skyport_containers_container_pids{{name="twin/{warm}"}}' in text
    assert 'skyport_containers_engines_up{name="down"} 0.0' in text

    down = multi_engine_api.get("/api/docker/stats?engine=down&window=0")
    assert down.status_code == 503 and "no-engine.sock" in down.json()["detail"]
    across = multi_engine_api.get("/api/docker/stats?engine=all&window=0")
    assert across.status_code == 200
    assert across.headers["X-Docker-Unavailable"] == "down"
    assert {"local", "twin"} <= {s["engine"] for s in across.json()}


def test_cgroup_v2_layout(tmp_path: Path) -> None:
    """The unified hierarchy's files (this host runs cgroup v1: a v2 tree is laid out here)."""
    root, proc = tmp_path / "cgroup", tmp_path / "proc"
    cid = "ab" * 32
    group = root / "system.slice" / f"docker-{cid}.scope"
    group.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu io memory pids\n")
    files = {
        "cgroup.procs": "4242\n4250\n",
        "cpu.stat": "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n",
        "memory.current": "50331648\n",
        "memory.max": "max\n",
        "memory.stat": "anon 41943040\nfile 8388608\nactive_file 4194304\ninactive_file 4194304\n",
        "io.stat": "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n"
        "8:16 rbytes=10 wbytes=20 rios=1 wios=1 dbytes=0 dios=0\n",
        "pids.current": "2\n",
    }
    for name, text in files.items():
        (group / name).write_text(text)
    (proc / "4242" / "net").mkdir(parents=True)
    (proc / "4242" / "net" / "dev").write_text(
        "Inter-|   Receive                            |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n"
        "    lo:     500       5    0    0    0     0          0         0      500       5"
        "    0    0    0     0       0          0\n"
        "  eth0:    1234      10    0    0    0     0          0         0     5678      12"
        "    0    0    0     0       0          0\n"
    )
    (proc / "stat").write_text("cpu  100 0 50 850 0 0 0 7 0 0\ncpu0 50 0 25 425 0 0 0 0 0 0\n")
    (proc / "meminfo").write_text("MemTotal:       1048576 kB\nMemFree: 1 kB\n")

    cgroups = HostCgroups(str(root), str(proc))
    assert cgroups.unified and cgroups.available
    paths = cgroups.locate(cid)
    assert paths is not None and paths.memory == str(group)
    counters = cgroups.read(paths)
    assert counters.cpu_ns == 2_500_000_000
    assert counters.system_ns == 1000 * 1_000_000_000 // cgroups.clock_ticks
    assert counters.memory_usage == 50331648 - 4194304
    assert counters.memory_limit == 1048576 * 1024  # "max": the machine's memory
    assert (counters.block_read, counters.block_write) == (1010, 2020)
    assert (counters.network_rx, counters.network_tx) == (1234, 5678)
    assert counters.pids == 2
    assert cgroups.locate("cd" * 32) is None
