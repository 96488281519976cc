"""``skyport hello …``: commands that reach the server through the SkyPort client."""

from __future__ import annotations

import cyclopts

app = cyclopts.App(name="hello", help="Greet people and keep a guest book.")


@app.command
def greet(name: str = "world") -> None:
    """Ask the server for a greeting and print it.

    Parameters
    ----------
    name
        Who to greet.
    """
    from skyport.client import connect

    with connect() as client:
        print(client.get("/api/hello/greeting", params={"name": name})["message"])


@app.command
def sign(name: str) -> None:
    """Sign the guest book.

    Parameters
    ----------
    name
        Whose signature.
    """
    from skyport.client import connect

    with connect() as client:
        print(client.post("/api/hello/guests", json={"name": name})["message"])
