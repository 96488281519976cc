"""Encryption of secrets at rest (SSH keys, passwords, tokens a plugin must keep).

Each plugin gets its own :class:`SecretBox` (``skyport.secrets``), keyed by a key
derived from the server's master secret and the plugin's name, so one plugin
cannot read another's secrets and the master secret never encrypts anything
itself. AES-256-GCM with a random 96-bit nonce; the output is text, safe to
store in any column.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"
NONCE_BYTES = 12


class SecretDecryptError(ValueError):
    """The text was not made by this box (other key, other plugin, or altered)."""


class SecretBox:
    """Encrypt and decrypt short secrets with one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("SecretBox needs a 32-byte key")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str | bytes, *, context: str = "") -> str:
        """Return ``v1:<base64>``. ``context`` binds the text to a use (e.g. a row id)."""
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, data, context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, *, context: str = "") -> bytes:
        """The plaintext of ``token``; :class:`SecretDecryptError` if it is not ours."""
        if not token.startswith(PREFIX):
            raise SecretDecryptError("not an encrypted SkyPort secret")
        try:
            raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError) as e:
            raise SecretDecryptError("secret cannot be decrypted with this server's key") from e

    def decrypt_text(self, token: str, *, context: str = "") -> str:
        return self.decrypt(token, context=context).decode()
