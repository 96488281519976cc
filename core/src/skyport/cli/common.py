"""What many commands share: the API client and password prompts."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from skyport.cli.output import CliError

if TYPE_CHECKING:
    from skyport.client import Client


@contextmanager
def api(*, every_plugin: bool = False) -> Iterator[Client]:
    """The client for this invocation: remote if logged in or configured, else local
    (serving the running command's plugin, or ``every_plugin``: see ``connect``)."""
    from skyport.client import connect
    from skyport.config import load_settings

    with connect(load_settings(), every_plugin=every_plugin) as client:
        yield client


def read_password(*, from_stdin: bool, confirm: bool = False, prompt: str = "Password") -> str:
    """One line of stdin (``--password-stdin``), or a hidden prompt on the terminal."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CliError("--password-stdin: no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise CliError("no terminal to ask for the password: use --password-stdin")
    password = getpass.getpass(f"{prompt}: ")
    if confirm and getpass.getpass(f"{prompt} (again): ") != password:
        raise CliError("the passwords do not match")
    if not password:
        raise CliError("empty password")
    return password


def ask(prompt: str) -> str:
    """A visible answer from the terminal."""
    if not sys.stdin.isatty():
        raise CliError(f"no terminal to ask for the {prompt.lower()}: pass it as an option")
    answer = input(f"{prompt}: ").strip()
    if not answer:
        raise CliError(f"no {prompt.lower()} given")
    return answer
