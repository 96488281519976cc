"""``skyport config``: the effective settings and where they come from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from cyclopts import App, Parameter

from skyport.cli.output import JsonFlag, print_fields, print_json

app = App(name="config", help="Show the effective settings and the files behind them.")

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
