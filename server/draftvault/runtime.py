"""The running service as other commands see it: one service per vault, and where it listens.

`claim` takes an exclusive lock on `server.lock` in the vault's directory for as long
as the service runs (the kernel drops it when the process dies, even by SIGKILL) and
writes the service's record {pid, host, port, started_at} into it at once, so a second
`serve` started at the same moment learns who holds the vault. `publish` writes the
same record to `server.json` once the service answers, for `status` and `open`;
`running_service` reads it back and checks that the service is really up.

Light on purpose: no web framework here, so `draftvault status` and `open` start fast.
"""

from __future__ import annotations

import fcntl
import os
import urllib.request
from pathlib import Path

import msgspec

from . import config, times


class AlreadyRunning(Exception):
    """Another service already runs on this vault."""


class Record(msgspec.Struct):
    pid: int
    host: str
    port: int
    started_at: str


class Claim:
    """This process's hold on the vault: the lock file's descriptor and its record."""

    def __init__(self, fd: int, record: Record):
        self.fd, self.record = fd, record

    def release(self) -> None:
        os.close(self.fd)  # drops the lock; the file stays (removing it would race a new claimant)


def claim(home: Path, host: str, port: int) -> Claim:
    """Locks the vault for this process, or raises AlreadyRunning naming the holder."""
    path = config.lock_path(home)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read(path)
        os.close(fd)
        where = f"pid {holder.pid}, port {holder.port}" if holder else "starting up"
        raise AlreadyRunning(f"DraftVault is already running on this vault: {where}") from None
    record = Record(pid=os.getpid(), host=host, port=port, started_at=times.now_iso())
    os.ftruncate(fd, 0)
    os.pwrite(fd, msgspec.json.encode(record), 0)
    os.fsync(fd)
    return Claim(fd, record)


def publish(home: Path, record: Record) -> None:
    config.write_private(config.runtime_path(home), msgspec.json.encode(record))


def unpublish(home: Path) -> None:
    """Removes server.json if this process wrote it."""
    record = _read(config.runtime_path(home))
    if record is not None and record.pid == os.getpid():
        config.runtime_path(home).unlink(missing_ok=True)


def _read(path: Path) -> Record | None:
    try:
        return msgspec.json.decode(path.read_bytes(), type=Record)
    except (OSError, msgspec.DecodeError):
        return None


def running_service(home: Path) -> Record | None:
    """The record of the service of `home` when it is up (server.json, a live pid, a
    healthy /api/health), else None."""
    record = _read(config.runtime_path(home))
    if record is None:
        return None
    try:
        os.kill(record.pid, 0)
        with urllib.request.urlopen(f"http://127.0.0.1:{record.port}/api/health", timeout=2) as res:
            return record if res.status == 200 else None
    except (OSError, ValueError):
        return None

