"""Layered, typed settings: defaults < config file < ``SKYPORT_*`` env < flags.

The file is YAML. It is looked for at the platformdirs user config dir
(``~/.config/skyport/config.yaml`` on Linux) and at ``~/.skyport/config.yaml``
(read last, so it wins); ``SKYPORT_CONFIG`` or ``--config`` name one file
instead. Environment variables address any key as
``SKYPORT_<SECTION>__<KEY>`` (``SKYPORT_SERVER__PORT=9000``); a few common
ones have short names (``SKYPORT_DATA_DIR``, ``SKYPORT_DATABASE_URL``,
``SKYPORT_DISABLE_PLUGINS``). Each plugin's section is validated against the
type its ``register_config`` hook returns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec
import platformdirs
import yaml

APP_NAME = "skyport"
ENV_PREFIX = "SKYPORT_"


class ConfigError(Exception):
    """The settings are invalid; the message names the key, value and expectation."""


class ServerSettings(msgspec.Struct, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8080
    certfile: str | None = None
    keyfile: str | None = None
    forwarded_allow_ips: list[str] = msgspec.field(default_factory=list)
    """Reverse proxies (addresses or networks) whose ``X-Forwarded-For`` names the client;
    empty: the client is whoever connects."""
    access_log: bool = False
    """Log a line per request (uvicorn's access log). Off by default, as in most servers
    behind a proxy: it costs about a tenth of the throughput; the audit log records every
    change either way."""


class DatabaseSettings(msgspec.Struct, forbid_unknown_fields=True):
    url: str = ""
    """SQLAlchemy URL; empty means the SQLite file ``skyport.db`` in the data dir."""


class AuthSettings(msgspec.Struct, forbid_unknown_fields=True):
    session_hours: Annotated[float, msgspec.Meta(gt=0)] = 12.0
    issuer: str = "skyport"
    login_attempts_per_user: Annotated[int, msgspec.Meta(ge=1)] = 5
    login_attempts_per_client: Annotated[int, msgspec.Meta(ge=1)] = 20
    login_window_seconds: Annotated[int, msgspec.Meta(ge=1)] = 60
    revocation_check_seconds: Annotated[float, msgspec.Meta(ge=0.2, le=60)] = 2.0
    """How often open WebSockets and terminals re-read their session (revocations made on
    another server of a cluster reach them within this time)."""
    secure_cookie: bool | None = None
    """Mark the session cookie Secure; default: when serving TLS."""


class MetricsSettings(msgspec.Struct, forbid_unknown_fields=True):
    interval: Annotated[float, msgspec.Meta(ge=1, le=5)] = 2.0
    history: bool = True
    """Keep sampling for the history ring even when nobody is listening."""
    public_prometheus: bool = False
    """Serve ``GET /metrics`` without authentication (for a Prometheus scraper)."""
    top_processes: Annotated[int, msgspec.Meta(ge=0, le=50)] = 5


class TerminalSettings(msgspec.Struct, forbid_unknown_fields=True):
    host_shell: bool = False
    """Offer a shell on the SkyPort host itself (scope ``host:shell``)."""
    shell: str = ""
    """Program for the host shell; default: the user's login shell, else /bin/sh."""


class ClusterSettings(msgspec.Struct, forbid_unknown_fields=True):
    node_name: Annotated[str, msgspec.Meta(pattern=r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63})?$")] = ""
    """This server's name among the nodes sharing the database; default: the host name."""
    advertise_url: str = ""
    """How the other nodes reach this one (``?node=`` routing); default: the address it
    listens on (``0.0.0.0`` read as this host's name)."""
    heartbeat_seconds: Annotated[float, msgspec.Meta(ge=0.2, le=60)] = 5.0
    down_after_seconds: Annotated[float, msgspec.Meta(ge=1, le=3600)] = 15.0
    """A node whose last heartbeat is older than this is shown down (and left out)."""


class PluginSettings(msgspec.Struct, forbid_unknown_fields=True):
    disabled: list[str] = msgspec.field(default_factory=list)
    strict: bool = False
    """Turn a plugin that fails to load into a start-up error (for tests)."""


class ClientSettings(msgspec.Struct, forbid_unknown_fields=True):
    url: str = ""
    """Server the CLI talks to; empty means an in-process server (local mode)."""


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """The whole settings tree. Plugin sections live in :attr:`plugins_config`."""

    data_dir: str = ""
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    auth: AuthSettings = msgspec.field(default_factory=AuthSettings)
    metrics: MetricsSettings = msgspec.field(default_factory=MetricsSettings)
    terminal: TerminalSettings = msgspec.field(default_factory=TerminalSettings)
    cluster: ClusterSettings = msgspec.field(default_factory=ClusterSettings)
    plugins: PluginSettings = msgspec.field(default_factory=PluginSettings)
    client: ClientSettings = msgspec.field(default_factory=ClientSettings)
    plugins_config: dict[str, Any] = msgspec.field(default_factory=dict)
    """Raw plugin sections by plugin name, before :func:`plugin_settings`."""
    config_file: str | None = None
    """The file the settings were read from, if any (for ``skyport config path``)."""

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_data_dir()

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{self.data_path / 'skyport.db'}"


CORE_SECTIONS = frozenset(f for f in Settings.__struct_fields__ if f not in ("plugins_config",))
_SHORT_ENV = {
    "SKYPORT_DATA_DIR": ("data_dir",),
    "SKYPORT_DATABASE_URL": ("database", "url"),
    "SKYPORT_URL": ("client", "url"),
    "SKYPORT_NODE_NAME": ("cluster", "node_name"),
}


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def config_files(
    explicit: str | None = None, environ: Mapping[str, str] | None = None
) -> list[Path]:
    """The config files to read, lowest precedence first."""
    chosen = explicit or (os.environ if environ is None else environ).get("SKYPORT_CONFIG")
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"config file {path} does not exist: `skyport config init {path}` writes one "
                "with every setting at its default"
            )
        return [path]
    candidates = [default_config_dir() / "config.yaml", Path.home() / ".skyport" / "config.yaml"]
    return [p for p in candidates if p.is_file()]


def load_settings(
    config: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read defaults, the config file(s), the environment and ``overrides`` (flags)."""
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    files = config_files(config, environ)
    for path in files:
        _deep_merge(merged, _read_yaml(path))
    _deep_merge(merged, _from_environ(environ))
    _deep_merge(merged, dict(overrides or {}))
    source = str(files[-1]) if files else "settings"
    plugin_sections = {k: merged.pop(k) for k in list(merged) if k not in CORE_SECTIONS}
    for name, section in plugin_sections.items():
        if not isinstance(section, dict):
            raise ConfigError(
                f"{source}: {name} = {section!r}: expected a mapping of settings "
                "(or an unknown top-level key)"
            )
    settings = _convert(merged, Settings, source)
    settings.plugins_config = plugin_sections
    settings.config_file = source if files else None
    if disabled := environ.get("SKYPORT_DISABLE_PLUGINS"):
        settings.plugins.disabled = [*settings.plugins.disabled, *_split_names(disabled)]
    return settings


def plugin_settings(settings: Settings, plugin: str, settings_type: type) -> Any:
    """Validate one plugin's section against its ``register_config`` type."""
    raw = settings.plugins_config.get(plugin, {})
    return _convert(raw, settings_type, settings.config_file or "settings", prefix=plugin)


def _convert(data: Any, target: type, source: str, prefix: str = "") -> Any:
    try:
        return msgspec.convert(data, target, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(_explain(exc, data, source, prefix)) from None


def _explain(exc: msgspec.ValidationError, data: Any, source: str, prefix: str) -> str:
    """Turn msgspec's ``Expected int, got str - at `$.server.port``` into a sentence."""
    message = str(exc)
    problem, _, where = message.partition(" - at `")
    path = [p for p in where.rstrip("`").removeprefix("$").split(".") if p]
    key = ".".join([prefix, *path] if prefix else path)
    value = _lookup(data, path)
    if problem.startswith("Object contains unknown field"):
        unknown = problem.split("`")[1]
        known = _known_fields(data, path)
        return f"{source}: unknown key {'.'.join(filter(None, [key, unknown]))!r}{known}"
    shown = "" if value is _MISSING else f" = {value!r}"
    return f"{source}: {key or '(top level)'}{shown}: {problem[0].lower()}{problem[1:]}"


_MISSING = object()


def _lookup(data: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.strip("[]").isdigit():
            data = data[int(part.strip("[]"))]
        else:
            return _MISSING
    return data


def _known_fields(data: Any, path: list[str]) -> str:
    struct: Any = Settings
    for part in path:
        struct = getattr(struct, "__annotations__", {}).get(part)
        struct = globals().get(struct) if isinstance(struct, str) else struct
    fields = getattr(struct, "__struct_fields__", None)
    return f" (known keys: {', '.join(fields)})" if fields else ""


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(loaded).__name__}")
    return loaded


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, raw in environ.items():
        if name in _SHORT_ENV:
            path: tuple[str, ...] = _SHORT_ENV[name]
        elif name.startswith(ENV_PREFIX) and "__" in name:
            path = tuple(p.lower() for p in name[len(ENV_PREFIX) :].split("__"))
        else:
            continue
        _deep_merge(result, _nest(path, _parse_env_value(raw)))
    return result


def _parse_env_value(raw: str) -> Any:
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    return value if isinstance(value, (str, int, float, bool, list)) else raw


def _nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    for part in reversed(path):
        value = {part: value}
    return value


def _deep_merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


def _split_names(raw: str) -> list[str]:
    return [n.strip() for n in raw.split(",") if n.strip()]


REDACTED = "********"
_SECRET_KEY = re.compile(r"password|secret|token|passphrase|private_key|api_key", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+(?P<tail>@)", re.I)


def shown_settings(settings: Settings) -> dict[str, Any]:
    """The effective settings for people to read: plugin sections beside the core's,
    secrets hidden (``skyport config show``, ``GET /api/settings``)."""
    tree: dict[str, Any] = msgspec.to_builtins(settings)
    tree.pop("config_file", None)
    tree.update(tree.pop("plugins_config", {}))
    return dict(redact(tree))


def redact(value: Any, key: str = "") -> Any:
    """Hide values whose key names a secret, and passwords inside URLs."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if key and _SECRET_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return hide_url_password(value)
    return value


def hide_url_password(text: str) -> str:
    return _URL_PASSWORD.sub(rf"\g<head>{REDACTED}\g<tail>", text)
