"""The plugin contract, from a plugin author's side (DESIGN.md section 2).

Throwaway plugins are defined right here and registered with a fresh
:class:`PluginManager`; the packaged example plugin ``skyport-hello``
(tests/plugins/skyport-hello, installed for the tests that ask for the
``example_plugin`` fixture, never into the workspace) is found through its real
entry point.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cyclopts
import msgspec
import pytest
from litestar import Litestar, delete, get, post
from litestar.params import JSONBody
from litestar.testing import TestClient

from skyport import hookimpl
from skyport.api import SkyportContext
from skyport.app import create_app
from skyport.config import Settings, load_settings
from skyport.plugins import PluginError, PluginManager
from skyport.testing import wait_for
from skyport.types import DashboardPanel, MetricsCollector, Permission

from .conftest import ADMIN_PASSWORD, bearer, login, write_revision

REPO = Path(__file__).resolve().parents[2]
HELLO_DIR = REPO / "tests" / "plugins" / "skyport-hello"


# -- a throwaway plugin that contributes one of everything ------------------------


class Thing(msgspec.Struct):
    name: str


class Reading(msgspec.Struct):
    answer: int
    ok: bool


class ThrowawaySettings(msgspec.Struct, forbid_unknown_fields=True):
    colour: str = "blue"


class Throwaway:
    """A plugin defined in the test; ``name`` prefixes everything it declares."""

    def __init__(self, name: str = "throwaway") -> None:
        self.name = name
        self.stopped = False

    @hookimpl
    def register_config(self) -> type:
        return ThrowawaySettings

    @hookimpl
    def register_permissions(self) -> list[Permission]:
        return [
            Permission(f"{self.name}:read", "See things"),
            Permission(f"{self.name}:write", "Change things", level="write"),
            Permission(f"{self.name}:admin", "Destroy things", level="admin"),
        ]

    @hookimpl
    def register_routes(self, skyport: Any) -> list[Any]:
        @get("/things")
        async def list_things() -> list[Thing]:
            return [Thing(f"a {skyport.settings.colour} thing")]

        @post("/things")
        async def add_thing(data: JSONBody[Thing]) -> Thing:
            return data

        @delete("/things", opt={"scope": f"{self.name}:admin"})
        async def destroy_things() -> None:
            return None

        return [list_things, add_thing, destroy_things]

    @hookimpl
    def register_commands(self) -> cyclopts.App:
        app = cyclopts.App(name=self.name)

        @app.command
        def shout(word: str) -> None:
            print(f"{word.upper()}!")

        return app

    @hookimpl
    def register_metrics_collectors(self, skyport: Any) -> list[MetricsCollector]:
        return [MetricsCollector(self.name, collect=lambda: Reading(answer=42, ok=True))]

    @hookimpl
    def register_dashboard_panels(self, skyport: Any) -> list[DashboardPanel]:
        return [
            DashboardPanel(
                id=f"{self.name}-things",
                title="Things",
                kind="table",
                source=f"/{self.name}/things",
            ),
            DashboardPanel(
                id=f"{self.name}-danger",
                title="Danger",
                kind="stat",
                source=self.name,
                scope=f"{self.name}:admin",
            ),
        ]

    @hookimpl
    async def shutdown(self, skyport: Any) -> None:
        self.stopped = True


@pytest.fixture
def plugin_manager() -> PluginManager:
    """Overrides conftest's: the built-in plugin plus the throwaway one."""
    manager = PluginManager(strict=False, use_entry_points=False)
    manager.register(Throwaway(), name="throwaway")
    return manager


@contextmanager
def running(app: Litestar) -> Iterator[TestClient[Litestar]]:
    """The app started, with a client logged in as admin."""
    with TestClient(app) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        yield client


def flattened(exc: BaseException) -> list[BaseException]:
    """``exc`` and, for an exception group, every exception inside it."""
    if isinstance(exc, BaseExceptionGroup):
        return [inner for e in exc.exceptions for inner in flattened(e)]
    return [exc]


# -- what a plugin contributes shows up everywhere -----------------------------------


def test_routes_are_mounted_under_the_plugin_name(admin: TestClient[Litestar]) -> None:
    response = admin.get("/api/throwaway/things")
    assert response.status_code == 200
    assert response.json() == [{"name": "a blue thing"}]


def test_plugin_settings_come_from_its_config_section(
    make_settings: Callable[..., Settings],
) -> None:
    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(Throwaway(), name="throwaway")
    app = create_app(make_settings(throwaway={"colour": "red"}), plugins=manager)
    with running(app) as admin:
        assert admin.get("/api/throwaway/things").json() == [{"name": "a red thing"}]


def test_routes_appear_in_the_openapi_schema(admin: TestClient[Litestar]) -> None:
    schema = admin.get("/schema/openapi.json").json()
    operations = schema["paths"]["/api/throwaway/things"]
    assert set(operations) >= {"get", "post", "delete"}
    assert operations["get"]["tags"] == ["throwaway"]


def test_routes_are_guarded_by_the_plugin_scopes(
    admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    viewer = bearer(make_user("vera", "viewer"))
    operator = bearer(make_user("otto", "operator"))
    thing = {"name": "x"}
    assert admin.get("/api/throwaway/things", headers=viewer).status_code == 200
    refused = admin.post("/api/throwaway/things", json=thing, headers=viewer)
    assert refused.status_code == 403
    assert refused.json()["extra"] == {"missing_scope": "throwaway:write"}
    assert admin.post("/api/throwaway/things", json=thing, headers=operator).status_code == 201
    refused = admin.delete("/api/throwaway/things", headers=operator)
    assert refused.status_code == 403
    assert refused.json()["extra"] == {"missing_scope": "throwaway:admin"}
    assert admin.delete("/api/throwaway/things").status_code == 204
    assert admin.post("/api/throwaway/things", json=thing).status_code == 201


def test_routes_refuse_anonymous_requests(client: TestClient[Litestar]) -> None:
    assert client.get("/api/throwaway/things").status_code == 401


def test_commands_come_from_register_commands(
    plugin_manager: PluginManager, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = dict(plugin_manager.call_each("register_commands"))
    app = commands["throwaway"]
    assert isinstance(app, cyclopts.App)
    app(["shout", "hey"], result_action="return_value")
    assert capsys.readouterr().out == "HEY!\n"


def test_collector_data_is_served_as_json_and_prometheus(admin: TestClient[Litestar]) -> None:
    def sampled() -> Any:
        return admin.get("/api/metrics").json()["collectors"].get("throwaway")

    assert wait_for(sampled, timeout=10) == {"answer": 42, "ok": True}
    text = admin.get("/metrics").text
    assert "skyport_throwaway_answer 42.0" in text
    assert "skyport_throwaway_ok 1.0" in text
    assert 'skyport_metrics_up{collector="throwaway"} 1.0' in text


def test_permissions_reach_the_builtin_roles_by_level(admin: TestClient[Litestar]) -> None:
    roles = {r["name"]: set(r["scopes"]) for r in admin.get("/api/roles").json()}
    assert "throwaway:read" in roles["viewer"]
    assert not {"throwaway:write", "throwaway:admin"} & roles["viewer"]
    assert {"throwaway:read", "throwaway:write"} <= roles["operator"]
    assert "throwaway:admin" not in roles["operator"]
    assert roles["admin"] == {"*"}


def test_panels_are_listed_with_their_plugin_for_those_allowed(
    admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    panels = {p["id"]: p for p in admin.get("/api/dashboard/panels").json()}
    assert panels["throwaway-things"]["plugin"] == "throwaway"
    assert panels["throwaway-things"]["source"] == "/throwaway/things"
    assert panels["throwaway-danger"]["plugin"] == "throwaway"
    viewer = bearer(make_user("vera", "viewer"))
    seen = {p["id"] for p in admin.get("/api/dashboard/panels", headers=viewer).json()}
    assert "throwaway-things" in seen
    assert "throwaway-danger" not in seen


def test_plugin_is_listed_as_loaded(admin: TestClient[Litestar]) -> None:
    records = {r["name"]: r for r in admin.get("/api/plugins").json()}
    assert records["throwaway"]["status"] == "loaded"
    assert records["throwaway"]["error"] is None
    assert records["core"]["builtin"] is True
    assert "throwaway" in admin.get("/api/status").json()["plugins"]["loaded"]


# -- one plugin's failure leaves the others working ---------------------------------

REGISTRATION_HOOKS = [
    "register_config",
    "register_permissions",
    "register_migrations",
    "register_routes",
    "register_metrics_collectors",
    "register_marketplace_sources",
    "register_deployers",
    "register_terminals",
    "register_dashboard_panels",
]
WITHOUT_CONTEXT = {
    "register_config",
    "register_permissions",
    "register_migrations",
    "register_commands",
}


def broken(hook: str, name: str = "broken") -> Throwaway:
    """A throwaway plugin whose ``hook`` raises ``RuntimeError``."""
    message = f"boom in {hook}"

    def plain(self: Throwaway) -> None:
        raise RuntimeError(message)

    def with_context(self: Throwaway, skyport: Any) -> None:
        raise RuntimeError(message)

    async def lifecycle(self: Throwaway, skyport: Any) -> None:
        raise RuntimeError(message)

    if hook in ("startup", "shutdown"):
        implementation: Callable[..., Any] = lifecycle
    else:
        implementation = plain if hook in WITHOUT_CONTEXT else with_context
    cls = type("Broken", (Throwaway,), {hook: hookimpl(implementation)})
    return cls(name)


def two_plugins(hook: str, *, strict: bool) -> PluginManager:
    manager = PluginManager(strict=strict, use_entry_points=False)
    manager.register(broken(hook), name="broken")
    manager.register(Throwaway("healthy"), name="healthy")
    return manager


@pytest.mark.parametrize("hook", [*REGISTRATION_HOOKS, "startup"])
def test_a_failing_hook_leaves_its_plugin_out_and_the_rest_working(
    hook: str, settings: Settings
) -> None:
    manager = two_plugins(hook, strict=False)
    app = create_app(settings, plugins=manager)
    with running(app) as admin:
        assert admin.get("/api/healthy/things").status_code == 200
        assert admin.get("/api/health").json() == {"status": "ok"}
        records = {r["name"]: r for r in admin.get("/api/plugins").json()}
        assert records["healthy"]["status"] == "loaded"
        assert records["broken"]["status"] == "failed"
        assert hook in records["broken"]["error"]
        assert f"RuntimeError: boom in {hook}" in records["broken"]["error"]
        status = admin.get("/api/status").json()["plugins"]
        assert "healthy" in status["loaded"]
        assert {"name": "broken", "error": records["broken"]["error"]} in status["failed"]
        if hook == "startup":
            return  # routes were mounted before startup ran: they answer 503 (test below)
        assert admin.get("/api/broken/things").status_code == 404
        registry = app.state.services.registry
        assert "broken:read" not in registry.permissions
        assert "healthy:read" in registry.permissions
        assert "broken" not in admin.get("/api/metrics").json()["collectors"]
        panels = {p["plugin"] for p in admin.get("/api/dashboard/panels").json()}
        assert "broken" not in panels and "healthy" in panels


@pytest.mark.parametrize("hook", [*REGISTRATION_HOOKS, "startup"])
def test_strict_mode_turns_a_failing_hook_into_an_error(hook: str, settings: Settings) -> None:
    manager = two_plugins(hook, strict=True)
    with pytest.raises(BaseException) as raised, running(create_app(settings, plugins=manager)):
        pass
    errors = [e for e in flattened(raised.value) if isinstance(e, PluginError)]
    assert errors, raised.value
    assert f"plugin 'broken': {hook} raised RuntimeError: boom in {hook}" in str(errors[0])


def test_a_plugin_whose_startup_failed_serves_no_routes(settings: Settings) -> None:
    app = create_app(settings, plugins=two_plugins("startup", strict=False))
    with running(app) as admin:
        refused = admin.get("/api/broken/things")
        assert refused.status_code == 503
        assert "plugin 'broken' is unavailable" in refused.json()["detail"]


def test_a_failing_migration_leaves_its_plugin_out(settings: Settings, tmp_path: Path) -> None:
    folder = write_revision(
        tmp_path / "broken", "broken_0001", None, 'raise RuntimeError("boom")', label="broken"
    )

    class BadMigration(Throwaway):
        @hookimpl
        def register_migrations(self) -> Path:
            return folder

    manager = PluginManager(strict=False, use_entry_points=False)
    manager.register(BadMigration("broken"), name="broken")
    manager.register(Throwaway("healthy"), name="healthy")
    with running(create_app(settings, plugins=manager)) as admin:
        assert admin.get("/api/healthy/things").status_code == 200
        assert manager.records["broken"].status == "failed"


def test_a_failing_shutdown_is_recorded_and_the_others_still_stop(settings: Settings) -> None:
    manager = PluginManager(strict=False, use_entry_points=False)
    manager.register(broken("shutdown"), name="broken")
    healthy = Throwaway("healthy")
    manager.register(healthy, name="healthy")
    with running(create_app(settings, plugins=manager)):
        pass
    assert healthy.stopped
    assert manager.records["broken"].status == "failed"
    assert "shutdown raised RuntimeError: boom in shutdown" in (
        manager.records["broken"].error or ""
    )


def test_a_failing_register_commands_leaves_the_other_commands() -> None:
    manager = PluginManager(strict=False, use_entry_points=False)
    manager.register(broken("register_commands"), name="broken")
    manager.register(Throwaway("healthy"), name="healthy")
    commands = dict(manager.call_each("register_commands"))
    assert set(commands) == {"healthy"}
    assert manager.records["broken"].status == "failed"
    assert "register_commands raised RuntimeError" in (manager.records["broken"].error or "")


def test_a_hook_returning_the_wrong_type_is_reported(settings: Settings) -> None:
    class Confused:
        @hookimpl
        def register_permissions(self) -> list[str]:
            return ["confused:read"]

    manager = PluginManager(strict=False, use_entry_points=False)
    manager.register(Confused(), name="confused")
    create_app(settings, plugins=manager)
    record = manager.records["confused"]
    assert record.status == "failed"
    assert record.error == "register_permissions returned 'confused:read', expected Permission"


# -- names and typos -----------------------------------------------------------------


class Misspelt:
    @hookimpl
    def register_rotues(self, skyport: Any) -> list[Any]:
        return []


def test_a_misspelt_hook_is_reported_as_invalid(settings: Settings) -> None:
    manager = PluginManager(strict=False, use_entry_points=False)
    manager.register(Misspelt(), name="typo")
    manager.register(Throwaway(), name="throwaway")
    with running(create_app(settings, plugins=manager)) as admin:
        records = {r["name"]: r for r in admin.get("/api/plugins").json()}
        assert records["typo"]["status"] == "failed"
        assert records["typo"]["error"].startswith("invalid hook:")
        assert "register_rotues" in records["typo"]["error"]
        assert records["throwaway"]["status"] == "loaded"


def test_a_misspelt_hook_is_an_error_in_strict_mode() -> None:
    manager = PluginManager(strict=True, use_entry_points=False)
    with pytest.raises(PluginError, match="register_rotues"):
        manager.register(Misspelt(), name="typo")


def test_two_plugins_with_one_name_are_an_error() -> None:
    manager = PluginManager(strict=False, use_entry_points=False)
    manager.register(Throwaway(), name="twin")
    with pytest.raises(PluginError, match="two plugins are named 'twin'"):
        manager.register(Throwaway(), name="twin")


@pytest.mark.usefixtures("example_plugin")
def test_an_in_process_plugin_cannot_take_an_installed_plugin_name() -> None:
    manager = PluginManager(strict=False, use_entry_points=True)
    with pytest.raises(
        PluginError, match=r"two plugins are named 'hello' \(skyport_hello\.plugin\)"
    ):
        manager.register(Throwaway(), name="hello")


@pytest.mark.parametrize(
    "name", ["auth", "users", "metrics", "plugins", "settings", "terminals", "permissions"]
)
def test_a_reserved_name_is_refused(name: str) -> None:
    manager = PluginManager(strict=False, use_entry_points=False)
    with pytest.raises(PluginError, match=f"plugin name '{name}' is reserved"):
        manager.register(Throwaway(name), name=name)


def test_a_name_that_is_no_url_segment_is_refused() -> None:
    manager = PluginManager(strict=False, use_entry_points=False)
    with pytest.raises(PluginError, match="is invalid"):
        manager.register(Throwaway(), name="Hello World")


# -- disabling -------------------------------------------------------------------------


def test_a_disabled_plugin_stays_out_and_is_listed(settings: Settings) -> None:
    manager = PluginManager(disabled=["throwaway"], strict=True, use_entry_points=False)
    manager.register(Throwaway(), name="throwaway")
    with running(create_app(settings, plugins=manager)) as admin:
        assert admin.get("/api/throwaway/things").status_code == 404
        records = {r["name"]: r for r in admin.get("/api/plugins").json()}
        assert records["throwaway"]["status"] == "disabled"
        assert admin.get("/api/status").json()["plugins"]["disabled"] == ["throwaway"]
        assert "throwaway:read" not in app_permissions(admin)
        assert "throwaway" not in admin.get("/api/metrics").json()["collectors"]


def app_permissions(client: TestClient[Litestar]) -> set[str]:
    return set(client.app.state.services.registry.permissions)


@pytest.mark.usefixtures("example_plugin")
def test_skyport_disable_plugins_turns_off_an_installed_plugin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SKYPORT_DISABLE_PLUGINS", "hello, other")
    settings = load_settings()
    assert settings.plugins.disabled == ["hello", "other"]
    app = create_app(settings)  # the manager create_app builds itself, with entry points
    with running(app) as admin:
        assert admin.get("/api/hello/greeting").status_code == 404
        records = {r["name"]: r for r in admin.get("/api/plugins").json()}
        assert records["hello"]["status"] == "disabled"
        assert records["hello"]["distribution"] == "skyport-hello"
        assert "hello" in admin.get("/api/status").json()["plugins"]["disabled"]


# -- the packaged example plugin, through its entry point --------------------------------


def test_the_example_plugin_is_not_installed_in_the_workspace() -> None:
    """A developer's ``skyport`` in the workspace shows no example plugin."""
    assert "hello" not in {ep.name for ep in importlib.metadata.entry_points(group="skyport")}


@pytest.mark.usefixtures("example_plugin")
def test_the_packaged_plugin_is_installed_from_this_repository() -> None:
    dist = importlib.metadata.distribution("skyport-hello")
    origin = json.loads(dist.read_text("direct_url.json") or "{}")
    assert Path(urlsplit(origin["url"]).path) == HELLO_DIR
    assert dist.requires == ["skyport-core<0.2,>=0.1"]
    (entry,) = [ep for ep in dist.entry_points if ep.group == "skyport"]
    assert (entry.name, entry.value) == ("hello", "skyport_hello.plugin")


@pytest.mark.usefixtures("example_plugin")
def test_the_packaged_plugin_is_discovered_through_its_entry_point() -> None:
    manager = PluginManager(strict=True, use_entry_points=True).load()
    record = manager.records["hello"]
    assert record.status == "loaded"
    assert record.module == "skyport_hello.plugin"
    assert record.distribution == "skyport-hello"
    assert record.version == "0.1.0"
    assert record.summary.startswith("Greet people")


@pytest.mark.usefixtures("example_plugin")
def test_the_packaged_plugin_serves_its_routes_with_its_settings(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(
        make_settings(hello={"greeting": "Howdy"}),
        plugins=PluginManager(strict=True, use_entry_points=True),
    )
    with running(app) as admin:
        greeting = admin.get("/api/hello/greeting", params={"name": "Ada"})
        assert greeting.status_code == 200
        assert greeting.json()["message"] == "Howdy, Ada!"
        assert admin.get("/api/hello/guests").json() == []
        signed = admin.post("/api/hello/guests", json={"name": "Grace"})
        assert signed.status_code == 201
        assert [g["name"] for g in admin.get("/api/hello/guests").json()] == ["Grace"]
        assert admin.post("/api/hello/guests", json={"name": ""}).status_code == 400


@pytest.mark.usefixtures("example_plugin")
def test_the_packaged_plugin_contributes_scopes_metrics_panel_and_topic(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(), plugins=PluginManager(strict=True, use_entry_points=True))
    with running(app) as admin:
        roles = {r["name"]: set(r["scopes"]) for r in admin.get("/api/roles").json()}
        assert "hello:read" in roles["viewer"] and "hello:write" not in roles["viewer"]
        assert "hello:write" in roles["operator"]
        panels = {p["id"]: p for p in admin.get("/api/dashboard/panels").json()}
        assert panels["hello-guests"]["plugin"] == "hello"
        with admin.websocket_connect("/ws", headers=dict(admin.headers)) as socket:
            socket.send_json({"type": "subscribe", "topics": ["hello.guests"]})
            assert socket.receive_json()["type"] == "subscribed"
            admin.post("/api/hello/guests", json={"name": "Grace"})
            message = socket.receive_json()
        assert message["topic"] == "hello.guests"
        assert message["data"]["message"] == "Hello, Grace!"

        def signatures() -> Any:
            data = admin.get("/api/metrics").json()["collectors"].get("hello")
            return data if data and data["signatures"] else None

        assert wait_for(signatures, timeout=10) == {"signatures": 1, "guests": 1}
        assert "skyport_hello_signatures 1.0" in admin.get("/metrics").text


@pytest.mark.usefixtures("example_plugin")
def test_the_packaged_plugin_command_calls_the_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manager = PluginManager(strict=True, use_entry_points=True)
    commands = dict(manager.call_each("register_commands"))
    assert commands["hello"] == "skyport_hello.cli:app"
    module, _, attr = commands["hello"].partition(":")
    app = getattr(importlib.import_module(module), attr)
    monkeypatch.setenv("SKYPORT_HELLO__GREETING", "Bonjour")
    app(["greet", "--name", "Ada"], result_action="return_value")  # local mode: in-process
    assert capsys.readouterr().out.splitlines()[-1] == "Bonjour, Ada!"


@pytest.mark.usefixtures("example_plugin")
def test_the_packaged_plugin_command_runs_as_skyport_hello() -> None:
    # A new process: the command line lists the installed plugins when it starts.
    result = subprocess.run(
        [sys.executable, "-m", "skyport.cli", "hello", "sign", "Grace"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == "Hello, Grace!"


# -- the package itself ---------------------------------------------------------------------


def test_importing_skyport_loads_no_plugin_and_no_server() -> None:
    script = (
        "import sys, skyport, skyport.hookspecs\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('litestar', 'skyport_hello') or m in ('skyport.builtin', 'skyport.plugins')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_installed_skyport_is_this_repository() -> None:
    """Not the unrelated project called "skyport" on PyPI."""
    import skyport

    dist = importlib.metadata.distribution("skyport-core")
    origin = json.loads(dist.read_text("direct_url.json") or "{}")
    assert Path(urlsplit(origin["url"]).path) == REPO / "core"
    assert origin["dir_info"]["editable"] is True
    assert Path(skyport.__file__).resolve().is_relative_to(REPO / "core" / "src")
    assert importlib.util.find_spec("skyport.hookspecs") is not None
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts == {"skyport": "skyport.cli:main"}


def test_a_plugin_can_ship_migrations(settings: Settings, tmp_path: Path) -> None:
    """``register_migrations`` runs before ``startup``, which can use the table."""
    seen: list[Any] = []
    folder = write_revision(
        tmp_path / "notes",
        "notes_0001",
        None,
        """
op.create_table("notes_items", sa.Column("text", sa.Text))
op.execute("INSERT INTO notes_items VALUES ('first')")
""",
    )

    class Notes:
        @hookimpl
        def register_migrations(self) -> Path:
            return folder

        @hookimpl
        async def startup(self, skyport: Any) -> None:
            async with skyport.database.connect() as conn:
                seen.extend((await conn.exec_driver_sql("SELECT text FROM notes_items")).all())

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(Notes(), name="notes")
    with running(create_app(settings, plugins=manager)):
        pass
    assert [tuple(row) for row in seen] == [("first",)]


def test_a_route_can_take_the_plugin_context_as_a_parameter(settings: Settings) -> None:
    class Named:
        @hookimpl
        def register_routes(self) -> list[Any]:
            @get("/name", opt={"scope": "auth:self"})
            async def name(skyport: SkyportContext) -> str:
                return skyport.name

            return [name]

    manager = PluginManager(strict=True, use_entry_points=False)
    manager.register(Named(), name="named")
    with running(create_app(settings, plugins=manager)) as admin:
        assert admin.get("/api/named/name").text == "named"


class FailsLate(Throwaway):
    """Contributes a collector, a terminal and a topic, then fails to start or migrate."""

    def __init__(self, name: str, failing: str, folder: Path) -> None:
        super().__init__(name)
        self.failing, self.folder = failing, folder

    @hookimpl
    def register_migrations(self) -> Path | None:
        return self.folder if self.failing == "migration" else None

    @hookimpl
    def register_terminals(self, skyport: Any) -> list[Any]:
        class Shell:
            name, scope, description = "lateshell", "late:read", "never opens"

            async def open(self, target: str, size: Any, user: Any) -> Any:
                raise AssertionError("a failed plugin's terminal was opened")

        return [Shell()]

    @hookimpl
    async def startup(self, skyport: Any) -> None:
        skyport.add_topic("late.events", scope="late:read")
        raise RuntimeError("cannot start")


@pytest.mark.parametrize("failing", ["startup", "migration"])
def test_a_plugin_that_fails_to_start_or_migrate_contributes_nothing(
    failing: str, settings: Settings, tmp_path: Path
) -> None:
    folder = write_revision(
        tmp_path / "late", "late_0001", None, 'raise RuntimeError("boom")', label="late"
    )
    manager = PluginManager(strict=False, use_entry_points=False)
    manager.register(FailsLate("late", failing, folder), name="late")
    manager.register(Throwaway("healthy"), name="healthy")
    with running(create_app(settings, plugins=manager)) as admin:
        assert manager.records["late"].status == "failed"
        collectors = admin.get("/api/metrics").json()["collectors"]
        assert "late" not in collectors and "healthy" in collectors
        prometheus = admin.get("/metrics").text
        assert "late" not in prometheus and "healthy" in prometheus
        assert "lateshell" not in {t["name"] for t in admin.get("/api/terminals").json()}
        assert "late" not in {p["plugin"] for p in admin.get("/api/dashboard/panels").json()}
        with admin.websocket_connect("/ws") as ws:
            ws.send_json({"type": "subscribe", "topics": ["late.events"]})
            assert "unknown topic" in ws.receive_json(timeout=5)["message"]
