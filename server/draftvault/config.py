"""Where DraftVault keeps its files, and its settings.

Everything lives under one directory (`DRAFTVAULT_HOME`, else the platform's user
data directory). Directories are created 0700 and files written 0600: the vault
holds only ciphertext, but the key file next to it unlocks it.
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
    env = os.environ.get("DRAFTVAULT_HOME")
    return private_dir(Path(env) if env else Path(platformdirs.user_data_dir("draftvault")))


def port() -> int:
    env = os.environ.get("DRAFTVAULT_PORT")
    return int(env) if env else DEFAULT_PORT


def db_path(home: Path) -> Path:
    return home / "vault.db"


def key_path(home: Path) -> Path:
    return home / "vault.key"


def settings_path(home: Path) -> Path:
    return home / "settings.json"


def runtime_path(home: Path) -> Path:
    return home / "server.json"


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
