"""The plugin's settings and the data its API exchanges, as msgspec Structs."""

from __future__ import annotations

from typing import Annotated

import msgspec


class HelloSettings(msgspec.Struct, forbid_unknown_fields=True):
    """The ``hello:`` section of the config file, or ``SKYPORT_HELLO__GREETING``."""

    greeting: str = "Hello"


class Greeting(msgspec.Struct, frozen=True):
    name: str
    message: str
    at: float
    """Unix time the greeting was made."""


class NewGuest(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class GuestbookStats(msgspec.Struct, frozen=True):
    """What the metrics collector reports: ``skyport_hello_signatures`` and so on."""

    signatures: int
    guests: int
