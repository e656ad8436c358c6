"""The extension as files: a loadable MV3 manifest, every script parses, every
permission is justified, captured text never meets innerHTML, and the outbox's
snapshot folding (run under Node) gives frames the service accepts."""

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from draftvault import protocol

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "extension"
EXAMPLES = ROOT / "shared_schema" / "examples" / "valid"
MANIFEST = json.loads((EXT / "manifest.json").read_text())
NODE = shutil.which("node") or "node"  # Node.js (v20 on the test machines)
EXTENSION_ID = "chplhlmlobckblhjmicoamkpblapcgpg"


def content_script_files() -> set[Path]:
    return {EXT / js for entry in MANIFEST.get("content_scripts", []) for js in entry["js"]}


def test_manifest_is_mv3_with_the_stable_id():
    assert MANIFEST["manifest_version"] == 3
    assert MANIFEST["background"] == {"service_worker": "background.js", "type": "module"}
    # Chromium's id of an unpacked extension: sha256 of its public key, first 16
    # bytes, hex digits mapped 0-f -> a-p.
    digest = hashlib.sha256(base64.b64decode(MANIFEST["key"])).hexdigest()[:32]
    assert "".join(chr(ord("a") + int(c, 16)) for c in digest) == EXTENSION_ID


def test_every_file_the_manifest_names_exists():
    named = [MANIFEST["background"]["service_worker"], MANIFEST["action"]["default_popup"], MANIFEST["options_page"]]
    named += list(MANIFEST["icons"].values()) + list(MANIFEST["action"]["default_icon"].values())
    named += [str(p.relative_to(EXT)) for p in content_script_files()]
    missing = [n for n in named if not (EXT / n).is_file()]
    assert not missing, f"the manifest names missing files (Chromium refuses to load it): {missing}"


def test_keyboard_shortcut_copies_the_pack():
    command = MANIFEST["commands"]["copy-resume-pack"]
    assert command["suggested_key"]["default"]
    assert "copy-resume-pack" in (EXT / "background.js").read_text()


def test_every_permission_is_justified_in_the_extension_readme():
    readme = (EXT / "README.md").read_text()
    wanted = MANIFEST["permissions"] + MANIFEST["host_permissions"] + MANIFEST.get("optional_host_permissions", [])
    unjustified = [p for p in wanted if f"`{p}`" not in readme]
    assert not unjustified, f"extension/README.md does not justify: {unjustified}"


def js_files():
    return sorted(p for p in EXT.rglob("*.js"))


PAGE_SCRIPTS = ROOT / "server" / "draftvault" / "web" / "static"


def test_no_extension_or_page_script_is_over_450_lines():
    # The project's size rule: a longer script is doing more than one job.
    scripts = js_files() + sorted(PAGE_SCRIPTS.rglob("*.js"))
    long = {str(p.relative_to(ROOT)): n for p in scripts if (n := len(p.read_text().splitlines())) > 450}
    assert not long, f"scripts over 450 lines (split them by job): {long}"


@pytest.mark.parametrize("path", js_files(), ids=lambda p: str(p.relative_to(EXT)))
def test_script_parses(path):
    # Content scripts listed in the manifest are classic scripts; everything else is
    # an ES module (service worker, popup, options, lib/, sites/, modules loaded by import()).
    kind = [] if path in content_script_files() else ["--experimental-default-type=module"]
    done = subprocess.run([NODE, *kind, "--check", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_message_names_live_in_the_message_table_only():
    # Every part imports the names from lib/messages.js: a name spelled anywhere else
    # is one the table (and its reader) does not know.
    table = (EXT / "lib" / "messages.js").read_text()
    names = set(re.findall(r'"(dv:[a-z-]+)"', table))
    assert len(names) == len(re.findall(r'"dv:[a-z-]+"', table)), "a message name is listed twice"
    elsewhere = [str(p.relative_to(EXT)) for p in js_files()
                 if p.name != "messages.js" and re.search(r"[\"'`]dv:[a-z-]+", p.read_text())]
    assert not elsewhere, f"message names spelled outside lib/messages.js: {elsewhere}"


def test_main_world_bridge_speaks_the_tables_words():
    # mainworld.js is a classic script (it cannot import lib/messages.js): what it
    # posts must be what signals.js accepts.
    bridge = run_module("lib/messages.js", "MAIN_WORLD", "arg && MAIN_WORLD", True)
    script = (EXT / "content" / "mainworld.js").read_text()
    assert f'const SOURCE = "{bridge["source"]}";' in script
    assert f'const WANT_SOURCE = "{bridge["want"]}";' in script
    assert set(re.findall(r'event: "([a-z_]+)"', script)) == {*bridge["events"], bridge["conversation"]}


def test_attachment_parts_are_the_size_the_service_takes():
    """The service takes parts of exactly protocol.ATTACHMENT_PART_BYTES (the last: the rest)."""
    js = (EXT / "content" / "attachments.js").read_text()
    [expr] = re.findall(r"^const PART_BYTES = ([\d *]+);", js, re.M)
    assert eval(expr) == protocol.ATTACHMENT_PART_BYTES  # digits and * only


@pytest.mark.parametrize("folder", ["popup", "options"])
def test_ui_never_uses_innerhtml(folder):
    # Captured text is untrusted: the UI puts it in the page with textContent only.
    for path in (EXT / folder).glob("*.js"):
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", path.read_text()), path


def run_module(module: str, name: str, expression: str, arg):
    """Import `name` from extension/`module` under Node (chrome.i18n there in English:
    tests/node/chrome-i18n.mjs), evaluate `expression` with `arg` (JSON) bound, and
    return its JSON value."""
    script = (
        f"import {json.dumps((ROOT / 'tests' / 'node' / 'chrome-i18n.mjs').as_uri())};\n"
        f"import {{ {name} }} from {json.dumps((EXT / module).as_uri())};\n"
        "const arg = JSON.parse(process.argv[1]);\n"
        f"process.stdout.write(JSON.stringify({expression}));\n"
    )
    done = subprocess.run([NODE, "--input-type=module", "-e", script, json.dumps(arg)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def compose(frames: list[dict]) -> dict:
    return run_module("lib/outbox.js", "composeSnapshots", "arg.reduce((a, b) => composeSnapshots(a, b))", frames)


@pytest.mark.parametrize(
    "status, text",
    [
        ({"state": "connected", "queued": 0, "failures": 0}, ""),
        ({"state": "offline", "queued": 14, "failures": 0}, "14"),
        ({"state": "connected", "queued": 2500, "failures": 0}, "2k"),
        ({"state": "unpaired", "queued": 0, "failures": 0}, "!"),
        ({"state": "connected", "queued": 3, "failures": 1}, "!"),
    ],
)
def test_badge_shows_connected_queued_unpaired_and_failure(status, text):
    badge = run_module("lib/badge.js", "badgeFor", "badgeFor(arg)", status)
    assert badge["text"] == text
    if status["failures"]:
        assert badge["color"] == "#d93025" and "failed session" in badge["title"]
    elif status["state"] == "unpaired":
        assert "not paired" in badge["title"]


def test_outbox_folds_a_full_snapshot_and_its_deltas_into_one_valid_frame():
    full = json.loads((EXAMPLES / "snapshot-full.json").read_text())
    delta = json.loads((EXAMPLES / "snapshot-delta-draft.json").read_text())
    answer = {**delta, "seq": delta["seq"] + 1, "turn_count": 3, "turns_from": 2, "draft": "",
              "turns": [{"index": 2, "role": "assistant", "text": "Use `reverse=True`."}]}
    merged = compose([full, delta, answer])
    frame = protocol.decode_client_frame(json.dumps(merged))
    assert frame.seq == answer["seq"] and frame.turns_from == 0 and frame.turn_count == 3
    assert [t.text for t in frame.turns] == [t["text"] for t in full["turns"]] + ["Use `reverse=True`."]
    assert frame.draft == "" and frame.title == full["title"]


def test_outbox_fold_keeps_the_newest_draft_and_an_edit_that_cut_turns():
    full = json.loads((EXAMPLES / "snapshot-full.json").read_text())
    edit = {**full, "seq": full["seq"] + 1, "turn_count": 1, "turns_from": 0, "turns": full["turns"][:1],
            "draft": "newest draft"}
    del edit["title"]
    merged = protocol.decode_client_frame(json.dumps(compose([full, edit])))
    assert merged.turn_count == 1 and len(merged.turns) == 1
    assert merged.draft == "newest draft" and merged.title == full["title"]


def test_outbox_does_not_fold_a_delta_that_skips_turns():
    full = json.loads((EXAMPLES / "snapshot-full.json").read_text())
    gap = {**full, "seq": full["seq"] + 1, "turns_from": 5, "turn_count": 6,
           "turns": [{"index": 5, "role": "user", "text": "x"}]}
    assert compose([full, gap]) is None


def draft(text):
    return {"text": text, "updated_at": "2026-11-23T08:00:00.000+00:00"}


@pytest.mark.parametrize(
    "detail, restored",
    [
        ({"draft": draft("current"), "drafts": [draft("current")], "turns": []}, "current"),
        # the page was reloaded after the failure: its empty composer came in last
        ({"draft": draft(""), "drafts": [draft(""), draft("lost words"), draft("lost")], "turns": []}, "lost words"),
        # the draft was sent: nothing to restore, not even an older prefix of it
        ({"draft": draft(""), "drafts": [draft(""), draft("hello world"), draft("hello wor")],
          "turns": [{"index": 0, "role": "user", "text": "hello world"}]}, None),
        ({"draft": None, "drafts": [], "turns": []}, None),
    ],
)
def test_restore_draft_picks_the_unsent_draft(detail, restored):
    assert run_module("lib/drafts.js", "unsentDraft", "unsentDraft(arg)", detail) == restored
