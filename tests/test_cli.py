"""The `draftvault` command, run as a user runs it (a subprocess), on a real vault."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from draftvault import config, protocol
from draftvault.store import Vault
from sitepages.base import REAL_FIXTURES

REAL = REAL_FIXTURES / "chatgpt-export"


def dv(*args: str, input: str | None = None, env: dict | None = None, check: bool = True,
       python: bool = False) -> subprocess.CompletedProcess:
    """`draftvault ARGS` (python=True: `python ARGS`)."""
    command = [sys.executable, *args] if python else [sys.executable, "-m", "draftvault", *args]
    done = subprocess.run(command, input=input, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)
    if check:
        assert done.returncode == 0, (args, done.returncode, done.stdout, done.stderr)
    return done


def seed(home: Path) -> list[str]:
    vault = Vault.open(home)
    try:
        for seq, (conv, title, turns) in enumerate([
            ("c-cli-1", "Bread", [("user", "How long should sourdough proof?"), ("assistant", "Overnight, in the fridge.")]),
            ("c-cli-2", "Bikes", [("user", "Chain keeps slipping"), ("assistant", "Check the derailleur.")]),
        ], start=1):
            vault.apply("client-cli-1", protocol.Snapshot(
                seq=seq, page_id=f"page-cli-{seq:04}", conversation_id=conv, site="chatgpt", url=f"https://chatgpt.com/c/{conv}",
                turn_count=len(turns), turns_from=0, title=title,
                turns=[protocol.Turn(index=i, role=r, text=t) for i, (r, t) in enumerate(turns)],
            ))
        return [c.id for c in sorted(vault.list_conversations(), key=lambda c: c.title)]
    finally:
        vault.close()


def test_status(home, server):
    out = dv("status").stdout
    assert f"vault: {config.db_path(home)}" in out
    assert "conversations: 0" in out
    assert re.search(rf"service: running, pid {server.proc.pid} on 127\.0\.0\.1:{server.port}", out)
    second = dv("serve", "--port", str(server.port + 1), check=False)
    assert second.returncode == 2, second.stderr
    assert f"already running on this vault: pid {server.proc.pid}, port {server.port}" in second.stderr
    assert "Traceback" not in second.stderr
    server.stop()
    seed(home)
    out = dv("status").stdout
    assert "conversations: 2" in out and "service: not running" in out
    assert re.search(r"size: [1-9]\d* bytes", out)


def test_light_commands_do_not_load_the_web_stack(home, server):
    for args in (["status"], ["pair"], ["token", "list"], ["search", "anything"]):
        imports = dv("-X", "importtime", "-m", "draftvault", *args, python=True).stderr
        loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in imports.splitlines() if "|" in line}
        assert "draftvault" in loaded and not loaded & {"litestar", "uvicorn"}, args


def test_status_before_any_vault(home):
    assert "none yet" in dv("status").stdout
    assert not config.db_path(home).exists()


def test_search_json(home):
    ids = seed(home)
    hits = json.loads(dv("search", "sourdough", "--json").stdout)
    assert hits == [{"conversation": ids[1], "title": "Bread", "snippet": hits[0]["snippet"]}]
    assert "sourdough" in hits[0]["snippet"].lower()
    assert json.loads(dv("search", "nothingmatches", "--json").stdout) == []
    assert "Bikes" in dv("search", "derailleur").stdout
    nothing = dv("search", "nothingmatches")
    assert nothing.stdout == "" and "Nothing saved matches 'nothingmatches'." in nothing.stderr


def test_tokens(home, server):
    token = dv("token", "create", "--name", "backup-script").stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", token)
    assert server.request("GET", "/api/conversations", token=token).status == 200
    listing = dv("token", "list").stdout
    assert "backup-script" in listing and token not in listing
    assert "revoked" in dv("token", "revoke", "backup-script").stdout
    assert server.request("GET", "/api/conversations", token=token).status == 401
    assert "backup-script" not in dv("token", "list").stdout
    gone = dv("token", "revoke", "backup-script", check=False)
    assert gone.returncode == 2 and "no live token" in gone.stderr


def test_pair_prints_a_code():
    assert re.fullmatch(r"[A-Z0-9]{3}-[A-Z0-9]{3}\n", dv("pair").stdout)


def test_verify_clean_then_after_tampering(home):
    ids = seed(home)
    out = dv("verify").stdout
    assert re.search(r"checked [1-9]\d* records, 0 bad", out)
    with sqlite3.connect(config.db_path(home)) as db:
        (bid,) = db.execute(
            "SELECT t.bid FROM turns t JOIN conversations c USING (cid) WHERE c.id=? AND t.idx=0", (ids[0],)
        ).fetchone()
        db.execute("UPDATE blobs SET data = x'00' || substr(data, 2) WHERE bid=?", (bid,))
    done = dv("verify", check=False)
    assert done.returncode == 1
    assert f"BAD turn 0 of conversation {ids[0]}" in done.stdout
    assert ids[1] not in done.stdout  # the other conversation is fine
    assert "Traceback" not in done.stderr


def test_a_damaged_search_index_is_reported_and_rebuilt(home):
    ids = seed(home)
    assert json.loads(dv("search", "derailleur", "--json").stdout)[0]["conversation"] == ids[0]  # "Bikes"
    with sqlite3.connect(config.db_path(home)) as db:
        db.execute("UPDATE postings SET data = x'00' || substr(data, 2)")
    done = dv("verify", check=False)
    assert done.returncode == 1 and "BAD search index segment" in done.stdout
    assert "draftvault verify --reindex" in done.stdout
    assert json.loads(dv("search", "derailleur", "--json").stdout) == []  # nothing found, nothing crashed
    assert "search index rebuilt" in dv("verify", "--reindex", check=False).stdout
    assert re.search(r"checked \d+ records, 0 bad", dv("verify").stdout)
    assert json.loads(dv("search", "derailleur", "--json").stdout)[0]["conversation"] == ids[0]  # "Bikes"


def test_export(home, tmp_path):
    ids = seed(home)
    md = dv("export", ids[1]).stdout
    assert md.startswith("---") and "How long should sourdough proof?" in md
    js = json.loads(dv("export", "--format", "json", ids[0]).stdout)
    assert "Chain keeps slipping" in json.dumps(js)
    out = tmp_path / "all.zip"
    assert "exported 2 conversations" in dv("export", "--out", str(out)).stdout
    with zipfile.ZipFile(out) as zf:
        assert len(zf.namelist()) == 2
    assert out.stat().st_mode & 0o777 == 0o600  # the vault's plaintext
    one = tmp_path / "one.md"
    one.write_text("")
    one.chmod(0o644)
    dv("export", "--out", str(one), ids[0])
    assert one.stat().st_mode & 0o777 == 0o600 and "Chain keeps slipping" in one.read_text()
    assert dv("export", "nope", check=False).returncode == 2
    # A place the export cannot be written: that place named, not advice about the vault's directory
    done = dv("export", "--out", str(tmp_path / "no" / "such" / "dir" / "all.zip"), check=False)
    assert done.returncode == 2 and done.stderr.strip() == f"Error: cannot use {tmp_path / 'no' / 'such' / 'dir' / 'all.zip'}: " \
        "No such file or directory"


def test_import_chatgpt_export(home, tmp_path):
    out = dv("import", "chatgpt-export", str(REAL / "chatgpt-tree.json")).stdout
    assert "1 conversations: 1 new" in out
    bad = tmp_path / "conversations.json"
    bad.write_text('{"not": "an export"}')
    done = dv("import", "chatgpt-export", str(bad), check=False)
    assert done.returncode == 2 and "conversations.json" in done.stderr and "Traceback" not in done.stderr


def test_import_claude_and_gemini(home, tmp_path):
    out = dv("import", "claude-export", str(REAL.parent / "claude-export" / "artifacts.json")).stdout
    assert out == ("1 conversations: 1 new, 0 updated, 0 unchanged; 20 turns\n"
                   "10 thinking blocks kept apart from the answers' text\n")
    takeout = tmp_path / "My Activity.json"
    takeout.write_text(json.dumps([
        {"header": "Gemini Apps", "title": "Prompted Name a blue fruit", "time": "2025-01-01T10:05:00Z",
         "safeHtmlItem": [{"html": "<p>A <em>blueberry</em>.</p>"}]},
        {"header": "Gemini Apps", "title": "Prompted Name a red fruit", "time": "2025-01-01T10:00:00Z",
         "safeHtmlItem": [{"html": "<p>A cherry.</p>"}]},
    ]))
    out = dv("import", "gemini-takeout", str(takeout)).stdout
    assert out.startswith("1 conversations: 1 new, 0 updated, 0 unchanged; 4 turns\n2 prompts grouped into")
    assert "blueberry" in dv("search", "blueberry").stdout
    done = dv("import", "gemini-takeout", str(REAL / "chatgpt-tree.json"), check=False)
    assert done.returncode == 2 and "chatgpt-tree.json: entry 0 (byte 4): Object missing required field `time`" in done.stderr
    assert "Traceback" not in done.stderr
    done = dv("import", "gemini-takeout", str(REAL.parent / "claude-export" / "LICENSE"), check=False)
    assert done.returncode == 2 and "expected a JSON array of entries" in done.stderr


def test_passphrase_set_use_wrong_and_remove(home):
    seed(home)
    dv("passphrase", "set", input="correct horse\ncorrect horse\n")
    assert json.loads(dv("search", "sourdough", "--json", env={"DRAFTVAULT_PASSPHRASE": "correct horse"}).stdout)
    wrong = dv("verify", env={"DRAFTVAULT_PASSPHRASE": "wrong"}, check=False)
    assert wrong.returncode == 2
    assert "wrong passphrase" in wrong.stderr.lower() and "Traceback" not in wrong.stderr
    served = dv("serve", "--port", "1", env={"DRAFTVAULT_PASSPHRASE": "wrong"}, check=False)
    assert served.returncode == 2 and "Traceback" not in served.stderr
    dv("passphrase", "remove", env={"DRAFTVAULT_PASSPHRASE": "correct horse"})
    assert "0 bad" in dv("verify").stdout


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["token", "--help"], ["import", "--help"]])
def test_help(args):
    assert "Usage" in dv(*args).stdout
