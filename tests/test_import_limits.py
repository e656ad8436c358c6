"""Zip bombs through the CLI and through `POST /api/import` of a real service: refused
with a message naming the file and the place, nothing kept, and the process's peak
memory (its high-water RSS, read from the kernel) stays under 300 MB."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

MB = 1 << 20
PEAK_LIMIT = 300 * MB


def bomb(path: Path, head: bytes, fill: bytes, tail: bytes, size: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("conversations.json", "w", force_zip64=True) as f:
            f.write(head)
            chunk = fill * MB
            for _ in range(size // MB):
                f.write(chunk)
            f.write(tail)
    return path


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    """A 1 GiB title in a 1 MB zip; 1 GiB of white space between conversations."""
    d = tmp_path_factory.mktemp("bombs")
    return {
        "title": bomb(d / "title.zip", b'[{"title": "', b"A", b'", "mapping": {}}]', 1 << 30),
        "whitespace": bomb(d / "whitespace.zip", b"[", b" ", b"]", 1 << 30),
    }


# The huge title passes the record limit before the expansion limit; the white space,
# which is no record, meets the expansion limit.
REFUSAL = {
    "title": r"!conversations\.json: conversation 0 \(byte 1\): larger than 32 MiB, the limit for one conversation",
    "whitespace": r"!conversations\.json: byte \d+: expands past \d+ MiB, over 100 times its compressed size: "
                  "refused as a zip bomb, not an export",
}


# Runs the CLI and writes its own peak RSS (VmHWM) to a file as it exits. Not the
# child's rusage: Linux carries the forking process's high-water mark into ru_maxrss
# across exec, so a child of a large pytest process would report pytest's size.
PEAK_OF_CLI = """
import atexit, runpy, sys
out = sys.argv[1]
def peak():
    with open("/proc/self/status") as status, open(out, "w") as f:
        f.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(peak)
sys.argv = ["draftvault", *sys.argv[2:]]
runpy.run_module("draftvault", run_name="__main__")
"""


@pytest.mark.parametrize("kind", ["title", "whitespace"])
def test_cli_refuses_a_zip_bomb_in_bounded_memory(home, tmp_path, bombs, kind):
    peak = tmp_path / "peak"
    done = subprocess.run([sys.executable, "-c", PEAK_OF_CLI, str(peak), "import", "chatgpt-export", str(bombs[kind])],
                          capture_output=True, text=True)
    out, err = done.stdout, done.stderr
    assert done.returncode == 2, (out, err)
    assert int(peak.read_text()) * 1024 < PEAK_LIMIT  # VmHWM is in KiB
    assert re.fullmatch(f"Error: {re.escape(str(bombs[kind]))}{REFUSAL[kind]}; nothing was imported\n+", err), err
    assert "0 conversations" not in out


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.parametrize("kind", ["title", "whitespace"])
def test_api_refuses_a_zip_bomb_in_bounded_memory(server, bombs, kind):
    res = server.request("POST", "/api/import", params={"name": "export.zip"}, data=bombs[kind].read_bytes(),
                         headers={"Content-Type": "application/zip"})
    assert res.status == 400, res.body
    assert re.fullmatch(r"export\.zip" + REFUSAL[kind], res.json()["detail"]), res.json()
    assert peak_rss(server.proc.pid) < PEAK_LIMIT
    assert server.api("GET", "/api/conversations")["items"] == []
    assert not [p for p in server.home.iterdir() if p.name.startswith(".import-")]  # the upload is gone


def test_an_upload_left_by_a_stopped_service_is_removed_at_start(server):
    server.stop()
    left = server.home / ".import-abc123"
    left.write_bytes(b"[plaintext of an export]")
    server.start()
    assert not left.exists()
