"""The store builds of the extension (`draftvault extension`), checked by `web-ext lint`,
and the wheel: built by `python -m build`, installed outside the repository into
fresh virtual environments (pip, and pipx / uv when PyPI has them), whose
`draftvault serve` serves the history page and whose `draftvault extension` writes
the extension it carries."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from ports import free_port
from sitepages.base import wait_for

ROOT = Path(__file__).resolve().parents[1]
WEB_EXT = ROOT / "node_modules" / ".bin" / "web-ext"
CONSTRAINTS = ROOT / "constraints.txt"

# What each permission is for, as code that uses it: a permission whose use is gone
# from the extension's code must go from the manifest.
PERMISSION_USES = {
    "storage": r"chrome\.storage\.",
    "alarms": r"chrome\.alarms\.",
    "notifications": r"chrome\.notifications\.",
    "clipboardWrite": r"navigator\.clipboard\.writeText|execCommand\(\"copy\"\)",
    "scripting": r"chrome\.scripting\.",
    "offscreen": r"chrome\.offscreen\.",
}


def dv(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "draftvault", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def build(tmp_path: Path, browser: str, *, as_zip: bool = False) -> Path:
    out = tmp_path / browser
    done = dv("extension", "--out", str(out), "--browser", browser, *(["--zip"] if as_zip else []))
    assert done.returncode == 0, done.stderr
    return next(out.glob("*.zip")) if as_zip else out


def code_of(folder: Path) -> str:
    return "\n".join(p.read_text() for p in folder.rglob("*.js"))


def assert_carries_its_words(folder: Path, manifest: dict) -> None:
    """The build's words are in its _locales (README "Translations"): the manifest's
    __MSG_ names among them."""
    messages = json.loads((folder / "_locales" / manifest["default_locale"] / "messages.json").read_text(encoding="utf-8"))
    named = re.findall(r"__MSG_(\w+)__", json.dumps(manifest))
    assert named and all(n in messages for n in named), named


def test_chrome_build_has_no_development_key_and_only_used_permissions(tmp_path):
    folder = build(tmp_path, "chrome")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "key" not in manifest
    assert manifest["background"]["service_worker"] == "background.js"
    code = code_of(folder)
    unused = [p for p in manifest["permissions"] if p not in PERMISSION_USES or not re.search(PERMISSION_USES[p], code)]
    assert not unused, f"permissions the Chrome build asks for but does not use: {unused}"
    assert (folder / "offscreen" / "offscreen.html").is_file()
    assert not list(folder.rglob("*.md"))
    assert_carries_its_words(folder, manifest)


def test_firefox_build_runs_background_scripts_without_offscreen(tmp_path):
    folder = build(tmp_path, "firefox")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["background"] == {"scripts": ["background.js"], "type": "module"}
    gecko = manifest["browser_specific_settings"]["gecko"]
    assert gecko["id"] and gecko["data_collection_permissions"]["required"] == ["none"]
    assert "offscreen" not in manifest["permissions"] and not (folder / "offscreen").exists()
    assert "key" not in manifest and "minimum_chrome_version" not in manifest
    named = [manifest["options_ui"]["page"], manifest["action"]["default_popup"], *manifest["background"]["scripts"]]
    named += [js for entry in manifest["content_scripts"] for js in entry["js"]] + list(manifest["icons"].values())
    assert [n for n in named if not (folder / n).is_file()] == []
    # Ctrl+Shift+Y opens Firefox's Downloads: Firefox would leave the copy command without a key.
    assert manifest["commands"]["copy-resume-pack"]["suggested_key"]["default"] == "Alt+Shift+Y"
    # Without the offscreen document the background writes the clipboard itself.
    assert "navigator.clipboard.writeText" in (folder / "lib" / "clipboard.js").read_text()
    assert_carries_its_words(folder, manifest)


def test_writing_again_replaces_the_build_and_spares_other_folders(tmp_path):
    folder = build(tmp_path, "firefox")
    (folder / "stale.js").write_text("old")
    again = dv("extension", "--out", str(folder), "--browser", "firefox")
    assert again.returncode == 0 and not (folder / "stale.js").exists()
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8")
    refused = dv("extension", "--out", str(other))
    assert refused.returncode == 2 and "not empty" in refused.stderr and "Traceback" not in refused.stderr
    assert (other / "cat.jpg").exists()
    into_itself = dv("extension", "--out", str(ROOT / "extension"))
    assert into_itself.returncode == 2 and "own files" in into_itself.stderr
    assert (ROOT / "extension" / "manifest.json").is_file()


@pytest.mark.parametrize("browser", ["chrome", "firefox"])
def test_store_zip_passes_web_ext_lint(tmp_path, browser):
    assert WEB_EXT.exists(), "web-ext is not installed: scripts/test runs `npm ci` (package.json)"
    zipped = build(tmp_path, browser, as_zip=True)
    assert zipfile.ZipFile(zipped).read("manifest.json")
    done = subprocess.run([str(WEB_EXT), "lint", "--source-dir", str(zipped), "--output", "json"],
                          capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    assert report["errors"] == [], [(e["code"], e["message"]) for e in report["errors"]]
    assert report["summary"]["errors"] == 0


# ---- the wheel ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """`python -m build` of the repository once per session (sdist, then the wheel from it)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return next(out.glob("draftvault-*.whl"))


def fresh_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(path)
    return path / "bin"


def pip_install(bin_dir: Path, *what: str) -> None:
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS), *what],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def serves_history_page(draftvault: Path, tmp_path: Path) -> None:
    """The installed command's `serve`, run away from the repository, answers and
    serves the history page and its static files; its `extension` writes the extension."""
    import urllib.request

    port = free_port()
    env = {**os.environ, "DRAFTVAULT_HOME": str(tmp_path / "home"), "DRAFTVAULT_PORT": str(port)}
    env.pop("PYTHONPATH", None)
    away = tmp_path / "elsewhere"
    away.mkdir(exist_ok=True)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(draftvault), "serve"], cwd=away, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def get(path):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as res:
                    return res.status, res.read().decode()
            except OSError:
                return None

        wait_for(lambda: proc.poll() is None and get("/api/health"), 60, "the installed draftvault serve")
        status, page = get("/")
        assert status == 200 and "<html" in page.lower()
        scripts = re.findall(r'src="(/static/[^"]+)"', page)
        assert scripts and all(get(s)[0] == 200 for s in scripts)
        out = (tmp_path / "serve.log").read_text()
        assert "Next step: connect your browser" in out
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
    written = subprocess.run([str(draftvault), "extension", "--out", str(away / "ext"), "--browser", "firefox"],
                             cwd=away, env=env, capture_output=True, text=True, timeout=60)
    assert written.returncode == 0, written.stderr
    manifest = json.loads((away / "ext" / "manifest.json").read_text())
    assert manifest["browser_specific_settings"]["gecko"]["id"]
    assert_carries_its_words(away / "ext", manifest)


@pytest.mark.slow
def test_wheel_installs_and_serves_without_a_checkout(wheel, tmp_path):
    bin_dir = fresh_venv(tmp_path / "venv")
    pip_install(bin_dir, str(wheel))
    where = subprocess.run([str(bin_dir / "python"), "-c", "import draftvault.packaging as p; print(p.source_dir())"],
                           cwd=tmp_path, capture_output=True, text=True)
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv"), where  # the wheel's copy, not the checkout's
    serves_history_page(bin_dir / "draftvault", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["pipx", "uv"])
def test_wheel_installs_as_a_tool(wheel, tmp_path, tool):
    """`pipx install` / `uv tool install` of the wheel, each tool itself from PyPI."""
    tools = fresh_venv(tmp_path / "tools")
    pip_install(tools, tool)
    bin_dir = tmp_path / "bin"
    env = {**os.environ, "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(bin_dir),
           "UV_TOOL_DIR": str(tmp_path / "uv-tools"), "UV_TOOL_BIN_DIR": str(bin_dir),
           "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "PIP_CONSTRAINT": str(CONSTRAINTS),
           "UV_CONSTRAINT": str(CONSTRAINTS)}
    cmd = [str(tools / "pipx"), "install", str(wheel)] if tool == "pipx" else [str(tools / "uv"), "tool", "install", str(wheel)]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    serves_history_page(bin_dir / "draftvault", tmp_path)


@pytest.mark.slow
def test_source_distribution_carries_the_extension(wheel):
    sdist = next(wheel.parent.glob("draftvault-*.tar.gz"))
    names = tarfile.open(sdist).getnames()
    assert any(n.endswith("/extension/manifest.json") for n in names)
    assert not any("node_modules" in n for n in names)
