"""Where ``skyport login`` keeps the server URL and its token.

The token goes to the OS keyring when a real backend exists (service
``skyport``, user name = server URL). Otherwise — a headless box or CI,
where keyring offers only its fail/null backends — it goes to
``credentials.json`` in the config dir, created with mode 0600. That file
always holds the non-secret part: which server is current, who is logged in
and until when, and where the token is.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

KEYRING_SERVICE = "skyport"
FILE_NAME = "credentials.json"


def path() -> Path:
    from skyport.config import default_config_dir

    return default_config_dir() / FILE_NAME


def current_url() -> str | None:
    """The server the last ``skyport login`` chose, if any."""
    return _read().get("current") or None


def login_for(url: str) -> dict[str, Any] | None:
    """What is stored for ``url``: ``username``, ``expires_at``, ``store`` (no token)."""
    entry = _read().get("servers", {}).get(url)
    return {k: v for k, v in entry.items() if k != "token"} if entry else None


def token_for(url: str) -> str | None:
    """The stored token for ``url``, from the keyring or the file."""
    entry = _read().get("servers", {}).get(url)
    if not entry:
        return None
    if entry.get("store") == "keyring":
        backend = keyring_backend()
        if backend is None:
            return None
        try:
            return backend.get_password(KEYRING_SERVICE, url)
        except Exception:
            return None
    return entry.get("token") or None


def save(url: str, token: str, username: str, expires_at: float | None) -> str:
    """Store a login and make ``url`` current; return where the token went."""
    entry: dict[str, Any] = {"username": username, "expires_at": expires_at}
    where = str(path())
    backend = keyring_backend()
    stored = False
    if backend is not None:
        try:
            backend.set_password(KEYRING_SERVICE, url, token)
            stored = True
            entry["store"] = "keyring"
            where = f"the OS keyring ({type(backend).__module__})"
        except Exception:
            stored = False
    if not stored:
        entry.update(store="file", token=token)
    data = _read()
    data.setdefault("servers", {})[url] = entry
    data["current"] = url
    _write(data)
    return where


def forget(url: str, *, server: bool = False) -> None:
    """Drop the token for ``url``; with ``server`` also stop using ``url`` at all."""
    data = _read()
    entry = data.get("servers", {}).pop(url, None)
    if entry and entry.get("store") == "keyring":
        backend = keyring_backend()
        if backend is not None:
            with contextlib.suppress(Exception):
                backend.delete_password(KEYRING_SERVICE, url)
    if server and data.get("current") == url:
        data.pop("current")
    _write(data)


def keyring_backend() -> Any:
    """The OS keyring, or ``None`` when keyring has only its fail/null/empty backends."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except Exception:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    unusable: tuple[type, ...] = (fail.Keyring,)
    with contextlib.suppress(ImportError):
        from keyring.backends import null

        unusable = (*unusable, null.Keyring)
    if isinstance(backend, unusable):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def _read() -> dict[str, Any]:
    try:
        data = json.loads(path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(data: dict[str, Any]) -> None:
    """Replace the file atomically; it is never readable by others, not even briefly."""
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # in case a stale temporary file had other bits
        with os.fdopen(fd, "w") as file:
            json.dump(data, file, indent=2)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
