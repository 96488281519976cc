"""The hook reference: every hook spec in ``skyport.hookspecs``, under its source banner."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from refgen.markdown import code, prose
from skyport import PROJECT_NAME, hookspecs

_BANNER = re.compile(r"^# -+\n# (?P<title>.+)\n# -+$", re.MULTILINE)


def specs() -> list[Callable[..., Any]]:
    """The hook specs, in the order the module declares them."""
    found = [
        function
        for _, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, f"{PROJECT_NAME}_spec")
    ]
    return sorted(found, key=lambda spec: inspect.getsourcelines(spec)[1])


def call(spec: Callable[..., Any]) -> str:
    """``register_routes(skyport)``: the heading the plugin guide uses too."""
    return f"{spec.__name__}({', '.join(inspect.signature(spec).parameters)})"


def definition(spec: Callable[..., Any]) -> str:
    """``async def startup(skyport: PluginContext) -> None``, annotations as written."""
    signature = inspect.signature(spec)
    parameters = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    prefix = "async def" if inspect.iscoroutinefunction(spec) else "def"
    return f"{prefix} {spec.__name__}({parameters}) -> {signature.return_annotation}"


def page() -> str:
    source = inspect.getsource(hookspecs)
    banners = [(source.count("\n", 0, m.start()) + 1, m["title"]) for m in _BANNER.finditer(source)]
    lines = [
        "# Hooks",
        "",
        "Every hook a plugin can implement, generated from `skyport/hookspecs.py`. The "
        "[plugin author guide](../plugins.md#plugin-hooks) shows each one in use.",
        "",
        prose(inspect.getdoc(hookspecs) or ""),
    ]
    current = None
    for spec in specs():
        line = inspect.getsourcelines(spec)[1]
        banner = next((title for start, title in reversed(banners) if start < line), None)
        if banner and banner != current:
            lines += [f"## {banner}", ""]
            current = banner
        lines += [
            f"### {code(call(spec))} {{#{spec.__name__}}}",
            "",
            "```python",
            definition(spec),
            "```",
            "",
            prose(inspect.getdoc(spec) or ""),
        ]
    return "\n".join(lines)
