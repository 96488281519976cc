"""``skyport login``, ``logout``, ``passwd`` and ``status``."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from skyport.cli.common import api, ask, read_password
from skyport.cli.output import (
    CliError,
    JsonFlag,
    human_duration,
    human_time,
    print_fields,
    print_json,
)


def login(
    url: str | None = None,
    /,
    *,
    username: Annotated[str | None, Parameter(alias="-u")] = None,
    password_stdin: bool = False,
    json: JsonFlag = False,
) -> None:
    """Log in to a SkyPort server; later commands talk to it.

    Parameters
    ----------
    url
        The server, e.g. https://host:8080. Default: client.url, the
        server logged in to last, or this machine's server.host:port.
    username
        Your user name (asked when missing).
    password_stdin
        Read the password from the first line of standard input (for scripts).
    """
    from skyport.cli import credentials
    from skyport.client import Client, NotLoggedIn, normalize_url

    target = normalize_url(url or _default_url())
    username = username or ask("Username")
    password = read_password(from_stdin=password_stdin)
    with Client.remote(target) as client:
        try:
            answer = client.post(
                "/api/auth/login", json={"username": username, "password": password}
            )
        except NotLoggedIn as exc:
            raise CliError(f"login to {target} failed: {exc.detail or 'refused'}") from None
    where = credentials.save(
        target, answer["token"], answer["user"]["username"], answer["expires_at"]
    )
    if json:
        print_json(answer)
        return
    user = answer["user"]
    print(f"Logged in to {target} as {user['username']} (role {user['role']}).")
    print(f"The session lasts until {human_time(answer['expires_at'])}; token kept in {where}.")


def logout(*, keep_server: bool = False) -> None:
    """End the session on the server and forget it: later commands run in local mode
    (or talk to client.url / SKYPORT_URL when set).

    Parameters
    ----------
    keep_server
        Keep the server as the one commands talk to (they ask you to log in again).
    """
    from skyport.cli import credentials
    from skyport.client import Client, ClientError

    url = credentials.current_url()
    if not url:
        raise CliError("not logged in to any server (commands run in local mode)")
    token = credentials.token_for(url)
    if token:
        with Client.remote(url, token) as client:
            try:
                client.post("/api/auth/logout")
            except ClientError as exc:  # the session is forgotten here all the same
                print(f"skyport: note: the server did not confirm the logout: {exc}")
    credentials.forget(url, server=not keep_server)
    print(f"Logged out of {url}." if token else f"No session for {url}; nothing to end.")
    if keep_server:
        print(f"Commands still talk to {url}: skyport login to log in again.")
    else:
        print(f"Commands run in local mode again; skyport login {url} to come back.")


def passwd(*, password_stdin: bool = False, revoke_tokens: bool = False) -> None:
    """Change your own password; all your sessions end (your API tokens keep working).

    Parameters
    ----------
    password_stdin
        Read the current password, then the new one, from the first two lines of
        standard input.
    revoke_tokens
        Revoke your API tokens too.
    """
    current = read_password(from_stdin=password_stdin, prompt="Current password")
    new = read_password(from_stdin=password_stdin, confirm=True, prompt="New password")
    body = {"current_password": current, "new_password": new, "revoke_tokens": revoke_tokens}
    with api() as client:
        client.post("/api/auth/password", json=body)
        remote = client.mode == "remote"
    ended = "your sessions and API tokens" if revoke_tokens else "your sessions"
    print(f"Password changed; {ended} ended." + (" Log in again." if remote else ""))


def status(*, json: JsonFlag = False) -> None:
    """Show the server's version, host, uptime and plugins."""
    with api() as client:
        answer = client.get("/api/status")
        where = client.where()
    if json:
        print_json(answer)
        return
    plugins = answer.get("plugins", {})
    failed = [f"{p['name']} ({p['error']})" for p in plugins.get("failed", [])]
    print_fields(
        [
            ("server", where),
            ("version", answer.get("version")),
            ("hostname", answer.get("hostname")),
            ("uptime", human_duration(answer.get("uptime_seconds"))),
            ("started", human_time(answer.get("started_at"))),
            ("plugins", plugins.get("loaded")),
            *([("failed", failed)] if failed else []),
            *([("disabled", plugins.get("disabled"))] if plugins.get("disabled") else []),
        ]
    )


def _default_url() -> str:
    from skyport.cli import credentials
    from skyport.config import load_settings

    settings = load_settings()
    if settings.client.url or credentials.current_url():
        return settings.client.url or credentials.current_url() or ""
    scheme = "https" if settings.server.certfile else "http"
    host = settings.server.host
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    return f"{scheme}://{host}:{settings.server.port}"
