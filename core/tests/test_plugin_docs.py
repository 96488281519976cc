"""docs/plugins.md and the code cannot drift apart.

Every hook in :mod:`skyport.hookspecs` has a section whose heading is its
exact signature, no section documents a hook that does not exist, and the
example plugin shown in the guide is, character for character, the tested
package in tests/plugins/skyport-hello.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skyport import PROJECT_NAME, hookspecs

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "plugins.md"
EXAMPLE = REPO / "tests" / "plugins" / "skyport-hello"
HOOKS_SECTION = "## Plugin hooks"

FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
TITLE = re.compile(r'title="(?P<path>[^"]+)"')


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def hook_specs() -> list[Callable[..., Any]]:
    return [
        function
        for _, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, f"{PROJECT_NAME}_spec")
    ]


def signature(spec: Callable[..., Any]) -> str:
    """``register_routes(skyport)``: the hook's name and its argument names."""
    return f"{spec.__name__}({', '.join(inspect.signature(spec).parameters)})"


def documented_hooks() -> list[str]:
    """The level-3 headings of the "Plugin hooks" section, in order."""
    text = guide()
    assert HOOKS_SECTION in text.splitlines(), f"{GUIDE} has no {HOOKS_SECTION!r} section"
    section = text.split(f"\n{HOOKS_SECTION}\n", 1)[1]
    section = re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]
    return re.findall(r"^### (.+?)\s*$", section, flags=re.MULTILINE)


def code_blocks() -> list[tuple[str, str]]:
    """``(info string, body)`` of every fenced block in the guide."""
    return [(m["info"].strip(), m["body"]) for m in FENCE.finditer(guide())]


def included_files() -> dict[str, str]:
    """Blocks titled with a repository path: path -> body."""
    found = {}
    for info, body in code_blocks():
        if title := TITLE.search(info):
            found[title["path"]] = body
    return found


def test_the_hookspecs_are_found() -> None:
    names = {spec.__name__ for spec in hook_specs()}
    assert {"register_routes", "register_config", "startup", "shutdown"} <= names


@pytest.mark.parametrize("spec", hook_specs(), ids=lambda spec: spec.__name__)
def test_every_hook_has_a_section_headed_by_its_signature(spec: Callable[..., Any]) -> None:
    assert documented_hooks().count(signature(spec)) == 1, (
        f"docs/plugins.md needs one '### {signature(spec)}' section under {HOOKS_SECTION!r}"
    )


def test_no_section_documents_a_hook_that_does_not_exist() -> None:
    expected = {signature(spec) for spec in hook_specs()}
    assert [h for h in documented_hooks() if h not in expected] == []


def test_every_hook_section_has_an_example() -> None:
    sections = re.split(r"^### ", guide().split(f"\n{HOOKS_SECTION}\n", 1)[1], flags=re.MULTILINE)
    for section in sections[1:]:
        heading, body = section.split("\n", 1)
        body = re.split(r"^## ", body, maxsplit=1, flags=re.MULTILINE)[0]
        assert "@hookimpl" in body, f"the section on {heading} has no example"
        assert "Called:" in body, f"the section on {heading} does not say when it is called"


def test_the_example_plugin_is_shown_file_for_file() -> None:
    shown = set(included_files())
    package = {
        str(path.relative_to(REPO))
        for pattern in ("pyproject.toml", "src/**/*.py", "tests/**/*.py")
        for path in EXAMPLE.glob(pattern)
    }
    assert package, f"no example plugin at {EXAMPLE}"
    assert sorted(package - shown) == [], "files of the example plugin missing from the guide"


def test_every_included_file_equals_the_file_in_the_repository() -> None:
    included = included_files()
    assert included
    for path, body in included.items():
        source = REPO / path
        assert source.is_file(), f"docs/plugins.md shows {path}, which does not exist"
        assert body == source.read_text(encoding="utf-8"), (
            f"docs/plugins.md's copy of {path} differs from the file: paste the file again"
        )


def test_every_python_example_is_valid_python() -> None:
    for info, body in code_blocks():
        if info.split()[:1] == ["python"]:
            try:
                ast.parse(body)
            except SyntaxError as exc:
                pytest.fail(f"invalid Python in docs/plugins.md ({exc}):\n{body}")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def test_every_link_within_the_guide_points_at_a_heading() -> None:
    text = FENCE.sub("", guide())
    anchors = {slug(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links
    assert sorted(links - anchors) == []
