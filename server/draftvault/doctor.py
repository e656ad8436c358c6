"""`draftvault doctor`: checks what a person can get wrong, and says what to do for each.

Each check is a plain function of the vault's directory returning a Check; the CLI
prints them and exits 1 when one failed. Nothing here changes anything.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import msgspec

from . import auth, config, crypto, install, runtime

Level = Literal["ok", "warn", "fail"]

SEEN_RECENTLY_S = 24 * 3600  # an extension quiet for longer than a day is worth a look
DISK_WARN_BYTES = 1024**3
DISK_FAIL_BYTES = 100 * 1024**2


class Check(msgspec.Struct):
    name: str
    level: Level
    detail: str
    todo: str | None = None  # what to do, in words a person follows


def running(home: Path) -> runtime.Record | None:
    return runtime.running_service(home)


def ago(iso: str, now: datetime | None = None) -> str:
    seconds = max(0, ((now or datetime.now(timezone.utc)) - datetime.fromisoformat(iso)).total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def since(iso: str) -> str:
    """"2026-11-29 21:39 UTC (5 minutes ago)"."""
    return f"{datetime.fromisoformat(iso).astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC ({ago(iso)})"


def check_service(home: Path) -> Check:
    info = running(home)
    if info:
        return Check("service", "ok", f"running (pid {info.pid}) on port {info.port} since {since(info.started_at)}")
    try:
        svc = install.manager()
    except install.ServiceError:
        svc = None
    if svc is not None and svc.path.exists():
        return Check("service", "fail", f"installed ({svc.path}) but not running",
                     "start it again with `draftvault service install`; if it stops at once, run `draftvault serve` "
                     "in a terminal to see why")
    return Check("service", "fail", "not running",
                 "run `draftvault service install` (starts it now and every time you log in), "
                 "or `draftvault serve` in a terminal window you keep open")


def check_port(home: Path) -> Check:
    info = running(home)
    if info:
        return Check("port", "ok", f"port {info.port} is DraftVault's")
    port = config.port()
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return Check("port", "fail", f"port {port} is taken by another program",
                         f"start DraftVault on another port: `DRAFTVAULT_PORT={port + 1} draftvault serve` "
                         f"(or `DRAFTVAULT_PORT={port + 1} draftvault service install`), then in the extension's "
                         f"Options set the service address to http://127.0.0.1:{port + 1}")
    return Check("port", "ok", f"port {port} is free for DraftVault")


def extension_tokens(home: Path) -> list[auth.TokenInfo]:
    """The live tokens that a browser extension paired (none while there is no vault)."""
    if not config.db_path(home).exists():
        return []
    db = auth.connect(home)
    try:
        return [t for t in auth.list_tokens(db) if (t.origin or "").startswith(auth.EXTENSION_SCHEMES)]
    finally:
        db.conn.close()


def check_extension(home: Path) -> list[Check]:
    tokens = extension_tokens(home)
    if not tokens:
        return [Check("extension", "fail", "no browser extension is paired",
                      "run `draftvault pair`, click the DraftVault icon in your browser's toolbar (under the "
                      "puzzle piece) and type the code it printed")]
    paired = Check("extension", "ok", f"{len(tokens)} browser extension{'s' if len(tokens) != 1 else ''} paired")
    seen = max((t.last_used_at for t in tokens if t.last_used_at), default=None)
    if seen is None:
        return [paired, Check("extension seen", "warn", "the extension has not connected since it was paired",
                              "open your browser; if DraftVault's icon shows a grey “!”, click it and pair again")]
    quiet = (datetime.now(timezone.utc) - datetime.fromisoformat(seen)).total_seconds()
    if quiet > SEEN_RECENTLY_S:
        return [paired, Check("extension seen", "warn", f"last connected {ago(seen)}",
                              "open your browser and check that the DraftVault extension is turned on; "
                              "its icon shows whether it reaches the service")]
    return [paired, Check("extension seen", "ok", f"last connected {ago(seen)}")]


def check_vault(home: Path) -> list[Check]:
    db, key = config.db_path(home), config.key_path(home)
    if not db.exists():
        return [Check("vault", "warn", f"no vault yet under {home}", "`draftvault serve` creates it on first run")]
    if not os.access(db, os.R_OK | os.W_OK):
        return [Check("vault", "fail", f"{db} cannot be read and written by you",
                      f"give it back to your user: `chown $USER {db}`")]
    checks = [_check_key_mode(key)]
    if not key.exists():
        checks.insert(0, Check("vault", "fail", f"the key file {key} is missing",
                               "put back vault.key from your backup; without it the vault cannot be read"))
        return checks
    if checks[0].level == "fail":  # the vault refuses a key others can read: the key-file line says what to do
        checks.insert(0, Check("vault", "fail", f"{db} is not opened while its key file can be read by others"))
        return checks
    if crypto.is_passphrase_protected(key) and config.passphrase() is None:
        checks.insert(0, Check("vault", "warn", f"{db} is protected by a passphrase (not checked without it)",
                               "a service started at log-in cannot ask for a passphrase: run `draftvault serve` "
                               "yourself, or `draftvault passphrase remove` to rely on the key file"))
        return checks
    from .store import Vault

    try:
        vault = Vault.open(home, config.passphrase())
    except Exception as e:  # a wrong key or passphrase, a damaged file: say it, never a traceback
        checks.insert(0, Check("vault", "fail", f"{db} cannot be opened: {e}",
                               "run `draftvault verify` for details; restore vault.db and vault.key from a backup"))
        return checks
    try:
        n = vault.stats()["conversations"]
    finally:
        vault.close()
    checks.insert(0, Check("vault", "ok", f"{db} opens ({n} conversations)"))
    return checks


def _check_key_mode(key: Path) -> Check:
    if not key.exists():
        return Check("key file", "ok", "no key file yet")
    mode = stat.S_IMODE(key.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        return Check("key file", "fail", f"{key} can be read by other users (mode {mode:o})",
                     f"make it yours alone: `chmod 600 {key}`")
    return Check("key file", "ok", f"{key} is yours alone")


def check_disk(home: Path) -> Check:
    free = shutil.disk_usage(home).free
    words = f"{free / 1024**3:.1f} GB free on the disk holding {home}"
    if free < DISK_FAIL_BYTES:
        return Check("disk", "fail", words, "free up space: DraftVault cannot save new chats on a full disk")
    if free < DISK_WARN_BYTES:
        return Check("disk", "warn", words, "free up some space soon")
    return Check("disk", "ok", words)


def run_checks(home: Path) -> list[Check]:
    return [check_service(home), check_port(home), *check_extension(home), *check_vault(home), check_disk(home)]
