"""The vault's keys: a random 256-bit data key, wrapped by a key file or a passphrase.

The key file (`vault.key`, JSON, 0600) holds the data key either as is ("keyfile"
mode: the service starts unattended; whoever has the file has the vault) or wrapped
with AES-256-GCM under a key derived from a passphrase by Argon2id ("passphrase"
mode). Changing or removing the passphrase re-wraps the same data key, so the vault
itself is never re-encrypted.

From the data key, HKDF derives one AES-256-GCM key for records and one HMAC key per
purpose (search index buckets, conversation lookup, content addressing, ...), so a
keyed hash made for one purpose says nothing about another.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .config import write_private

KEY_FORMAT = 1
NONCE_BYTES = 12
# Argon2id cost (RFC 9106's second recommended option: 64 MiB, 3 passes, 4 lanes).
ARGON2 = {"iterations": 3, "lanes": 4, "memory_cost": 64 * 1024}
_WRAP_AAD = b"draftvault data key v1"


class WrongPassphrase(Exception):
    """The passphrase does not unwrap the data key."""


class PassphraseRequired(Exception):
    """The data key is passphrase-wrapped and no passphrase was given."""


class KeyFileError(Exception):
    """The key file cannot be used: damaged, not a key file, or readable by others."""


class Tampered(Exception):
    """A sealed record failed authentication: changed, damaged or moved to another row."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _hkdf(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


def _argon2(passphrase: str, salt: bytes, params: dict) -> bytes:
    return Argon2id(salt=salt, length=32, **params).derive(passphrase.encode())


def _load(key_path: Path) -> dict:
    """The key file's document; refused when others may read it (like ssh's keys: it
    may have been copied, and going on would hide that) or when it is not a key file."""
    mode = os.stat(key_path).st_mode & 0o777
    if mode & 0o077:
        raise KeyFileError(
            f"the vault key {key_path} can be read by other users (mode {mode:o}): whoever copied it can open "
            f"the vault. Make it private with `chmod 600 {key_path}`, and if others may have read it, "
            "export the vault and start a new one"
        )
    try:
        doc = json.loads(Path(key_path).read_bytes())
        if not (isinstance(doc, dict) and doc.get("mode") in ("keyfile", "passphrase")):
            raise ValueError("no key in it")
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError too
        raise KeyFileError(f"the vault key {key_path} is damaged or not a DraftVault key ({e}); "
                           "restore it from your backup: no other key opens this vault") from None
    return doc


def _unwrap(key_path: Path, doc: dict, passphrase: str | None) -> bytes:
    try:
        return _unwrap_doc(key_path, doc, passphrase)
    except (KeyError, TypeError, ValueError) as e:  # fields missing, not base64, a key of the wrong size
        raise KeyFileError(f"the vault key {key_path} is damaged ({type(e).__name__}: {e}); "
                           "restore it from your backup: no other key opens this vault") from None


def _unwrap_doc(key_path: Path, doc: dict, passphrase: str | None) -> bytes:
    if doc.get("format") != KEY_FORMAT:
        raise ValueError(f"unknown key file format {doc.get('format')!r}")
    if doc["mode"] == "keyfile":
        key = _unb64(doc["key"])
        if len(key) != 32:
            raise ValueError(f"the key is {len(key)} bytes, not 32")
        return key
    if passphrase is None:
        raise PassphraseRequired(f"the vault key at {key_path} is protected by a passphrase; none was given")
    kek = _argon2(passphrase, _unb64(doc["salt"]), doc["argon2"])
    blob = _unb64(doc["wrapped"])
    try:
        return AESGCM(kek).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _WRAP_AAD)
    except InvalidTag:
        raise WrongPassphrase(f"wrong passphrase for the vault key at {key_path}") from None


def _write(key_path: Path, data_key: bytes, passphrase: str | None) -> None:
    if passphrase is None:
        doc = {"format": KEY_FORMAT, "mode": "keyfile", "key": _b64(data_key)}
    else:
        if not passphrase:
            raise ValueError("the passphrase must not be empty")
        salt = os.urandom(16)
        kek = _argon2(passphrase, salt, ARGON2)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + AESGCM(kek).encrypt(nonce, data_key, _WRAP_AAD)
        doc = {
            "format": KEY_FORMAT,
            "mode": "passphrase",
            "kdf": "argon2id",
            "argon2": ARGON2,
            "salt": _b64(salt),
            "wrapped": _b64(wrapped),
        }
    write_private(Path(key_path), (json.dumps(doc, indent=1) + "\n").encode())


def is_passphrase_protected(key_path: Path) -> bool:
    return _load(key_path)["mode"] == "passphrase"


def set_passphrase(key_path: Path, current: str | None, new: str | None) -> None:
    """Re-wraps the data key: under `new`, or back into key-file mode when `new` is None."""
    data_key = _unwrap(Path(key_path), _load(key_path), current)
    _write(Path(key_path), data_key, new)


class Keyring:
    """The unlocked keys of one vault."""

    def __init__(self, data_key: bytes):
        self._aead = AESGCM(_hkdf(data_key, b"draftvault record encryption"))
        self._root = data_key
        self._macs: dict[bytes, bytes] = {}

    @classmethod
    def open_or_create(cls, key_path: Path, passphrase: str | None = None) -> "Keyring":
        """Unlocks the key at `key_path`, creating a new random key there if there is none.

        A new key is passphrase-wrapped when `passphrase` is given; an existing key-file
        mode key ignores the passphrase.
        """
        key_path = Path(key_path)
        if not key_path.exists():
            data_key = AESGCM.generate_key(bit_length=256)
            _write(key_path, data_key, passphrase)
            return cls(data_key)
        return cls(_unwrap(key_path, _load(key_path), passphrase))

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, blob: bytes, aad: bytes) -> bytes:
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError, TypeError):
            raise Tampered("record failed authentication") from None

    def mac_key(self, purpose: bytes) -> bytes:
        key = self._macs.get(purpose)
        if key is None:
            key = self._macs[purpose] = _hkdf(self._root, b"draftvault mac " + purpose)
        return key

    def mac(self, data: bytes, purpose: bytes) -> bytes:
        return hmac.digest(self.mac_key(purpose), data, "sha256")
