"""Deploy section: detecting a 10,000-file project, and deploy-to-first-answer for Node.js.

- Detection: ``skyport_deploy.detectors.detect`` on a generated Node.js project of 10,000
  files (most in ``node_modules`` and ``.git``, which it skips), beside the floor: one
  ``os.walk`` listing the whole tree. Goal: at most 200 ms.
- Deploy to first answer: the Node.js sample (the ``http`` module only) deployed through
  the API in-process (pack, upload, unpack, detect, PM2 start, health check) until it
  answers on its port, beside the same steps by hand: ``pm2 start server.js`` with ``PORT``
  set, on the same private PM2 daemon, until it answers.

Run: ``uv run python -m bench.deploy_bench`` (needs pm2: ``SKYPORT_TEST_PM2_BIN``).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from skyport_deploy.detectors import detect
from skyport_deploy.settings import DeploySettings

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "plugins" / "skyport-deploy" / "tests" / "samples" / "node-http"
RUNS = 15
DEPLOYS = 5


def make_tree(root: Path, files: int = 10_000) -> None:
    """A Node.js project of ``files`` files: sources, node_modules, .git."""
    (root / "package.json").write_text(json.dumps({"scripts": {"start": "node server.js"}}))
    (root / "server.js").write_text("require('http').createServer().listen(process.env.PORT)")
    layout = {"src": 1500, "node_modules": 7000, ".git/objects": 1000, "public": 498}
    for folder, count in layout.items():
        for n in range(count):
            path = root / folder / f"d{n % 50}" / f"f{n}.js"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")


def bench_detection() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        make_tree(root)
        assert sum(len(f) for _, _, f in os.walk(root)) == 10_000
        settings = DeploySettings()
        ours, floor = [], []
        for _ in range(RUNS):
            start = time.perf_counter()
            detect(root, settings)
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            sum(len(f) for _, _, f in os.walk(root))
            floor.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(floor)


def first_answer(port: int, since: float, limit: float = 60.0) -> float:
    while time.perf_counter() - since < limit:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return time.perf_counter() - since
        except httpx.HTTPError:
            time.sleep(0.01)
    raise RuntimeError(f"nothing answered on {port}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_deploy(pm2: str) -> tuple[float, float]:
    from skyport.client import Client
    from skyport.config import load_settings
    from skyport_deploy.sources import pack

    with tempfile.TemporaryDirectory() as folder:
        home, data = Path(folder) / "pm2", Path(folder) / "data"
        home.mkdir()
        (home / "touch").touch()
        env = {**os.environ, "PM2_HOME": str(home), "PM2_DISABLE_VERSION_CHECK": "1"}
        subprocess.run([pm2, "ping"], env=env, capture_output=True, check=True)
        os.environ["SKYPORT_ADMIN_PASSWORD"] = "bench-password-1234"
        settings = load_settings(
            overrides={"data_dir": str(data), "pm2": {"home": str(home), "bin": pm2}}
        )
        ours, by_hand = [], []
        try:
            with Client.local(settings) as client:
                for n in range(DEPLOYS):
                    port = free_port()
                    options = {"name": f"bench-{n}", "port": port}
                    start = time.perf_counter()
                    files = {
                        "project": ("p.tar.gz", pack(SAMPLE), "application/gzip"),
                        "options": (None, json.dumps(options)),
                    }
                    client.request("POST", "/api/deploy/apps", files=files)
                    ours.append(first_answer(port, start))
                    _wait_live(client, f"bench-{n}")
                    client.delete(f"/api/deploy/apps/bench-{n}")
            for n in range(DEPLOYS):
                port = free_port()
                copy = Path(folder) / f"hand-{n}"
                shutil.copytree(SAMPLE, copy)
                start = time.perf_counter()
                subprocess.run(
                    [pm2, "start", "server.js", "--name", f"hand-{n}"],
                    cwd=copy,
                    env={**env, "PORT": str(port)},
                    capture_output=True,
                    check=True,
                )
                by_hand.append(first_answer(port, start))
                subprocess.run([pm2, "delete", f"hand-{n}"], env=env, capture_output=True)
        finally:
            subprocess.run([pm2, "kill"], env=env, capture_output=True)
    return statistics.median(ours), statistics.median(by_hand)


def _wait_live(client: object, name: str) -> None:
    for _ in range(300):
        if client.get(f"/api/deploy/apps/{name}")["state"] == "live":  # type: ignore[attr-defined]
            return
        time.sleep(0.05)


def main() -> None:
    ours, floor = bench_detection()
    print("deploy: detection of a 10,000-file Node.js project (median of 15)")
    print(f"  skyport detect   {ours * 1000:7.1f} ms   (goal <= 200 ms)")
    print(f"  os.walk (floor)  {floor * 1000:7.1f} ms   ratio {ours / floor:.2f}x")
    pm2 = os.environ.get("SKYPORT_TEST_PM2_BIN") or shutil.which("pm2")
    if not pm2:
        print("deploy to first answer: skipped (no pm2: set SKYPORT_TEST_PM2_BIN)")
        return
    deployed, by_hand = bench_deploy(pm2)
    print(f"deploy: Node.js sample, time to first answer (median of {DEPLOYS})")
    print(f"  skyport deploy (API, in-process)  {deployed * 1000:7.0f} ms")
    ratio = deployed / by_hand
    print(f"  pm2 start by hand (floor)         {by_hand * 1000:7.0f} ms   ratio {ratio:.2f}x")


if __name__ == "__main__":
    main()
