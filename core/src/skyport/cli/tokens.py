"""``skyport tokens``: your personal API tokens for scripts and other programs."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from cyclopts import App, Parameter

from skyport.cli.common import api
from skyport.cli.output import CliError, JsonFlag, human_time, print_json, print_table

app = App(name="tokens", help="Create, list and revoke API tokens (yours, or --user's).")


def _tokens_path(user: str | None) -> str:
    """Your tokens, or (for admins) another user's."""
    return f"/api/users/{quote(user, safe='')}/tokens" if user else "/api/auth/tokens"


@app.command
def create(
    name: str,
    /,
    *,
    scope: Annotated[list[str] | None, Parameter(alias="-s")] = None,
    expires_in_days: float | None = None,
    json: JsonFlag = False,
) -> None:
    """Create an API token; its secret is shown only this once.

    Parameters
    ----------
    name
        What the token is for.
    scope
        A scope the token carries (repeat it; a subset of yours), e.g. metrics:read.
    expires_in_days
        Lifetime in days; default: no expiry (made with a token: that token's).
    """
    scopes = [s for item in scope or [] for s in item.split(",") if s.strip()]
    if not scopes:
        raise CliError("give the token at least one --scope (e.g. --scope status:read)")
    body: dict[str, Any] = {"name": name, "scopes": scopes}
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days
    with api() as client:
        answer = client.post("/api/auth/tokens", json=body)
    if json:
        print_json(answer)
        return
    info = answer["info"]
    print(f"Token {info['id']} ({info['name']}) created; scopes: {', '.join(info['scopes'])}.")
    print("Its secret, shown only this once (send it as 'Authorization: Bearer ...'):")
    print(answer["token"])


@app.command(name="list")
def list_(*, user: str | None = None, json: JsonFlag = False) -> None:
    """List your API tokens (never their secrets).

    Parameters
    ----------
    user
        List this user's tokens instead (needs the users:admin scope).
    """
    with api() as client:
        tokens = client.get(_tokens_path(user))
    if json:
        print_json(tokens)
        return
    print_table(
        tokens,
        [
            ("ID", lambda t: t["id"]),
            ("NAME", lambda t: t["name"]),
            ("SCOPES", lambda t: t["scopes"]),
            ("CREATED", lambda t: human_time(t["created_at"])),
            ("EXPIRES", lambda t: human_time(t["expires_at"]) if t["expires_at"] else "never"),
            ("LAST USED", lambda t: human_time(t["last_used_at"])),
            ("REVOKED", lambda t: t["revoked"]),
        ],
        empty="no API tokens",
    )


@app.command
def revoke(token_id: str, /, *, user: str | None = None, json: JsonFlag = False) -> None:
    """Revoke an API token at once.

    Parameters
    ----------
    token_id
        The token's id (see "skyport tokens list").
    user
        Revoke a token of this user (needs the users:admin scope).
    """
    with api() as client:
        answer = client.delete(f"{_tokens_path(user)}/{quote(token_id, safe='')}")
    if json:
        print_json(answer)
    else:
        print(f"Token {token_id} revoked.")
