"""``skyport config``: the effective settings and where they come from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from cyclopts import App, Parameter

from skyport.cli.output import CliError, JsonFlag, print_fields, print_json

app = App(name="config", help="Show the effective settings and the files behind them; write one.")

ConfigFlag = Annotated[
    Path | None,
    Parameter(help="Read this config file (default: SKYPORT_CONFIG, the usual places)."),
]


@app.command
def show(*, config: ConfigFlag = None, json: JsonFlag = False) -> None:
    """Print the effective settings (defaults < file < environment) as YAML, secrets hidden."""
    import yaml

    from skyport.config import load_settings, shown_settings

    tree = shown_settings(load_settings(str(config) if config else None))
    if json:
        print_json(tree)
    else:
        print(yaml.safe_dump(tree, sort_keys=False, default_flow_style=False), end="")


@app.command
def init(file: Path | None = None, /, *, force: bool = False) -> None:
    """Write a config file with every section (core and installed plugins) at its defaults,
    commented out, each key with what it means.

    Parameters
    ----------
    file
        Where (default: SKYPORT_CONFIG if set, else the usual config.yaml).
    force
        Replace the file if it exists.
    """
    from skyport.config import default_config_dir
    from skyport.config_file import commented_defaults
    from skyport.plugins import PluginManager

    target = file or Path(os.environ.get("SKYPORT_CONFIG") or default_config_dir() / "config.yaml")
    target = target.expanduser()
    if target.exists() and not force:
        raise CliError(f"{target} exists: --force replaces it")
    manager = PluginManager().load()
    sections = {n: t for n, t in manager.call_each("register_config") if isinstance(t, type)}
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(commented_defaults(sections))
    print(f"wrote {target}")


@app.command
def path(*, config: ConfigFlag = None, json: JsonFlag = False) -> None:
    """Print the config file(s) read, the places looked at, and the data dir."""
    from skyport.cli import credentials
    from skyport.config import config_files, default_config_dir, hide_url_password, load_settings

    explicit = str(config) if config else os.environ.get("SKYPORT_CONFIG")
    if explicit:
        searched = [str(Path(explicit).expanduser())]
    else:
        searched = [
            str(default_config_dir() / "config.yaml"),
            str(Path.home() / ".skyport" / "config.yaml"),
        ]
    read = [str(p) for p in config_files(explicit)]
    settings = load_settings(explicit)
    info = {
        "config_files": read,
        "searched": searched,
        "data_dir": str(settings.data_path),
        "database": hide_url_password(settings.database_url),
        "credentials": str(credentials.path()),
    }
    if json:
        print_json(info)
        return
    print_fields(
        [
            *[("config file", f"{p}" + ("" if p in read else "  (not present)")) for p in searched],
            ("data dir", info["data_dir"]),
            ("database", info["database"]),
            ("credentials", info["credentials"]),
        ]
    )
