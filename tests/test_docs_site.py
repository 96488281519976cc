"""The documentation site builds strictly and covers the code.

``mkdocs build --strict`` (no broken link or anchor, no page left out), then: every
command, HTTP route, WebSocket topic, scope, setting and hook of the installed core and
plugins is on its reference page; every message the guides quote as the program's own
exists in the code; the screenshots are ones the browser tests take; the plugin guide
says what the example plugin does; search works in a browser that reaches nothing
else. Synchronous on purpose (see the module's README note in docs/index.md): these run
after the browser tests.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from cyclopts import App
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from playwright.sync_api import Route, expect

from skyport import PROJECT_NAME, hookspecs
from skyport.app import create_app
from skyport.cli import app as cli_root
from skyport.cli.plugin_commands import installed
from skyport.config import Settings, load_settings
from skyport.plugins import PluginManager
from skyport.testing import NOT_LOOPBACK, headless_chromium, serve_folder

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MESSAGE = re.compile(
    r"``\s?(?P<double>(?:[^`]|`(?!`))+?)\s?``\{\.message\}|`(?P<single>[^`]+)`\{\.message\}"
)
PLACEHOLDER = re.compile(r"<[^<>]+>")
CLI_PREFIX = "skyport: error: "


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return target


@pytest.fixture(scope="module")
def running_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Litestar]:
    """The application with every installed plugin, started (topics are declared in startup)."""
    folder = tmp_path_factory.mktemp("docs-app")
    config = folder / "config.yaml"
    config.write_text("metrics: {history: false}\n")
    settings = load_settings(str(config), overrides={"data_dir": str(folder / "data")}, environ={})
    app = create_app(settings, plugins=PluginManager(strict=True))
    with TestClient(app):
        yield app


def test_search_works_offline_in_a_browser(site: Path) -> None:
    """The built site, served from 127.0.0.1 to a browser that may reach nothing else,
    finds a page with its own search and asks nothing of any other address."""
    elsewhere: list[str] = []

    def refuse(route: Route) -> None:
        elsewhere.append(route.request.url)
        route.abort("blockedbyclient")

    with serve_folder(site) as url, headless_chromium() as browser:
        context = browser.new_context(base_url=url)
        context.route(NOT_LOOPBACK, refuse)
        page = context.new_page()
        page.goto("/")
        search = page.get_by_role("textbox", name="Search")
        search.click()
        # The index loads in a web worker: typing before it is ready may find nothing.
        ready = page.locator(".md-search-result__meta")
        expect(ready).to_have_text("Type to start searching", timeout=60_000)
        search.press_sequentially("ecosystem")  # as a person types: key by key
        found = page.locator(".md-search-result__item")
        expect(found.first).to_be_visible(timeout=20_000)
        expect(found.first).to_contain_text("ecosystem", ignore_case=True)
        context.close()
    assert elsewhere == []


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


# -- the reference ---------------------------------------------------------------------


def commands(
    path: tuple[str, ...], stack: list[App]
) -> Iterator[tuple[tuple[str, ...], list[App]]]:
    app = stack[-1]
    yield path, stack
    for name in app:
        if name not in {*app.help_flags, *app.version_flags} and app[name].show:
            yield from commands((*path, name), [*stack, app[name]])


def test_every_command_and_option_is_on_its_page(site: Path) -> None:
    plugins = {name for name, _ in installed()}
    missing = []
    for path, stack in commands(("skyport",), [cli_root]):
        plugin = path[1] if len(path) > 1 and path[1] in plugins else ""
        html = page(site, f"reference/cli/{plugin}")
        anchor = re.sub(r"[^a-z0-9]+", "-", " ".join(path).lower()).strip("-")
        if f'id="{anchor}"' not in html:
            missing.append(" ".join(path))
            continue
        section = html.split(f'id="{anchor}"', 1)[1].split("<h2", 1)[0]
        app = stack[-1]
        if app.default_command is not None:
            with app.app_stack(stack):
                arguments = app.assemble_argument_collection()
            options = [n for a in arguments if a.show for n in a.names if n.startswith("--")]
            missing += [f"{' '.join(path)} {o}" for o in options if o not in section]
    assert missing == []


def test_every_http_operation_is_in_the_api_reference(site: Path, running_app: Litestar) -> None:
    html = page(site, "reference/api")
    missing = []
    for route in running_app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in handler.http_methods - {"HEAD", "OPTIONS"}:
                if f"<code>{method} {path}</code>" not in html:
                    missing.append(f"{method} {path}")
    assert missing == []


def test_every_topic_is_in_the_topics_reference(site: Path, running_app: Litestar) -> None:
    html = page(site, "reference/topics")
    topics = [s.prefix for s in running_app.state.broker._specs]
    assert "metrics" in topics and "docker.events" in topics
    assert [t for t in topics if f"<code>{t}" not in html] == []


def test_every_scope_is_in_the_scopes_reference(site: Path, running_app: Litestar) -> None:
    html = page(site, "reference/scopes")
    scopes = running_app.state.services.registry.permissions
    assert [s for s in scopes if f"<code>{s}</code>" not in html] == []


def setting_keys(prefix: str, struct_type: type) -> Iterator[str]:
    """The keys of a settings type; a section (a Struct) is its keys, not a key itself."""
    for field in msgspec.structs.fields(struct_type):
        section = field.default_factory
        if isinstance(section, type) and issubclass(section, msgspec.Struct):
            yield from setting_keys(f"{prefix}{field.name}.", section)
        elif field.name not in ("plugins_config", "config_file"):
            yield f"{prefix}{field.name}"


def test_every_setting_is_in_the_settings_reference(site: Path, running_app: Litestar) -> None:
    html = page(site, "reference/settings")
    keys = list(setting_keys("", Settings))
    contexts = running_app.state.contexts
    for name, context in contexts.items():
        if context.settings is not None:
            keys += setting_keys(f"{name}.", type(context.settings))
    assert "docker.local_url" in keys and "server.port" in keys
    assert [k for k in keys if f"<code>{k}</code>" not in html] == []


def test_every_hook_is_in_the_hooks_reference(site: Path) -> None:
    html = page(site, "reference/hooks")
    specs = [
        name
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, f"{PROJECT_NAME}_spec")
    ]
    assert "register_routes" in specs
    assert [name for name in specs if f'id="{name}"' not in html] == []


# -- what the guides quote ---------------------------------------------------------------


def code_messages() -> list[tuple[re.Pattern[str], int]]:
    """Every string the core and the plugins build, as ``(pattern, length of its fixed
    text)``: an interpolated value, or a conditional part of a ``+``, stands for any text."""
    sources = [*ROOT.glob("core/src/**/*.py"), *ROOT.glob("plugins/*/src/**/*.py")]
    found = []
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if built := _pattern(node):
                found.append((re.compile("".join(built[0]), re.DOTALL), len(built[1])))
    return found


def _pattern(node: ast.AST) -> tuple[list[str], str] | None:
    """``(regex parts, fixed text)`` of a string expression, else ``None``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [re.escape(node.value)], node.value
    if isinstance(node, ast.JoinedStr):
        parts, fixed = [], ""
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(re.escape(str(value.value)))
                fixed += str(value.value)
            else:
                parts.append(".+")
        return parts, fixed
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _pattern(node.left), _pattern(node.right)
        if left is None and right is None:
            return None
        left, right = left or ([".*"], ""), right or ([".*"], "")
        return left[0] + right[0], left[1] + right[1]
    return None


def known(message: str, patterns: list[tuple[re.Pattern[str], int]]) -> bool:
    """Some string of the code reads ``message``, and its fixed text is at least half of
    the message (``<…>`` placeholders aside): a bare ``f"denied: {detail}"`` is no proof."""
    wording = len(PLACEHOLDER.sub("", message))
    return any(fixed * 2 >= wording and p.fullmatch(message) for p, fixed in patterns)


def quoted_messages() -> list[tuple[str, str]]:
    """``(page, message)`` for every ``message``{.message} in the docs' sources."""
    found = []
    for source in DOCS.rglob("*.md"):
        text = source.read_text(encoding="utf-8")
        for match in MESSAGE.finditer(text):
            text = match["double"] or match["single"]
            message = " ".join(text.split()).removeprefix(CLI_PREFIX)
            found.append((str(source.relative_to(ROOT)), message))
    return found


def test_quoted_messages_are_found() -> None:
    pages = {p for p, _ in quoted_messages()}
    assert {"docs/guides/troubleshooting.md", "docs/plugins.md"} <= pages


def test_every_quoted_message_is_one_the_code_can_print() -> None:
    patterns = code_messages()
    unknown = [
        f"{where}: {message}"
        for where, message in quoted_messages()
        if not known(message, patterns)
    ]
    assert unknown == [], "the docs quote messages the code never produces"


def test_a_message_the_code_never_prints_is_caught() -> None:
    patterns = code_messages()
    drifted = "permission denied: your account lacks the scope docker:write"
    assert not known(drifted, patterns)
    assert known("permission denied: missing scope docker:write", patterns)


# -- screenshots -----------------------------------------------------------------------


def screenshots_taken() -> set[str]:
    """The names the browser tests give their screenshots: ``screenshot(page, "name")``
    calls, and the keys of the ``PAGES`` table that one test screenshots in a loop."""
    taken = set()
    for test in ROOT.glob("tests/dashboard/test_*.py"):
        for node in ast.walk(ast.parse(test.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "screenshot":
                taken |= {a.value for a in node.args if isinstance(a, ast.Constant)}
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES":
                assert isinstance(node.value, ast.Dict)
                taken |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    return taken


def tui_screenshots_taken() -> set[str]:
    """The names the TUI tests give their screenshots: ``tui_screenshot(pilot, "name")``."""
    taken = set()
    for test in [ROOT / "core/tests/test_tui.py", *ROOT.glob("plugins/*/tests/test_tui.py")]:
        for node in ast.walk(ast.parse(test.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "tui_screenshot":
                taken |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    return taken


def test_the_screenshots_are_ones_the_browser_and_tui_tests_take() -> None:
    sys.path.insert(0, str(DOCS))
    try:
        import screenshots
    finally:
        sys.path.remove(str(DOCS))
    shipped = {p.stem for p in (DOCS / "images" / "dashboard").glob("*.png")}
    assert shipped == set(screenshots.SHOWN)
    assert "overview" in screenshots_taken()
    assert sorted(shipped - screenshots_taken()) == []
    tui = {p.stem for p in (DOCS / "images" / "tui").glob("*.svg")}
    assert tui == set(screenshots.TUI_SHOWN)
    assert sorted(tui - tui_screenshots_taken()) == []


# -- the plugin guide ----------------------------------------------------------------------


def hook_calling(module: Path, call: str) -> set[str]:
    """The hook implementations of ``module`` that call ``skyport.<call>(...)``."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return {
        function.name
        for function in tree.body
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        and any(
            isinstance(node, ast.Attribute) and node.attr == call for node in ast.walk(function)
        )
    }


def test_the_guide_declares_topics_where_the_example_plugin_does() -> None:
    guide = (DOCS / "plugins.md").read_text(encoding="utf-8")
    said = re.search(r"Declare topics in \[`(\w+)`\]", guide)
    assert said, "docs/plugins.md no longer says where topics are declared"
    example = ROOT / "tests/plugins/skyport-hello/src/skyport_hello/plugin.py"
    assert hook_calling(example, "add_topic") == {said[1]}
