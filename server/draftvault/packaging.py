"""Writes the browser extension for a store: a folder or a zip, for Chrome or Firefox.

The extension's sources are kept once (`extension/`, loaded unpacked in development);
the wheel carries a copy as `draftvault/extension/` (setup.py). A store build differs
from the development folder only in its manifest (and Firefox leaves out the offscreen
document it cannot use):

- Chrome: without the development `key` (the store assigns the id; the service
  accepts any extension's pairing and then binds the token to that extension), plus
  the Firefox keys below that Chrome ignores (so `web-ext lint` passes it too).
- Firefox: `background.scripts` instead of `service_worker` (Firefox runs the
  background as an event page, with a DOM, so lib/clipboard.js writes the clipboard
  itself and there is no `offscreen` permission), `browser_specific_settings.gecko`
  with an id, the first ESR that has everything used (`world: MAIN` content scripts,
  `storage.session`, `data_collection_permissions`), and `data_collection_permissions`
  `none`: what the extension captures goes only to the DraftVault service on this
  computer (127.0.0.1), never off the device. `options_ui` instead of `options_page`;
  a `content_security_policy` without Firefox's default upgrade-insecure-requests;
  the copy shortcut on Alt+Shift+Y (Ctrl+Shift+Y is Firefox's Downloads).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Literal

Browser = Literal["chrome", "firefox"]

GECKO_ID = "draftvault@draftvault.app"
GECKO_MIN_VERSION = "140.0"  # 140 ESR: data_collection_permissions, world MAIN, storage.session
FIREFOX_LEAVES_OUT = ("offscreen",)  # files and permissions of what Firefox has no API for
FIREFOX_SHORTCUT = "Alt+Shift+Y"
FIREFOX_CSP = "script-src 'self'; object-src 'self'"
SKIP = shutil.ignore_patterns("*.md", ".*", "__pycache__")


class PackagingError(Exception):
    """The extension could not be written; the message says why."""


def source_dir() -> Path:
    """The extension's files: the wheel's copy, else the checkout's `extension/`."""
    packaged = Path(__file__).with_name("extension")
    if (packaged / "manifest.json").is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "extension"
    if (checkout / "manifest.json").is_file():
        return checkout
    raise PackagingError("this installation of draftvault carries no extension files (reinstall the package)")


def manifest_for(manifest: dict, browser: Browser) -> dict:
    """The development manifest made into the store manifest for `browser`."""
    out = {k: v for k, v in manifest.items() if k != "key"}
    worker = manifest["background"]["service_worker"]
    # Both builds carry Firefox's keys: Chrome (121+) ignores `background.scripts`
    # beside `service_worker` and the gecko settings, and web-ext lint wants them.
    out["background"] = {**manifest["background"], "scripts": [worker]}
    out["browser_specific_settings"] = {
        "gecko": {
            "id": GECKO_ID,
            "strict_min_version": GECKO_MIN_VERSION,
            "data_collection_permissions": {"required": ["none"]},
        }
    }
    if browser == "chrome":
        return out
    out.pop("minimum_chrome_version", None)
    out["background"] = {"scripts": [worker], "type": "module"}
    out["permissions"] = [p for p in manifest["permissions"] if p not in FIREFOX_LEAVES_OUT]
    out.pop("options_page", None)
    out["options_ui"] = {"page": manifest["options_page"], "open_in_tab": True}
    # Firefox's default MV3 policy adds upgrade-insecure-requests, which turns the
    # WebSocket to ws://127.0.0.1 into wss:// (the service speaks no TLS: it is loopback).
    out["content_security_policy"] = {"extension_pages": FIREFOX_CSP}
    # Ctrl+Shift+Y is Firefox's own Downloads shortcut on Linux and Windows, so Firefox
    # would leave the command without one.
    out["commands"] = {
        name: {**command, "suggested_key": {**command["suggested_key"], "default": FIREFOX_SHORTCUT}}
        if "suggested_key" in command else command
        for name, command in manifest.get("commands", {}).items()
    }
    return out


def write_extension(out: Path, browser: Browser = "chrome", *, as_zip: bool = False) -> Path:
    """Writes the extension for `browser` into the folder `out` (made if missing; its
    old contents replaced), or with `as_zip` the zip `out/draftvault-<browser>-<version>.zip`.
    Returns the folder or the zip written."""
    src = source_dir()
    if out.resolve() == src.resolve() or src.resolve().is_relative_to(out.resolve()):
        raise PackagingError(f"{out} holds the extension's own files: choose another folder")
    manifest = manifest_for(json.loads((src / "manifest.json").read_text(encoding="utf-8")), browser)
    leave_out = FIREFOX_LEAVES_OUT if browser == "firefox" else ()
    files = sorted(
        p for p in src.rglob("*")
        if p.is_file() and p.name != "manifest.json" and not SKIP(str(p.parent), [p.name])
        and p.relative_to(src).parts[0] not in leave_out
    )
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    try:
        out.mkdir(parents=True, exist_ok=True)
        if as_zip:
            target = out / f"draftvault-{browser}-{manifest['version']}.zip"
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("manifest.json", manifest_bytes)
                for p in files:
                    z.write(p, p.relative_to(src).as_posix())
            return target
        if any(out.iterdir()) and not (out / "manifest.json").is_file():
            raise PackagingError(f"{out} is not empty and holds no extension: choose an empty folder")
        for old in out.iterdir():
            shutil.rmtree(old) if old.is_dir() else old.unlink()
        for p in files:
            dest = out / p.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
        (out / "manifest.json").write_bytes(manifest_bytes)
        return out
    except OSError as e:
        raise PackagingError(f"cannot write {out}: {e.strerror or e}") from None
