"""The vault's keys and the file layout: sealing, key files, passphrases, permissions."""

import json
import stat

import pytest

from draftvault import config
from draftvault.crypto import (
    Keyring,
    PassphraseRequired,
    Tampered,
    WrongPassphrase,
    is_passphrase_protected,
    set_passphrase,
)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def key_path(tmp_path):
    return tmp_path / "home" / "vault.key"


def test_seal_round_trip_with_fresh_nonces(key_path):
    keys = Keyring.open_or_create(key_path)
    a, b = keys.seal(b"secret text", b"turn|1"), keys.seal(b"secret text", b"turn|1")
    assert a != b and b"secret text" not in a
    assert keys.open(a, b"turn|1") == keys.open(b, b"turn|1") == b"secret text"


def test_record_moved_or_changed_fails_authentication(key_path):
    keys = Keyring.open_or_create(key_path)
    sealed = keys.seal(b"secret text", b"conv|A|title")
    with pytest.raises(Tampered):
        keys.open(sealed, b"conv|B|title")  # the same ciphertext in another row
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(Tampered):
        keys.open(flipped, b"conv|A|title")
    with pytest.raises(Tampered):
        keys.open(b"short", b"conv|A|title")


def test_macs_are_keyed_and_separated_by_purpose(tmp_path):
    one = Keyring.open_or_create(tmp_path / "one.key")
    two = Keyring.open_or_create(tmp_path / "two.key")
    assert one.mac(b"hello", b"search") == Keyring.open_or_create(tmp_path / "one.key").mac(b"hello", b"search")
    assert one.mac(b"hello", b"search") != one.mac(b"hello", b"blob")
    assert one.mac(b"hello", b"search") != two.mac(b"hello", b"search")


def test_key_file_is_private_and_reused(key_path):
    keys = Keyring.open_or_create(key_path)
    assert mode(key_path) == 0o600 and mode(key_path.parent) == 0o700
    assert not is_passphrase_protected(key_path)
    sealed = keys.seal(b"x", b"a")
    assert Keyring.open_or_create(key_path).open(sealed, b"a") == b"x"


def test_passphrase_set_change_remove_rewraps_the_same_key(key_path):
    sealed = Keyring.open_or_create(key_path).seal(b"kept", b"aad")
    set_passphrase(key_path, None, "correct horse")
    assert is_passphrase_protected(key_path) and mode(key_path) == 0o600
    assert "correct horse" not in key_path.read_text()
    assert Keyring.open_or_create(key_path, "correct horse").open(sealed, b"aad") == b"kept"
    with pytest.raises(PassphraseRequired):
        Keyring.open_or_create(key_path)
    with pytest.raises(WrongPassphrase, match=f"wrong passphrase for the vault key at {key_path}"):
        Keyring.open_or_create(key_path, "wrong horse")
    with pytest.raises(WrongPassphrase):
        set_passphrase(key_path, "wrong horse", "other")
    set_passphrase(key_path, "correct horse", "battery staple")
    assert Keyring.open_or_create(key_path, "battery staple").open(sealed, b"aad") == b"kept"
    set_passphrase(key_path, "battery staple", None)
    assert not is_passphrase_protected(key_path)
    assert Keyring.open_or_create(key_path).open(sealed, b"aad") == b"kept"


def test_new_key_with_a_passphrase_is_wrapped_from_the_start(key_path):
    sealed = Keyring.open_or_create(key_path, "pw one").seal(b"x", b"a")
    doc = json.loads(key_path.read_text())
    assert doc["mode"] == "passphrase" and doc["kdf"] == "argon2id" and "key" not in doc
    assert Keyring.open_or_create(key_path, "pw one").open(sealed, b"a") == b"x"


def test_home_port_and_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("DRAFTVAULT_HOME", str(tmp_path / "a" / "b"))
    monkeypatch.setenv("DRAFTVAULT_PORT", "9999")
    home = config.home()
    assert home == tmp_path / "a" / "b" and mode(home) == 0o700
    assert config.port() == 9999
    assert config.load_settings(home) == config.Settings()
    s = config.Settings(statuspage_url="http://127.0.0.1:1/summary.json", allowed_origins=["http://x"])
    config.save_settings(home, s)
    assert config.load_settings(home) == s and mode(config.settings_path(home)) == 0o600
    monkeypatch.delenv("DRAFTVAULT_PORT")
    assert config.port() == config.DEFAULT_PORT
