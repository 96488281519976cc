"""``skyport tui``: the full-screen terminal UI (needs the ``tui`` extra: Textual)."""

from __future__ import annotations

from skyport.cli.output import CliError

INSTALL_HINT = "pip install 'skyport-core[tui]'"


def tui() -> None:
    """Open the terminal UI: live host metrics, containers, images, stacks, PM2, servers.

    Keys: digits or :name switch screens, / filters, ? lists the keys, q quits.
    It uses the server you logged in to (or SKYPORT_URL), else this machine's
    data in-process, as every other command does.
    """
    try:
        from skyport.tui.app import run
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "textual":
            raise
        raise CliError(
            f"the terminal UI needs Textual, which is not installed: {INSTALL_HINT}"
        ) from None
    from skyport.client import connect
    from skyport.config import load_settings

    run(lambda: connect(load_settings()))
