"""``skyport terminal``: open any plugin's interactive terminal, or list them."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from skyport.cli.common import api
from skyport.cli.output import CliError, JsonFlag, print_json, print_table


def terminal(
    where: str = "",
    /,
    *command: str,
    list_: Annotated[bool, Parameter(name=["--list", "-l"])] = False,
    json: JsonFlag = False,
) -> int:
    """Open an interactive terminal: the host's shell, a container, a server …

    ``skyport terminal host`` opens a shell on the SkyPort host (when the
    server allows it); ``skyport terminal docker:web`` one in container web;
    ``skyport terminal host -- uptime`` runs a command instead of the shell.
    Piped input is typed into the terminal. Exits with the program's code.

    Parameters
    ----------
    where
        PROVIDER or PROVIDER:TARGET; the target in the provider's terms (a
        container, a server name). See --list for the providers.
    command
        A command to run instead of the shell (after --).
    list_
        List the terminal providers and whether you may open them.
    json
        With --list: print the API's JSON.
    """
    with api() as client:
        if list_ or not where:
            providers = client.get("/api/terminals")
            if json:
                print_json(providers)
                return 0
            print_table(
                providers,
                [
                    ("NAME", lambda p: p["name"]),
                    ("PLUGIN", lambda p: p.get("plugin") or "-"),
                    ("SCOPE", lambda p: p["scope"]),
                    ("YOU MAY OPEN", lambda p: "yes" if p["allowed"] else "no"),
                    ("DESCRIPTION", lambda p: p["description"]),
                ],
                empty="No terminal providers: the host shell is off and no plugin offers one.",
            )
            return 0
        if json:
            raise CliError("--json goes with --list (a terminal is not JSON)")
        from skyport.cli.terminal import open_terminal

        provider, _, target = where.partition(":")
        return open_terminal(client, provider, target, list(command) or None)
