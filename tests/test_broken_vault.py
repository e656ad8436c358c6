"""A broken vault gets a clear message from every command, run as a user runs it (a
subprocess): key file missing, replaced, damaged or readable by others; a damaged or
truncated database; a home that cannot be written. No traceback, unless --debug."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from needs import missing
from draftvault import config
from draftvault.store import Vault
from frames import snapshot
from test_cli import dv, seed


def refused(*args: str, code: int = 2, env: dict | None = None) -> str:
    done = dv(*args, check=False, env=env)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    return done.stderr + done.stdout


@pytest.mark.parametrize("command", [("status",), ("search", "bread"), ("verify",), ("serve", "--port", "1")])
def test_key_readable_by_others_is_refused_naming_chmod(home, command):
    seed(home)
    key = config.key_path(home)
    key.chmod(0o644)
    message = refused(*command)
    assert "can be read by other users (mode 644)" in message and f"chmod 600 {key}" in message
    key.chmod(0o600)
    dv("status")


def test_garbage_key(home):
    seed(home)
    config.key_path(home).write_text("this is not a key\n")
    message = refused("search", "bread")
    assert f"the vault key {config.key_path(home)} is damaged or not a DraftVault key" in message
    assert "restore it from your backup" in message
    # --debug shows where it failed.
    done = dv("--debug", "search", "bread", check=False)
    assert done.returncode != 0 and "Traceback" in done.stderr and "KeyFileError" in done.stderr


def test_key_with_a_damaged_key_field(home):
    seed(home)
    key = config.key_path(home)
    key.write_text(key.read_text().replace('"key": "', '"key": "!!'))
    assert "is damaged (" in refused("status")


def test_missing_and_replaced_key(home, tmp_path):
    seed(home)
    key = config.key_path(home)
    key.rename(tmp_path / "saved.key")
    message = refused("search", "bread")
    assert f"exists but its key {key} is missing" in message and "Restore the vault's own vault.key" in message
    assert not key.exists()  # no new key was made in its place
    other = tmp_path / "other"
    Vault.open(other).close()
    shutil.copy(config.key_path(other), key)
    assert f"the key {key} does not open the vault" in refused("serve", "--port", "1")
    (tmp_path / "saved.key").replace(key)
    assert "Bread" in dv("search", "sourdough").stdout


def fill(home: Path) -> None:
    """Enough conversations for a database of some hundred pages."""
    seed(home)
    vault = Vault.open(home)
    try:
        for i in range(40):
            vault.apply("client-broken-1", snapshot(
                i + 1, [("user", os.urandom(3000).hex()), ("assistant", f"answer {i}")],
                conv=f"c-broken-{i}", page=f"page-broken-{i:04}", title=f"Filler {i}"))
    finally:
        vault.close()


def test_damaged_database_verify_names_damage_readable_and_salvage(home):
    fill(home)
    db = config.db_path(home)
    with open(db, "r+b") as f:
        f.seek(4096 * 40)  # a page of the blobs table
        f.write(b"\xff" * 100)
    out = refused("verify", code=1)
    assert f"the vault database {db} is damaged: database disk image is malformed" in out
    assert "damaged: table blobs: " in out and " rows read, then database disk image is malformed" in out
    assert "readable: table conversations: all 42 rows" in out
    assert f"sqlite3 {db} .recover | sqlite3 " in out and "draftvault export --out salvage.zip" in out
    message = refused("export", "--out", str(home / "all.zip"))
    assert "the vault database is damaged" in message and "`draftvault verify` shows what can still be read" in message


def test_truncated_database(home):
    fill(home)
    db = config.db_path(home)
    with open(db, "r+b") as f:
        f.truncate(db.stat().st_size // 2)
    out = refused("verify", code=1)
    assert "is damaged" in out and ".recover" in out
    assert "the vault database is damaged" in refused("search", "bread")
    assert "the vault database is damaged" in refused("serve", "--port", "1")


def test_home_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {"DRAFTVAULT_HOME": str(blocker / "vault")}
    for command in (("status",), ("search", "x"), ("pair",)):
        message = refused(*command, env=env)
        assert f"cannot use {blocker / 'vault'}" in message and "set DRAFTVAULT_HOME to one" in message


@pytest.fixture
def read_only_home(tmp_path):
    home = tmp_path / "ro"
    home.mkdir()
    Vault.open(home).close()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(home)], capture_output=True)
    if done.returncode != 0:
        missing(f"mount is not permitted here: {done.stderr.decode().strip()}")
    try:
        Vault.open(home).close()  # a vault, then read-only
        subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
        yield home
    finally:
        subprocess.run(["umount", str(home)], check=False)


def test_read_only_home(read_only_home):
    env = {"DRAFTVAULT_HOME": str(read_only_home)}
    for command in (("status",), ("search", "x"), ("pair",), ("serve", "--port", "1")):
        message = refused(*command, env=env)
        assert "cannot use" in message and "Read-only file system" in message, message
