"""VPS section: ``uptime`` on many servers through SkyPort's run path vs ``parallel-ssh``.

Set-up (all on 127.0.0.1, all stopped at the end by PID): ``--vps-hosts``
private ``sshd -D -f <tmp config>`` instances (default 50), each on its own
free port, with a temporary ed25519 host key and client key. Every sshd
config says ``SetEnv HOME=<empty dir>``: the login user's ``~/.bashrc`` (on
these machines it runs pyenv, ~100 ms per command) is not read, for SkyPort
and parallel-ssh alike. A ``skyport serve`` is started by the harness.

Figures:

- cold: ``POST /api/vps/run {"command": "uptime", "tags": [round]}`` on
  50 server entries the server has never connected to (each round adds 50
  new entries, so every round makes 50 new connections: TCP, key exchange,
  login, the command); ``--vps-rounds`` rounds;
- warm: the same request again on the same entries, ``--vps-warm`` times per
  round: the pooled connections are reused (one channel per command);
- ``parallel-ssh -p 50 uptime`` (Debian ``pssh``, one OpenSSH client process
  per host) with ``KexAlgorithms=curve25519-sha256`` (what paramiko and
  OpenSSH 9.2 agree on: same key exchange), and with OpenSSH's default
  (sntrup761x25519) for reference; ``--vps-rounds`` runs each;
- memory: the server's RSS growth per pooled connection (RSS after a
  round's runs minus before, over the 50 new connections).

Run alone: ``uv run python -m bench.vps_bench`` (or ``bench/run --only vps``).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.procs import cpu_seconds, free_port, rss_mb

SSHD = "/usr/sbin/sshd"
COMMAND = "uptime"
KEX = "curve25519-sha256"
TITLE = (
    "VPS: `uptime` on every host  (x ref = over parallel-ssh -p N with the same KEX; "
    "goals: cold <= 0.7, warm <= 100 ms)"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vps-hosts", type=int, default=50, help="private sshd instances (50)")
    p.add_argument("--vps-rounds", type=int, default=3, help="cold runs and pssh runs (3)")
    p.add_argument("--vps-warm", type=int, default=10, help="warm runs per round (10)")


def bound(a: argparse.Namespace) -> None:
    a.vps_hosts = max(1, min(a.vps_hosts, 200))
    a.vps_rounds = max(1, min(a.vps_rounds, 10))
    a.vps_warm = max(1, min(a.vps_warm, 100))


def _keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", str(path)],
        check=True,
        timeout=30,
    )
    return path


class Fleet:
    """N private sshd processes on 127.0.0.1, sharing one host key and one client key."""

    def __init__(self, count: int, folder: Path) -> None:
        self.folder = folder
        self.user = getpass.getuser()
        self.host_key = _keygen(folder / "host_key")
        self.client_key = _keygen(folder / "client_key")
        home = folder / "home"
        home.mkdir()
        (folder / "authorized_keys").write_text(self.client_key.with_suffix(".pub").read_text())
        self.ports = [free_port() for _ in range(count)]
        self.processes: list[subprocess.Popen[bytes]] = []
        with contextlib.suppress(OSError):
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        for port in self.ports:
            config = folder / f"sshd_{port}.conf"
            config.write_text(
                f"Port {port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
                f"AuthorizedKeysFile {folder / 'authorized_keys'}\n"
                f"PidFile {folder}/sshd_{port}.pid\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
                f"StrictModes no\nPermitRootLogin prohibit-password\nAllowUsers {self.user}\n"
                f"LogLevel ERROR\nMaxStartups 100:30:200\nSetEnv HOME={home}\n"
            )
            self.processes.append(
                subprocess.Popen(
                    [SSHD, "-D", "-f", str(config)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 30
        for port in self.ports:
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sshd on port {port} did not start")
                time.sleep(0.02)
        public = self.host_key.with_suffix(".pub").read_text().split()
        self.known_hosts = folder / "known_hosts"
        self.known_hosts.write_text(
            "".join(f"[127.0.0.1]:{p} {public[0]} {public[1]}\n" for p in self.ports)
        )
        self.fingerprint = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", str(self.host_key.with_suffix(".pub"))],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.split()[1]

    def cpu_seconds(self) -> float:
        """CPU used by the sshd processes, their sessions and the commands they ran."""
        total = 0.0
        for process in self.processes:
            with contextlib.suppress(psutil.Error):
                for proc in psutil.Process(process.pid).children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        t = proc.cpu_times()
                        total += t.user + t.system + t.children_user + t.children_system
        return total

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(process.pid).children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        child.kill()
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@contextlib.contextmanager
def fleet(count: int) -> Iterator[Fleet]:
    folder = Path(tempfile.mkdtemp(prefix="bench-vps-"))
    running: Fleet | None = None
    try:
        running = Fleet(count, folder)
        yield running
    finally:
        if running is not None:
            running.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _stats(name: str, seconds: list[float], **extra: Any) -> dict[str, Any]:
    ordered = sorted(seconds)
    return {
        "name": name,
        "status": "ok",
        "runs": len(seconds),
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "min_ms": round(ordered[0] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        **extra,
    }


def _pssh(hosts: Fleet, hosts_file: Path, kex: str | None) -> float:
    options = [
        f"-i {hosts.client_key}",
        f"-o UserKnownHostsFile={hosts.known_hosts}",
        "-o StrictHostKeyChecking=yes",
        "-o BatchMode=yes",
        "-o LogLevel=ERROR",
        *([f"-o KexAlgorithms={kex}"] if kex else []),
    ]
    argv = ["parallel-ssh", "-p", str(len(hosts.ports)), "-t", "60", "-h", str(hosts_file)]
    started = time.perf_counter()
    done = subprocess.run(
        [*argv, "-x", " ".join(options), COMMAND], capture_output=True, text=True, timeout=120
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"parallel-ssh failed ({done.returncode}): {done.stdout[-500:]}")
    return elapsed


def run(
    args: argparse.Namespace, start_skyport: Callable[[], Any], log: Callable[[str], None]
) -> list[dict[str, Any]]:
    if not os.path.exists(SSHD) or not shutil.which("ssh-keygen"):
        return [
            {"name": "-", "status": "skipped", "error": "no sshd (apt-get install openssh-server)"}
        ]
    rows: list[dict[str, Any]] = []
    log(f"vps: starting {args.vps_hosts} sshd instances")
    with fleet(args.vps_hosts) as hosts:
        target = start_skyport()
        try:
            rows += _skyport(args, hosts, target, log)
        finally:
            target.close()
        rows += _parallel_ssh(args, hosts, log)
    _ratios(rows)
    return rows


def _skyport(
    args: argparse.Namespace, hosts: Fleet, target: Any, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    pid = target.server.proc.pid
    cold: list[float] = []
    warm: list[float] = []
    per_connection: list[float] = []
    sshd_cpu: list[float] = []
    skyport_cpu: list[float] = []
    key = hosts.client_key.read_text()
    with httpx.Client(base_url=target.server.base_url, headers=target.headers, timeout=120) as http:

        def run_on(tag: str) -> float:
            started = time.perf_counter()
            answer = http.post("/api/vps/run", json={"command": COMMAND, "tags": [tag]})
            elapsed = time.perf_counter() - started
            answer.raise_for_status()
            job = answer.json()
            failed = [n for n, r in job["results"].items() if not r["ok"]]
            if failed or len(job["results"]) != len(hosts.ports):
                raise RuntimeError(f"run failed on {failed[:3]}: {job['results'][failed[0]]}")
            return elapsed

        for round_ in range(args.vps_rounds):
            tag = f"round{round_}"
            log(f"vps: round {round_ + 1}: adding {len(hosts.ports)} servers")
            for i, port in enumerate(hosts.ports):
                body = {
                    "name": f"r{round_}-h{i:03d}",
                    "host": "127.0.0.1",
                    "port": port,
                    "user": hosts.user,
                    "private_key": key,
                    "tags": [tag],
                    "fingerprint": hosts.fingerprint,
                }
                http.post("/api/vps/servers", json=body).raise_for_status()
            before = rss_mb(pid)
            cold.append(run_on(tag))
            sshd_before, skyport_before = hosts.cpu_seconds(), cpu_seconds(pid)
            for _ in range(args.vps_warm):
                warm.append(run_on(tag))
            sshd_cpu.append((hosts.cpu_seconds() - sshd_before) / args.vps_warm)
            skyport_cpu.append((cpu_seconds(pid) - skyport_before) / args.vps_warm)
            per_connection.append((rss_mb(pid) - before) * 1024 / len(hosts.ports))
            log(f"vps: round {round_ + 1}: cold {cold[-1]:.3f} s, warm {warm[-1]:.3f} s")
    n = len(hosts.ports)
    return [
        _stats(
            f"SkyPort POST /api/vps/run, cold ({n} new connections)", cold, hosts=n, group="cold"
        ),
        _stats(
            f"SkyPort POST /api/vps/run, warm ({n} pooled connections)", warm, hosts=n, group="warm"
        ),
        {
            "name": "CPU per warm round",
            "status": "ok",
            "sshd_ms": round(statistics.median(sshd_cpu) * 1000, 1),
            "skyport_ms": round(statistics.median(skyport_cpu) * 1000, 1),
            "cores": psutil.cpu_count() or 1,
            "group": "cpu",
        },
        {
            "name": "SkyPort server RSS per pooled connection",
            "status": "ok",
            "kib_per_connection": round(statistics.median(per_connection), 1),
            "hosts": n,
            "group": "memory",
        },
    ]


def _parallel_ssh(
    args: argparse.Namespace, hosts: Fleet, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    if not shutil.which("parallel-ssh"):
        return [
            {
                "name": "parallel-ssh",
                "status": "skipped",
                "error": "parallel-ssh missing (apt-get install -y pssh)",
            }
        ]
    hosts_file = hosts.folder / "hosts"
    hosts_file.write_text("".join(f"{hosts.user}@127.0.0.1:{p}\n" for p in hosts.ports))
    n = len(hosts.ports)
    rows = []
    for kex, label, group in ((KEX, KEX, "ref"), (None, "OpenSSH default KEX", "pssh-default")):
        log(f"vps: parallel-ssh -p {n} ({label})")
        times = [_pssh(hosts, hosts_file, kex) for _ in range(args.vps_rounds)]
        rows.append(_stats(f"parallel-ssh -p {n} ({label})", times, hosts=n, group=group))
    return rows


def _ratios(rows: list[dict[str, Any]]) -> None:
    ref = next((r for r in rows if r.get("group") == "ref" and r["status"] == "ok"), None)
    if ref is None:
        return
    for r in rows:
        if r.get("status") == "ok" and "median_ms" in r:
            r["vs_ref"] = round(r["median_ms"] / ref["median_ms"], 2)


def render(
    rows: list[dict[str, Any]],
    section: Callable[[str, list[str], list[list[str]], list[str]], str],
    fmt: Callable[..., str],
    problem: Callable[[dict[str, Any], list[str], int], list[str]],
) -> str:
    headers = ["what", "hosts", "runs", "median ms", "min ms", "max ms", "x ref"]
    table: list[list[str]] = []
    notes: list[str] = []
    for r in rows:
        if r.get("status") != "ok":
            table.append([r.get("name", "-"), *problem(r, notes, len(headers) - 1)])
        elif "kib_per_connection" in r:
            notes.append(f"{r['name']}: {r['kib_per_connection']} KiB")
        elif "sshd_ms" in r:
            floor = r["sshd_ms"] / r["cores"]
            notes.append(
                f"CPU per warm round: sshd (fork, shell, {COMMAND}) {r['sshd_ms']} ms, SkyPort "
                f"server {r['skyport_ms']} ms; on {r['cores']} cores sshd alone needs >= "
                f"{floor:.0f} ms, both >= {(r['sshd_ms'] + r['skyport_ms']) / r['cores']:.0f} ms"
            )
        else:
            table.append([
                r["name"], fmt(r["hosts"]), fmt(r["runs"]), fmt(r["median_ms"]),
                fmt(r["min_ms"]), fmt(r["max_ms"]), fmt(r.get("vs_ref")),
            ])  # fmt: skip
    return section(TITLE, headers, table, notes)


def main() -> int:
    from bench import __main__ as harness
    from bench import targets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args()
    bound(args)
    rows = run(args, lambda: targets.start_skyport([]), harness.log)
    print(render(rows, harness._section, harness._fmt, harness._problem))
    return 0


if __name__ == "__main__":
    sys.exit(main())
