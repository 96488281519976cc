"""The plugin manager: finds plugins, isolates their failures, calls their hooks.

Plugins come from the built-in plugin (the core's own features), from the
``skyport`` entry-point group, and — in tests — from :meth:`register`.
Loading happens once, on first use. Each hook is called one plugin at a
time, so a plugin that fails to import or whose hook raises is recorded
(:attr:`PluginManager.records`) and left out while the rest keep working;
``strict`` turns such a failure into :class:`PluginError`.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal

import msgspec
import pluggy

from skyport import PROJECT_NAME, hookspecs

log = logging.getLogger(__name__)

BUILTIN_NAME = "core"
_ALWAYS_CALLED = frozenset({"register_config", "register_permissions", "register_commands"})
"""Hooks every active plugin answers, whatever the manager serves (see ``serving``)."""
BUILTIN_MODULE = "skyport.builtin"
RESERVED_NAMES = frozenset(
    {
        BUILTIN_NAME,
        "auth",
        "users",
        "roles",
        "tokens",
        "audit",
        "status",
        "health",
        "metrics",
        "plugins",
        "dashboard",
        "settings",
        "terminals",
        "permissions",
        "grants",
        "config",
        "login",
        "logout",
        "serve",
    }
)
_VALID_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")

PluginStatus = Literal["loaded", "failed", "disabled"]


class PluginError(Exception):
    """A plugin could not be loaded and the manager is strict (or names clash)."""


class PluginRecord(msgspec.Struct):
    """What the manager knows about one plugin, as shown by ``GET /api/plugins``."""

    name: str
    module: str
    status: PluginStatus
    version: str = ""
    distribution: str = ""
    builtin: bool = False
    error: str | None = None
    summary: str = ""


class PluginManager:
    """Loads SkyPort plugins and calls their hooks with per-plugin isolation."""

    def __init__(
        self,
        *,
        disabled: Iterable[str] = (),
        strict: bool = False,
        use_entry_points: bool = True,
        include_builtin: bool = True,
        serving: Iterable[str] | None = None,
    ) -> None:
        """``serving``: the plugins whose routes, services and lifecycle hooks run (default:
        all); the others still give their settings, scopes and commands. The CLI's in-process
        server serves only the plugin of the command it runs."""
        self.disabled = frozenset(disabled)
        self.serving = None if serving is None else frozenset(serving) | {BUILTIN_NAME}
        self.strict = strict
        self.use_entry_points = use_entry_points
        self.include_builtin = include_builtin
        self.records: dict[str, PluginRecord] = {}
        self._pm = pluggy.PluginManager(PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._loaded = False

    # -- loading -----------------------------------------------------------

    def load(self) -> PluginManager:
        """Register the built-in plugin and every entry-point plugin, once."""
        if self._loaded:
            return self
        self._loaded = True
        if self.include_builtin:
            self._load_module(BUILTIN_NAME, BUILTIN_MODULE, builtin=True)
        if self.use_entry_points:
            for ep in discover_entry_points():
                self._load_entry_point(ep)
        return self

    def register(self, plugin: object, name: str, *, summary: str = "") -> None:
        """Register an in-process plugin (a module or an object with hook methods)."""
        self.load()
        self._check_name(name)
        if name in self.disabled:
            self.records[name] = PluginRecord(name, _module_of(plugin), "disabled")
            return
        self._add(name, plugin, PluginRecord(name, _module_of(plugin), "loaded", summary=summary))

    def _load_entry_point(self, ep: EntryPoint) -> None:
        dist = ep.dist
        record = PluginRecord(
            name=ep.name,
            module=ep.value,
            status="loaded",
            version=dist.version if dist else "",
            distribution=dist.name if dist else "",
            summary=(dist.metadata["Summary"] or "") if dist else "",
        )
        self._check_name(ep.name)
        if ep.name in self.disabled:
            record.status = "disabled"
            self.records[ep.name] = record
            return
        try:
            plugin = ep.load()
        except Exception as exc:
            self._record_failure(record, f"import failed: {_describe(exc)}")
            return
        self._add(ep.name, plugin, record)

    def _load_module(self, name: str, module: str, *, builtin: bool) -> None:
        import importlib

        plugin = importlib.import_module(module)
        self._add(name, plugin, PluginRecord(name, module, "loaded", builtin=builtin))

    def _check_name(self, name: str) -> None:
        if name in RESERVED_NAMES:
            raise PluginError(f"plugin name {name!r} is reserved by the SkyPort core")
        if name in self.records:
            raise PluginError(
                f"two plugins are named {name!r} ({self.records[name].module}); "
                "uninstall or disable one of them"
            )
        if not _VALID_NAME.match(name):
            raise PluginError(
                f"plugin name {name!r} is invalid: use lower-case letters, digits, '-' and '_'"
            )

    def _add(self, name: str, plugin: object, record: PluginRecord) -> None:
        self.records[name] = record
        try:
            self._pm.register(plugin, name=name)
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            if self._pm.get_plugin(name) is not None:
                self._pm.unregister(name=name)
            self._record_failure(record, f"invalid hook: {exc}")

    # -- calling hooks -----------------------------------------------------

    @property
    def active(self) -> list[str]:
        """Names of the plugins that are loaded and have not failed."""
        return [n for n, r in self.records.items() if r.status == "loaded"]

    def call_each(
        self, hook: str, context_for: Callable[[str], Any] | None = None
    ) -> list[tuple[str, Any]]:
        """Call ``hook`` on each plugin separately; return ``(plugin, result)`` pairs.

        ``context_for(plugin_name)`` builds the ``skyport`` argument. A plugin
        whose implementation raises is marked failed and unregistered.
        """
        results = []
        for name, impl in self._impls(hook):
            try:
                result = impl.function(**self._arguments(impl, name, context_for))
                if inspect.isawaitable(result):
                    raise TypeError(f"{hook} must not be a coroutine function")
            except Exception as exc:
                self.fail(name, f"{hook} raised {_describe(exc)}", exc)
                continue
            if result is not None:
                results.append((name, result))
        return results

    async def call_each_async(
        self, hook: str, context_for: Callable[[str], Any] | None = None
    ) -> None:
        """Like :meth:`call_each` for lifecycle hooks that may be coroutines."""
        for name, impl in self._impls(hook):
            try:
                result = impl.function(**self._arguments(impl, name, context_for))
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self.fail(name, f"{hook} raised {_describe(exc)}", exc)

    def fail(self, name: str, reason: str, exc: BaseException | None = None) -> None:
        """Record that plugin ``name`` failed and leave it out from now on."""
        record = self.records[name]
        if self._pm.get_plugin(name) is not None:
            self._pm.unregister(name=name)
        self._record_failure(record, reason, exc)

    def _impls(self, hook: str) -> list[tuple[str, pluggy.HookImpl]]:
        self.load()
        caller = getattr(self._pm.hook, hook)
        impls = [(self._pm.get_name(i.plugin) or "?", i) for i in caller.get_hookimpls()]
        if self.serving is not None and hook not in _ALWAYS_CALLED:
            impls = [(name, impl) for name, impl in impls if name in self.serving]
        # pluggy calls last-registered first; we call in registration order.
        return list(reversed(impls))

    @staticmethod
    def _arguments(
        impl: pluggy.HookImpl, name: str, context_for: Callable[[str], Any] | None
    ) -> dict[str, Any]:
        if "skyport" in impl.argnames and context_for is not None:
            return {"skyport": context_for(name)}
        return {}

    def _record_failure(
        self, record: PluginRecord, reason: str, exc: BaseException | None = None
    ) -> None:
        record.status = "failed"
        record.error = reason
        log.error("plugin %r left out: %s", record.name, reason, exc_info=exc)
        if self.strict:
            raise PluginError(f"plugin {record.name!r}: {reason}") from exc


def discover_entry_points() -> Sequence[EntryPoint]:
    """Entry points of the ``skyport`` group, without importing any plugin."""
    return tuple(entry_points(group=PROJECT_NAME))


def _module_of(plugin: object) -> str:
    return getattr(plugin, "__name__", None) or type(plugin).__module__


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
