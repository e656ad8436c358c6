"""Where DraftVault keeps its files, and its settings.

Everything lives under one directory (`DRAFTVAULT_HOME`, else the platform's user
data directory). Directories are created 0700 and files written 0600: the vault
holds only ciphertext, but the key file next to it unlocks it.

Every environment variable DraftVault reads is read here, and nowhere else:
DRAFTVAULT_HOME, DRAFTVAULT_PORT, DRAFTVAULT_PASSPHRASE, and the detector's timings
DRAFTVAULT_STALL_S, DRAFTVAULT_SILENCE_S, DRAFTVAULT_TICK_S (`timings`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import msgspec
import platformdirs

from .protocol import Site

DEFAULT_PORT = 8737


def private_dir(path: Path) -> Path:
    """Creates `path` (and parents) if needed and makes it 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Writes `data` to `path` atomically (temp file, fsync, rename), mode 0600."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)


def home() -> Path:
    return private_dir(home_path())


def home_path() -> Path:
    """Where the vault lives (home() also makes it, private)."""
    env = os.environ.get("DRAFTVAULT_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("draftvault"))


def port() -> int:
    env = os.environ.get("DRAFTVAULT_PORT")
    return int(env) if env else DEFAULT_PORT


def passphrase() -> str | None:
    """The vault passphrase from the environment (None: prompt when the key needs one)."""
    return os.environ.get("DRAFTVAULT_PASSPHRASE")


def agent_token() -> str | None:
    """An API token for `draftvault mcp` to use (DRAFTVAULT_TOKEN); else it mints a read-only one."""
    return os.environ.get("DRAFTVAULT_TOKEN") or None


class Timings(msgspec.Struct, frozen=True):
    """The failure detector's clock: tests shorten these through the environment."""

    stall_s: float = 120.0  # an answer streaming with no new text for this long has stalled
    silence_s: float = 45.0  # a page missing from pings for this long was closed or crashed
    tick_s: float = 2.0  # how often the service asks the detector about silence


def timings() -> Timings:
    env = os.environ
    return Timings(**{
        field: float(env[name])
        for field, name in (("stall_s", "DRAFTVAULT_STALL_S"), ("silence_s", "DRAFTVAULT_SILENCE_S"),
                            ("tick_s", "DRAFTVAULT_TICK_S"))
        if env.get(name)
    })


def synchronous() -> str:
    """SQLite's `synchronous` for the vault (DRAFTVAULT_SYNCHRONOUS). FULL: a commit is on disk
    (WAL fsynced) before apply() returns, so an ack survives a power cut too; NORMAL survives
    a crash of the service (SIGKILL) but not of the OS."""
    value = (os.environ.get("DRAFTVAULT_SYNCHRONOUS") or "FULL").upper()
    if value not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"DRAFTVAULT_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA, not {value!r}")
    return value


def db_path(home: Path) -> Path:
    return home / "vault.db"


def key_path(home: Path) -> Path:
    return home / "vault.key"


def settings_path(home: Path) -> Path:
    return home / "settings.json"


def runtime_path(home: Path) -> Path:
    return home / "server.json"


def lock_path(home: Path) -> Path:
    return home / "server.lock"


class Settings(msgspec.Struct, forbid_unknown_fields=False):
    # The provider status-page check (statuspage.py). `statuspage_check` is the options
    # page's switch; unset (older settings files), a set `statuspage_url` means on.
    statuspage_check: bool | None = None
    statuspage_url: str | None = None  # None: statuspage.DEFAULT_URL (OpenAI's summary.json)
    statuspage_interval: float = 60.0
    statuspage_site: Site = "chatgpt"  # whose provider the page reports on
    allowed_origins: list[str] = []  # Origins allowed besides the paired ones

    @property
    def statuspage_on(self) -> bool:
        return self.statuspage_url is not None if self.statuspage_check is None else self.statuspage_check


def load_settings(home: Path) -> Settings:
    path = settings_path(home)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    return msgspec.json.decode(raw, type=Settings)


def save_settings(home: Path, s: Settings) -> None:
    write_private(settings_path(home), msgspec.json.format(msgspec.json.encode(s)) + b"\n")
