"""The server's master secret and the keys derived from it.

The master secret comes from ``SKYPORT_SECRET_KEY`` (share it between the
servers of a cluster) or from ``<data dir>/secret.key``, created with mode
0600 on first start. Purpose-specific keys are derived with HMAC-SHA256, so
the master secret itself never signs or encrypts anything.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "secret.key"


def load_master_key(data_dir: Path) -> bytes:
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
    return hmac.new(master, f"skyport:{purpose}".encode(), hashlib.sha256).digest()
