"""The HTTP API, mounted by the core under ``/api/hello``."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromQuery, JSONBody

from skyport_hello.guestbook import Guestbook
from skyport_hello.models import Greeting, NewGuest


def routes(book: Guestbook) -> list[Any]:
    """The handlers, bound to the application's guest book."""

    @get("/greeting")
    async def greeting(name: FromQuery[str] = "world") -> Greeting:
        """A greeting for ``name``; needs ``hello:read``, the default for GET."""
        return book.greet(name)

    @get("/guests")
    async def guests() -> list[Greeting]:
        """Everyone who signed the guest book, newest first."""
        return book.signatures()

    @post("/guests")
    async def sign(data: JSONBody[NewGuest]) -> Greeting:
        """Sign the guest book; needs ``hello:write``, the default for other methods."""
        return book.sign(data.name)

    return [greeting, guests, sign]
