"""``servers``, ``show``, ``add``, ``trust``, ``rm``, ``test``, ``import-ssh-config``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter

from skyport.cli.common import api, read_password
from skyport.cli.output import CliError, JsonFlag, print_fields, print_json, print_table
from skyport_vps.cli.base import api_path, app, fields

Tags = Annotated[list[str] | None, Parameter(name="--tag", help="A tag (repeat for more).")]


@app.command(name=["servers", "ls"])
def servers(*, tag: str | None = None, json: JsonFlag = False) -> None:
    """List the servers you may reach.

    Parameters
    ----------
    tag
        Only the servers with this tag.
    """
    with api() as client:
        rows = client.get(api_path("servers"), params={"tag": tag} if tag else None)
    if json:
        print_json(rows)
        return
    print_table(
        rows,
        [
            ("NAME", lambda r: r["name"]),
            ("ENDPOINT", lambda r: f"{r['user']}@{r['host']}:{r['port']}"),
            ("AUTH", lambda r: r["auth"].replace("_", " ")),
            ("TAGS", lambda r: r["tags"]),
            ("JUMP", lambda r: r["jump"]),
            ("HOST KEY", lambda r: r["host_key_fingerprint"] or "not trusted"),
        ],
        empty="No servers yet: skyport vps add NAME HOST --key FILE",
    )


@app.command
def show(name: str, /, *, json: JsonFlag = False) -> None:
    """Show one server.

    Parameters
    ----------
    name
        The server.
    """
    with api() as client:
        info = client.get(api_path("servers", name))
    if json:
        print_json(info)
        return
    print_fields(
        [
            ("Name", info["name"]),
            ("Endpoint", f"{info['user']}@{info['host']}:{info['port']}"),
            (
                "Auth",
                info["auth"].replace("_", " ")
                + (f" ({info['key_file']})" if info["key_file"] else ""),
            ),
            ("Tags", info["tags"]),
            ("Jump host", info["jump"]),
            ("Host key", info["host_key_fingerprint"] or "not trusted yet"),
            ("Notes", info["notes"] or None),
        ]
    )


@app.command
def add(
    name: str,
    host: str,
    /,
    *,
    user: str = "root",
    port: int = 22,
    key: Path | None = None,
    key_file: str | None = None,
    passphrase_stdin: bool = False,
    password_stdin: bool = False,
    agent: bool = False,
    tag: Tags = None,
    jump: str | None = None,
    notes: str | None = None,
    fingerprint: str | None = None,
    yes: bool = False,
    json: JsonFlag = False,
) -> None:
    """Add a server, then check and trust its host key.

    Parameters
    ----------
    name
        What to call it in SkyPort.
    host
        Host name or IP address.
    user
        The user to log in as.
    port
        The SSH port.
    key
        A private key file here: its text is sent and stored encrypted on the server.
    key_file
        A private key file on the SkyPort server (stored as a path).
    passphrase_stdin
        Read the key's passphrase from standard input.
    password_stdin
        Log in with a password read from standard input (stored encrypted).
    agent
        Log in with the SSH agent of the SkyPort server.
    jump
        Another server to connect through (like ssh -J).
    notes
        Free text.
    fingerprint
        Trust the host key if it has this fingerprint (SHA256:…), without asking.
    yes
        Trust the host key the server presents now, without asking.
    """
    body: dict[str, Any] = fields(
        name=name,
        host=host,
        user=user,
        port=port,
        tags=tag,
        jump=jump,
        notes=notes,
        key_file=key_file,
        agent=agent,
        fingerprint=fingerprint,
    )
    if key is not None:
        try:
            body["private_key"] = key.expanduser().read_text()
        except OSError as exc:
            raise CliError(f"--key: cannot read {key}: {exc.strerror or exc}") from None
        if passphrase_stdin:
            body["passphrase"] = read_password(from_stdin=True, prompt="Passphrase")
    elif password_stdin:
        body["password"] = read_password(from_stdin=True)
    with api() as client:
        info = client.post(api_path("servers"), json=body)
        if not info["trusted"]:
            info = _trust_flow(client, name, None, yes, quiet=json) or info
    if json:
        print_json(info)
    elif info["trusted"]:
        print(
            f"Server {name} added ({user}@{host}:{port}); host key {info['host_key_fingerprint']}."
        )
    else:
        print(f"Server {name} added; its host key is not trusted yet: skyport vps trust {name}")


@app.command
def trust(
    name: str, /, *, fingerprint: str | None = None, yes: bool = False, json: JsonFlag = False
) -> int:
    """Check a server's host key and trust it (after your confirmation).

    Parameters
    ----------
    name
        The server.
    fingerprint
        Trust the key only if it has this fingerprint (SHA256:…), without asking.
    yes
        Trust the key the server presents now, without asking.
    """
    with api() as client:
        info = _trust_flow(client, name, fingerprint, yes, quiet=json)
    if info is None:
        return 1
    if json:
        print_json(info)
    else:
        print(f"Trusted {info['host_key_fingerprint']} for {name}.")
    return 0


def _trust_flow(
    client: Any, name: str, fingerprint: str | None, yes: bool, *, quiet: bool
) -> dict[str, Any] | None:
    """Show the key, ask, trust; the server's new JSON, or None when not trusted."""
    if fingerprint is None:
        key = client.get(api_path("servers", name, "host-key"))
        if key["trusted"]:
            return client.get(api_path("servers", name))
        out = sys.stderr if quiet else sys.stdout
        if key["trusted_fingerprint"]:
            print(
                f"WARNING: the host key of {name} CHANGED: it was {key['trusted_fingerprint']}, "
                f"it is now {key['fingerprint']} ({key['key_type']}).",
                file=out,
            )
        else:
            print(f"The host key of {name} is {key['fingerprint']} ({key['key_type']}).", file=out)
        if not yes:
            if not sys.stdin.isatty():
                print(
                    f"Not trusted. Check it, then: skyport vps trust {name} "
                    f"--fingerprint {key['fingerprint']}",
                    file=out,
                )
                return None
            if input("Trust this key? [y/N] ").strip().lower() not in ("y", "yes"):
                print("Not trusted.", file=out)
                return None
        fingerprint = key["fingerprint"]
    return client.post(api_path("servers", name, "trust"), json={"fingerprint": fingerprint})


@app.command
def rm(*names: str, json: JsonFlag = False) -> int:
    """Remove servers and their stored credentials.

    Parameters
    ----------
    names
        The servers.
    """
    from skyport.client import ApiError

    if not names:
        raise CliError("name at least one server")
    removed: list[str] = []
    with api() as client:
        for name in names:
            try:
                client.delete(api_path("servers", name))
            except ApiError as exc:
                if not 400 <= exc.status < 500 or exc.status == 403:
                    raise
                print(f"skyport: error: {exc}", file=sys.stderr)
                continue
            removed.append(name)
            if not json:
                print(f"Removed {name}.")
    if json:
        print_json({"removed": removed})
    return 0 if len(removed) == len(names) else 1


@app.command
def test(*names: str, json: JsonFlag = False) -> int:
    """Connect to servers and run one command: latency, OS, uptime.

    Parameters
    ----------
    names
        The servers.
    """
    from skyport.cli.output import human_duration
    from skyport.client import ApiError

    if not names:
        raise CliError("name at least one server")
    answers: list[dict[str, Any]] = []
    failed = 0
    with api() as client:
        for name in names:
            try:
                answer = client.get(api_path("servers", name, "test"))
            except ApiError as exc:
                if exc.status in (401, 403):
                    raise
                failed += 1
                answer = {"server": name, "ok": False, "error": str(exc)}
            answers.append(answer)
            if json:
                continue
            if answer["ok"]:
                print(
                    f"{name}: ok, {answer['latency_ms']:.1f} ms, {answer['os']}, "
                    f"up {human_duration(answer.get('uptime'))}"
                )
            else:
                print(f"{name}: FAILED: {answer.get('error')}", file=sys.stderr)
    if json:
        print_json(answers[0] if len(answers) == 1 else answers)
    return 1 if failed else 0


@app.command(name="import-ssh-config")
def import_ssh_config(
    path: Path = Path("~/.ssh/config"), /, *, tag: Tags = None, json: JsonFlag = False
) -> None:
    """Add the hosts of an OpenSSH client config (key files stay where they are).

    Parameters
    ----------
    path
        The config file (default ~/.ssh/config).
    """
    try:
        text = path.expanduser().read_text()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    with api() as client:
        answer = client.post(api_path("servers", "import"), json=fields(config=text, tags=tag))
    if json:
        print_json(answer)
        return
    for server in answer["added"]:
        print(f"Added {server['name']} ({server['user']}@{server['host']}:{server['port']})")
    for alias, why in answer["skipped"].items():
        print(f"Skipped {alias}: {why}")
    if answer["added"]:
        print("Trust their host keys before use: skyport vps trust NAME")
