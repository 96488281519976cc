"""A bounded schemathesis run over every operation of the OpenAPI schema, as admin and as
viewer, against a real server with every installed plugin on its real backend (the Docker
engine, a private PM2 daemon, SQLite): no answer is a 5xx and every answer conforms to
the schema (status code documented, content type, body).

The machine's Docker engine is shared, and nothing may leave it: operations that would
reach the internet or change what is not this run's are left out (:data:`LEFT_OUT`, each
with its reason), and the resources that changes name are pointed at test resources
(:func:`_aim`). Valid and invalid requests alike; bounded: :data:`EXAMPLES` cases per
operation and role, derandomized so a run is repeatable.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from skyport.app import create_app
from skyport.config import load_settings
from skyport.plugins import PluginManager
from skyport.testing import (
    ADMIN_PASSWORD,
    LiveServer,
    bearer,
    isolate_environment,
    login,
    require_backend,
)

EXAMPLES = 25
ABSENT = "skyport-fuzz-absent"
"""A name no container, image, volume, network, stack, engine, process, server, app or
source has: changes aimed at it are refused before they touch anything."""
TARGET_USER, TARGET_ROLE = "fuzz-target", "fuzz-role"

LEFT_OUT = {
    "POST /api/docker/images/pull": "pulls from the registry the reference names (the internet)",
    "POST /api/docker/stacks": "brings up the Compose file given, pulling its images",
    "POST /api/docker/engines": "connects to the address given",
    "POST /api/docker/networks": "creates bridge networks, which this machine may not have",
    "POST /api/docker/volumes": "leaves volumes of random names on the shared engine",
    "POST /api/docker/containers/prune": "removes every stopped container of the shared engine",
    "POST /api/docker/images/prune": "removes every unused image of the shared engine",
    "POST /api/docker/volumes/prune": "removes every unused volume of the shared engine",
    "POST /api/docker/networks/prune": "removes every unused network of the shared engine",
    "POST /api/pm2/start": "runs the program given",
    "GET /api/pm2/ecosystem": "runs the JavaScript file given",
    "POST /api/pm2/ecosystem": "runs the JavaScript file given",
    "POST /api/marketplace/sources": "downloads the catalog at the address given",
    "POST /api/deploy/apps": "runs the project given (or clones the git URL given)",
    "POST /api/deploy/detect": "clones the git URL given",
    "POST /api/vps/servers": "stores a server whose address later calls connect to",
    "POST /api/vps/run": "runs the command given over SSH on the servers given",
    "POST /api/vps/servers/scan": "connects to the address given",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class Fuzzed:
    url: str
    tokens: dict[str, str]
    """role -> an API token of a user with that role."""


def _pm2_home(folder: Path) -> Path | None:
    """A private PM2_HOME with its daemon running (None: pm2 is not installed)."""
    binary = os.environ.get("SKYPORT_TEST_PM2_BIN") or shutil.which("pm2")
    if not binary or not shutil.which("node"):
        return None
    (folder / "touch").touch()
    env = {**os.environ, "PM2_HOME": str(folder), "PM2_DISABLE_VERSION_CHECK": "1"}
    subprocess.run([binary, "ping"], env=env, cwd=folder, capture_output=True, timeout=60)
    return folder


def _stop_pm2(home: Path) -> None:
    with contextlib.suppress(OSError, ValueError):
        os.kill(int((home / "pm2.pid").read_text()), signal.SIGTERM)


def _docker_answers() -> bool:
    import docker

    try:
        docker.APIClient(base_url="unix:///var/run/docker.sock").ping()
    except Exception:
        return False
    return True


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """A real server with every installed plugin, a viewer, and a user and role to change."""
    require_backend(_docker_answers(), "no Docker engine at unix:///var/run/docker.sock")
    home = _pm2_home(tmp_path_factory.mktemp("pm2"))
    require_backend(home is not None, "pm2 is not installed (set SKYPORT_TEST_PM2_BIN)")
    assert home is not None
    try:
        with pytest.MonkeyPatch.context() as env:
            isolate_environment(tmp_path_factory.mktemp("fuzz"), env)
            pm2 = {"home": str(home), "bin": os.environ.get("SKYPORT_TEST_PM2_BIN", "")}
            configured = load_settings(overrides={"pm2": pm2, "metrics": {"history": False}})
            app = create_app(configured, plugins=PluginManager(strict=True))
            with LiveServer(app) as server, httpx.Client(base_url=server.url) as client:
                yield Fuzzed(server.url, _tokens(client))
    finally:
        _stop_pm2(home)


def _tokens(client: httpx.Client) -> dict[str, str]:
    admin = bearer(login(client, "admin", ADMIN_PASSWORD))
    for body, path in (
        ({"username": "vera", "password": "vera-password-1", "role": "viewer"}, "/api/users"),
        ({"username": TARGET_USER, "password": "target-password-1"}, "/api/users"),
        ({"name": TARGET_ROLE, "scopes": ["status:read"]}, "/api/roles"),
    ):
        assert client.post(path, json=body, headers=admin).status_code == 201
    viewer = bearer(login(client, "vera", "vera-password-1"))
    tokens = {}
    for role, headers, scopes in (("admin", admin, ["*"]), ("viewer", viewer, ["*"])):
        if role == "viewer":  # a token holds at most its owner's scopes
            scopes = client.get("/api/auth/me", headers=headers).json()["scopes"]
        made = client.post(
            "/api/auth/tokens", json={"name": "fuzz", "scopes": scopes}, headers=headers
        )
        assert made.status_code == 201, made.text
        tokens[role] = made.json()["token"]
    return tokens


@pytest.fixture(scope="module")
def api_schema(fuzzed: Fuzzed) -> Any:
    answer = httpx.get(
        f"{fuzzed.url}/schema/openapi.json", headers=bearer(fuzzed.tokens["admin"]), timeout=30
    )
    assert answer.status_code == 200, answer.text
    schema = schemathesis.openapi.from_dict(answer.json())
    return schema.exclude(
        func=lambda ctx: f"{ctx.operation.method.upper()} {ctx.operation.path}" in LEFT_OUT
    )


def _aim(case: Any) -> None:
    """Point changes at test resources: a plugin route's names at :data:`ABSENT`, the
    user and role a change names at the run's own; a run never pulls or names an image
    the engine has."""
    path, method = case.operation.path, case.method.upper()
    names = case.path_parameters or {}
    for key, value in list(names.items()):
        if not isinstance(value, str):
            continue
        if key == "username" and method != "GET":
            names[key] = TARGET_USER
        elif path.startswith("/api/roles/"):
            names[key] = TARGET_ROLE
        elif path.split("/")[2] not in ("auth", "users", "grants", "audit"):
            names[key] = ABSENT
    if path == "/api/docker/run" and isinstance(case.body, dict):
        case.body.update(image=f"{ABSENT}:none", pull="never")


def _check(case: Any, fuzzed: Fuzzed, role: str) -> None:
    _aim(case)
    case.call_and_validate(
        base_url=fuzzed.url, headers=bearer(fuzzed.tokens[role]), checks=CHECKS, timeout=60
    )


BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_every_operation_answers_as_documented(api_schema: Any, fuzzed: Fuzzed, role: str) -> None:
    failures: dict[str, str] = {}
    calls: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:
        try:
            _fuzzer(operation, fuzzed, role, calls)()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failures
            failures[operation.label] = _brief(exc)
    assert not failures, "\n\n".join(f"{op}: {why}" for op, why in failures.items())
    assert set(calls) == {o.label for o in operations} and len(calls) > 4 * len(operations)


def _fuzzer(operation: Any, fuzzed: Fuzzed, role: str, calls: list[str]) -> Any:
    @given(case=st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode)))
    @BOUNDED
    def fuzz(case: Any) -> None:
        calls.append(operation.label)
        _check(case, fuzzed, role)

    return fuzz


def _brief(exc: BaseException) -> str:
    return str(exc)[:1500]
