"""Reading hosts out of an OpenSSH client config (``~/.ssh/config``), with paramiko's parser."""

from __future__ import annotations

import getpass
import re

import msgspec
import paramiko

ALIAS_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ConfigHost(msgspec.Struct, kw_only=True):
    alias: str
    hostname: str = ""
    port: int = 22
    user: str = ""
    key_file: str | None = None
    jump: str | None = None
    problem: str | None = None
    """Why this host cannot be imported, if it cannot."""


def hosts_from_config(text: str) -> list[ConfigHost]:
    """Every concrete ``Host`` alias of the config, as SSH would resolve it; ValueError
    for text that is no OpenSSH config."""
    try:
        config = paramiko.SSHConfig.from_text(text)
    except paramiko.ssh_exception.ConfigParseError as exc:
        raise ValueError(f"not an OpenSSH client config: {exc}") from None
    hosts: list[ConfigHost] = []
    for alias in sorted(config.get_hostnames()):
        if any(c in alias for c in "*?!") or alias == "*":
            continue
        if not ALIAS_RULE.match(alias) or alias == "all":
            hosts.append(ConfigHost(alias=alias, problem="not a valid server name"))
            continue
        entry = config.lookup(alias)
        jump = entry.get("proxyjump")
        if entry.get("proxycommand"):
            hosts.append(ConfigHost(alias=alias, problem="ProxyCommand is not supported"))
            continue
        if jump and ("," in jump or "@" in jump or ":" in jump):
            hosts.append(
                ConfigHost(
                    alias=alias, problem="only a ProxyJump naming one host alias is supported"
                )
            )
            continue
        try:
            port = int(entry.get("port", 22))
        except ValueError:
            hosts.append(ConfigHost(alias=alias, problem=f"bad Port {entry.get('port')!r}"))
            continue
        files = entry.get("identityfile") or []
        hosts.append(
            ConfigHost(
                alias=alias,
                hostname=entry.get("hostname", alias),
                port=port,
                user=entry.get("user") or getpass.getuser(),
                key_file=files[0] if files else None,
                jump=jump,
            )
        )
    return hosts
