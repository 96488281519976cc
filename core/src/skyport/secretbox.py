"""Encryption of secrets at rest (SSH keys, passwords, tokens a plugin must keep).

Each plugin gets its own :class:`SecretBox` (``skyport.secrets``), keyed by a key
derived from that plugin's own key, so one plugin cannot read another's secrets
and the master secret never encrypts anything itself. AES-256-GCM with a random
96-bit nonce; the output is text, safe to store in any column. A box may also
hold earlier keys: it still opens what they sealed, and :meth:`SecretBox.reseal`
moves such text to the current key.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"
NONCE_BYTES = 12


class SecretDecryptError(ValueError):
    """The text was not made by this box (other key, other plugin, or altered)."""


class SecretBox:
    """Encrypt and decrypt short secrets with one 256-bit key."""

    def __init__(self, key: bytes, *, previous: Sequence[bytes] = ()) -> None:
        if any(len(k) != 32 for k in (key, *previous)):
            raise ValueError("SecretBox needs 32-byte keys")
        self._aead = AESGCM(key)
        self._previous = [AESGCM(k) for k in previous]

    def encrypt(self, plaintext: str | bytes, *, context: str = "") -> str:
        """Return ``v1:<base64>``. ``context`` binds the text to a use (e.g. a row id)."""
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, data, context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, *, context: str = "") -> bytes:
        """The plaintext of ``token``; :class:`SecretDecryptError` if it is not ours."""
        return self._open(token, context)[0]

    def reseal(self, token: str, *, context: str = "") -> str | None:
        """``token`` sealed again with the current key if an earlier key sealed it, else None."""
        plaintext, current = self._open(token, context)
        return None if current else self.encrypt(plaintext, context=context)

    def _open(self, token: str, context: str) -> tuple[bytes, bool]:
        """The plaintext, and whether the current key (not an earlier one) sealed it."""
        if not token.startswith(PREFIX):
            raise SecretDecryptError("not an encrypted SkyPort secret")
        try:
            raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
        except ValueError as e:
            raise SecretDecryptError("not an encrypted SkyPort secret") from e
        for aead in (self._aead, *self._previous):
            try:
                plaintext = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
            except (InvalidTag, ValueError):
                continue
            return plaintext, aead is self._aead
        raise SecretDecryptError("secret cannot be decrypted with this server's key")

    def decrypt_text(self, token: str, *, context: str = "") -> str:
        return self.decrypt(token, context=context).decode()
