"""The server's master secret and the keys derived from it.

The master secret comes from ``SKYPORT_SECRET_KEY`` (share it between the
servers of a cluster) or from ``<data dir>/secret.key``, created with mode
0600 on first start. It never signs or encrypts anything itself and never
leaves the core: the core derives its own keys from it (:func:`derive_key`,
e.g. the JWT key), and each plugin gets one key of its own (:func:`plugin_key`,
HKDF-SHA256), from which nothing about the master secret or another plugin's
key can be learnt.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE = "secret.key"
KEY_BYTES = 32


def load_master_key(data_dir: Path) -> bytes:
    """The master secret; ``data_dir`` must exist (see :mod:`skyport.datadir`)."""
    if env := os.environ.get("SKYPORT_SECRET_KEY"):
        return env.encode()
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def derive_key(master: bytes, purpose: str) -> bytes:
    """A key of the core's own (HMAC-SHA256; unchanged since 0.1.0, so sessions and
    anything sealed with it survive upgrades)."""
    return hmac.new(master, f"skyport:{purpose}".encode(), hashlib.sha256).digest()


def hkdf(key: bytes, purpose: str) -> bytes:
    """A 256-bit key for ``purpose`` derived from ``key`` with HKDF-SHA256."""
    derived = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode())
    return derived.derive(key)


def plugin_key(master: bytes, plugin: str) -> bytes:
    """The one key plugin ``plugin`` receives (``skyport.key``)."""
    return hkdf(master, f"skyport plugin {plugin}")
