"""``skyport tui``: the full-screen terminal UI (needs the ``tui`` extra: Textual)."""

from __future__ import annotations

import importlib.util

from skyport.cli.output import CliError

INSTALL_HINT = "pip install 'skyport-core[tui]'"


def tui() -> None:
    """Open the terminal UI: live host metrics, containers, images, stacks, PM2, servers.

    Keys: digits or :name switch screens, / filters, ? lists the keys, q quits.
    It uses the server you logged in to (or SKYPORT_URL), else this machine's
    data in-process, as every other command does.
    """
    if importlib.util.find_spec("textual") is None:
        raise CliError(f"the terminal UI needs Textual, which is not installed: {INSTALL_HINT}")
    from skyport.client import connect
    from skyport.config import load_settings
    from skyport.tui.app import run

    run(lambda: connect(load_settings()))
