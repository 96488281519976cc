"""The CLI's in-process server for one command loads what that command needs, no more."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("alembic", "paramiko", "docker")


def loaded_after(*argv: str) -> tuple[int, list[str]]:
    """Exit code, and the plugin routes, SSH, Docker SDK and migration modules loaded by a
    ``skyport ARGV`` run in a new process (local mode: no server configured)."""
    script = (
        "import json, sys\n"
        "from skyport.cli import main\n"
        f"code = main({list(argv)!r})\n"
        "print(json.dumps([code, sorted(m for m in sys.modules\n"
        f"    if m.split('.')[0] in {HEAVY!r} or (m.startswith('skyport_') and '.api' in m))]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    code, modules = json.loads(done.stdout.splitlines()[-1])
    return code, modules


def test_a_core_command_serves_no_plugin_and_skips_migrations_when_up_to_date() -> None:
    assert loaded_after("users", "list")[0] == 0  # the first run creates the schema
    assert loaded_after("users", "list") == (0, [])


def test_a_plugin_command_serves_that_plugin_alone() -> None:
    assert loaded_after("docker", "ps")[0] == 0  # the first run creates the docker tables
    code, modules = loaded_after("docker", "ps")
    assert code == 0 and "skyport_docker.api" in modules
    assert not [m for m in modules if m.startswith(("skyport_vps", "alembic"))]


def test_metrics_serves_every_plugin_for_their_collectors() -> None:
    code, modules = loaded_after("metrics", "--json")
    assert code == 0
    assert {"skyport_docker.api", "skyport_vps.api"} <= {m.rsplit(".", 1)[0] for m in modules}
