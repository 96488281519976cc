"""``skyport users``: add, list, change and remove accounts (scope ``users:admin``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from cyclopts import App

from skyport.cli.common import api, read_password
from skyport.cli.output import JsonFlag, human_time, print_json, print_table

app = App(name="users", help="Manage user accounts (needs the users:admin scope).")


def _path(username: str) -> str:
    return f"/api/users/{quote(username, safe='')}"


def _show(user: dict[str, Any], as_json: bool, verb: str) -> None:
    if as_json:
        print_json(user)
    else:
        print(f"User {user['username']} {verb} (role {user['role']}).")


@app.command
def add(
    username: str, /, *, role: str = "viewer", password_stdin: bool = False, json: JsonFlag = False
) -> None:
    """Create a user; asks for the password.

    Parameters
    ----------
    username
        The new user's name.
    role
        admin, operator, viewer or a custom role.
    password_stdin
        Read the password from the first line of standard input.
    """
    password = read_password(from_stdin=password_stdin, confirm=True)
    with api() as client:
        user = client.post(
            "/api/users", json={"username": username, "password": password, "role": role}
        )
    _show(user, json, "created")


@app.command(name="list")
def list_(*, json: JsonFlag = False) -> None:
    """List the users."""
    with api() as client:
        users = client.get("/api/users")
    if json:
        print_json(users)
        return
    print_table(
        users,
        [
            ("USERNAME", lambda u: u["username"]),
            ("ROLE", lambda u: u["role"]),
            ("DISABLED", lambda u: u["disabled"]),
            ("CREATED", lambda u: human_time(u["created_at"])),
        ],
        empty="no users",
    )


@app.command
def passwd(
    username: str,
    /,
    *,
    password_stdin: bool = False,
    revoke_tokens: bool = False,
    json: JsonFlag = False,
) -> None:
    """Set a user's password; their sessions end (their API tokens keep working).

    Parameters
    ----------
    username
        Whose password to set.
    password_stdin
        Read the new password from the first line of standard input.
    revoke_tokens
        Revoke the user's API tokens too.
    """
    password = read_password(from_stdin=password_stdin, confirm=True, prompt="New password")
    body = {"password": password, "revoke_tokens": revoke_tokens}
    with api() as client:
        user = client.patch(_path(username), json=body)
    _show(user, json, "has a new password")


@app.command
def role(username: str, role: str, /, *, json: JsonFlag = False) -> None:
    """Give a user another role; their sessions end.

    Parameters
    ----------
    username
        Whose role to change.
    role
        The new role.
    """
    with api() as client:
        user = client.patch(_path(username), json={"role": role})
    _show(user, json, "changed")


@app.command
def remove(username: str, /, *, json: JsonFlag = False) -> None:
    """Delete a user and end their sessions.

    Parameters
    ----------
    username
        Who to remove.
    """
    with api() as client:
        answer = client.delete(_path(username))
    if json:
        print_json(answer)
    else:
        print(f"User {username} removed.")
