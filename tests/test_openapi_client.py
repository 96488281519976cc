"""The OpenAPI document works with a real client generator: ``openapi-python-client``
generates a client from a running server's ``/schema/openapi.json`` (every installed
plugin mounted) without a single warning, and that client calls the server."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from skyport.app import create_app
from skyport.config import load_settings
from skyport.plugins import PluginManager
from skyport.testing import ADMIN_PASSWORD, LiveServer, bearer, isolate_environment, login

PACKAGE = "skyport_generated_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
NO_META = ("--meta", "none")
"""A bare package (no pyproject.toml of its own), imported from its folder."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Every installed plugin; PM2 pointed at an empty home and never started."""
    with pytest.MonkeyPatch.context() as env:
        isolate_environment(tmp_path_factory.mktemp("openapi"), env)
        pm2 = {"home": str(tmp_path_factory.mktemp("pm2")), "start_daemon": False}
        settings = load_settings(overrides={"pm2": pm2, "metrics": {"history": False}})
        with LiveServer(create_app(settings, plugins=PluginManager(strict=True))) as live:
            yield live


@pytest.fixture(scope="module")
def generation(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The generator's output and the folder holding the generated package."""
    with httpx.Client(base_url=server.url) as http:
        schema = http.get(
            "/schema/openapi.json", headers=bearer(login(http, "admin", ADMIN_PASSWORD))
        )
    assert schema.status_code == 200, schema.text
    folder = tmp_path_factory.mktemp("generated")
    (folder / "openapi.json").write_bytes(schema.content)
    # the generator formats its output with ruff, found on the PATH beside this Python
    path = f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    generated = subprocess.run(
        [str(GENERATOR), "generate", "--path", "openapi.json", "--output-path", PACKAGE, *NO_META],
        cwd=folder,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return generated.stdout + generated.stderr, folder


@pytest.fixture(scope="module")
def client_package(generation: tuple[str, Path]) -> Iterator[ModuleType]:
    sys.path.insert(0, str(generation[1]))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(generation[1]))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_the_generator_has_no_warning(generation: tuple[str, Path]) -> None:
    output, folder = generation

    assert "warning" not in output.lower(), output
    assert (folder / PACKAGE / "client.py").is_file()


def test_every_model_has_one_stable_name(generation: tuple[str, Path]) -> None:
    schemas = json.loads((generation[1] / "openapi.json").read_text())["components"]["schemas"]

    # Litestar prefixes a model's module path only when two models share a class name.
    assert [n for n, s in schemas.items() if s.get("title", n) != n] == []


def test_every_error_answer_is_the_error_component(generation: tuple[str, Path]) -> None:
    paths = json.loads((generation[1] / "openapi.json").read_text())["paths"]

    other = [
        f"{method.upper()} {path} {code}"
        for path, item in paths.items()
        for method, operation in item.items()
        for code, answer in operation.get("responses", {}).items()
        if code[0] in "45"
        and answer["content"]["application/json"]["schema"]
        != {"$ref": "#/components/schemas/Error"}
    ]
    assert other == []


def part(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_the_generated_client_logs_in_and_reads_status_and_metrics(
    server: LiveServer, client_package: ModuleType
) -> None:
    models = part(client_package, "models")
    anonymous = client_package.Client(base_url=server.url)
    login_call = part(client_package, "api.auth.api_auth_login_login")

    answer = login_call.sync(
        client=anonymous, body=models.LoginRequest(username="admin", password=ADMIN_PASSWORD)
    )

    assert isinstance(answer, models.LoginResponse) and answer.token
    client = client_package.AuthenticatedClient(base_url=server.url, token=answer.token)
    status = part(client_package, "api.status.api_status_status").sync(client=client)
    assert isinstance(status, models.Status) and status.version and "docker" in str(status.plugins)
    metrics = part(client_package, "api.metrics.api_metrics_metrics").sync(
        client=client, details=["host"]
    )
    host = metrics.to_dict()["collectors"]["host"]
    assert host["memory"]["total"] > 0 and host["top_memory"]


def test_the_generated_client_creates_a_user_and_reads_errors(
    server: LiveServer, client_package: ModuleType
) -> None:
    models = part(client_package, "models")
    with httpx.Client(base_url=server.url) as http:
        token = login(http, "admin", ADMIN_PASSWORD)
    client = client_package.AuthenticatedClient(base_url=server.url, token=token)
    create = part(client_package, "api.users.api_users_create_user")

    made = create.sync(
        client=client,
        body=models.NewUser(username="gen-client", password="gen-client-password", role="viewer"),
    )
    again = create.sync(
        client=client,
        body=models.NewUser(username="gen-client", password="gen-client-password", role="viewer"),
    )

    assert isinstance(made, models.User) and made.username == "gen-client"
    assert (
        isinstance(again, models.Error)
        and again.status_code == 409
        and "gen-client" in again.detail
    )
