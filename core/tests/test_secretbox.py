"""Secrets at rest: per-plugin keys, authenticated, never stored in clear."""

from __future__ import annotations

import pytest
from litestar import Litestar

from skyport.api import SecretBox, SecretDecryptError, hkdf


def test_round_trip_and_random_nonce() -> None:
    box = SecretBox(b"k" * 32)
    one, two = box.encrypt("hunter2"), box.encrypt("hunter2")
    assert one != two
    assert "hunter2" not in one
    assert box.decrypt_text(one) == "hunter2"


def test_context_binds_the_secret_to_its_use() -> None:
    box = SecretBox(b"k" * 32)
    token = box.encrypt(b"key material", context="server:web-1")
    assert box.decrypt(token, context="server:web-1") == b"key material"
    with pytest.raises(SecretDecryptError):
        box.decrypt(token, context="server:db-1")


def test_altered_or_foreign_text_is_refused() -> None:
    box = SecretBox(b"k" * 32)
    token = box.encrypt("secret")
    with pytest.raises(SecretDecryptError):
        SecretBox(b"x" * 32).decrypt(token)
    with pytest.raises(SecretDecryptError):
        box.decrypt(token[:-4] + "AAAA")
    with pytest.raises(SecretDecryptError):
        box.decrypt("plain text")


def test_each_plugin_has_its_own_key(app: Litestar) -> None:
    docker, core = app.state.contexts["docker"], app.state.contexts["core"]
    token = docker.secrets.encrypt("only docker reads this")
    assert docker.secrets.decrypt_text(token) == "only docker reads this"
    with pytest.raises(SecretDecryptError):
        core.secrets.decrypt(token)


def test_earlier_keys_still_open_and_reseal_moves_to_the_current_key() -> None:
    old, new = SecretBox(b"o" * 32), SecretBox(b"n" * 32, previous=[b"o" * 32])
    token = old.encrypt("from 0.1.0", context="server:web-1")
    assert new.decrypt_text(token, context="server:web-1") == "from 0.1.0"
    moved = new.reseal(token, context="server:web-1")
    assert moved is not None and new.reseal(moved, context="server:web-1") is None
    assert SecretBox(b"n" * 32).decrypt_text(moved, context="server:web-1") == "from 0.1.0"
    with pytest.raises(SecretDecryptError):
        old.decrypt(moved, context="server:web-1")


def test_plugins_get_a_key_of_their_own_and_never_the_master_secret(app: Litestar) -> None:
    from skyport.auth.keys import derive_key, load_master_key

    master = load_master_key(app.state.settings.data_path)
    core = app.state.contexts["core"]
    assert not hasattr(core.services, "master_key")
    assert len(core.key) == 32 and core.key not in (master, derive_key(master, "jwt"))
    assert core.key == hkdf(master, "skyport plugin core")
    assert app.state.contexts["docker"].key != core.key
