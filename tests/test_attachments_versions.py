"""Images and files follow the text they were seen with (store/attachments.py, versions.py): over the
real WebSocket, a regenerated answer's images stay with the earlier version and the new answer shows
only its own; an edit of an earlier prompt takes the tail's images into its branch; deleting a branch
deletes its links (and the files nothing else shows); exports and resume packs put each version's
files with it; a new chat joining a conversation renumbers its versions' links; a vault from before
migration 7 reads its links unchanged."""

from __future__ import annotations

import io
import re
import urllib.parse
import zipfile

import msgspec

import frames
from draftvault import protocol
from draftvault.store import Vault, migrations
from tabs import raw
from test_attachments import detail, rows, send_all

OLD_PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"the old answer's picture"
NEW_PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"the new answer's picture"
USER_PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"the person's photo"
QUESTION = ("user", "Draw me a lighthouse")


def names(turn: dict) -> list[str]:
    return [a["name"] for a in turn.get("attachments", [])]


def by_index(turns: list[dict]) -> dict[int, list[str]]:
    return {t["index"]: names(t) for t in turns}


def download(server, turn: dict, name: str) -> bytes:
    [a] = [a for a in turn["attachments"] if a["name"] == name]
    res = server.request("GET", f"/api/attachments/{a['id']}")
    assert res.status == 200
    return res.body


def regenerated(server) -> dict:
    """A conversation whose answer 1 showed old.png, regenerated into an answer showing new.png."""
    with server.connect() as (ws, _):
        assert send_all(ws, [frames.snapshot(1, [QUESTION, ("assistant", "Here is a lighthouse at dusk.")])]) == [
            protocol.Ack(seq=1)]
        send_all(ws, frames.attachment(2, OLD_PNG, turn=1, name="old.png", key="k-old"))
        assert send_all(ws, [frames.snapshot(3, [QUESTION, ("assistant", "Here is a lighthouse in a storm.")])]) == [
            protocol.Ack(seq=3)]
        send_all(ws, frames.attachment(4, NEW_PNG, turn=1, name="new.png", key="k-new"))
    return detail(server)


BOAT_CHAT = [QUESTION, ("assistant", "A lighthouse."), ("user", "Now with my boat in it"), ("assistant", "Your boat, added.")]


def boat_chat(ws) -> None:
    """Four turns (seq 1-3), the person's photo under prompt 2 and the answer's picture under turn 3."""
    send_all(ws, [frames.snapshot(1, BOAT_CHAT)])
    send_all(ws, frames.attachment(2, USER_PNG, turn=2, name="boat.png", key="b"))
    send_all(ws, frames.attachment(3, NEW_PNG, turn=3, name="with-boat.png", key="c"))


def test_a_regenerated_answer_shows_its_own_image_and_the_earlier_version_keeps_the_old(server):
    conv = regenerated(server)
    assert [t["text"] for t in conv["turns"]] == [QUESTION[1], "Here is a lighthouse in a storm."]
    assert names(conv["turns"][1]) == ["new.png"] and names(conv["turns"][0]) == []
    [earlier] = conv["branches"]
    assert earlier["reason"] == "regenerated" and [t["text"] for t in earlier["turns"]] == ["Here is a lighthouse at dusk."]
    assert names(earlier["turns"][0]) == ["old.png"]
    assert download(server, conv["turns"][1], "new.png") == NEW_PNG
    assert download(server, earlier["turns"][0], "old.png") == OLD_PNG

    # Regenerated again, the page showing the same picture as the answer before: its bytes are stored once.
    with server.connect() as (ws, _):
        send_all(ws, [frames.snapshot(5, [QUESTION, ("assistant", "Here is a lighthouse by night.")])])
        send_all(ws, frames.attachment(6, NEW_PNG, turn=1, name="new.png", key="k-again"))
    conv = detail(server)
    assert names(conv["turns"][1]) == ["new.png"]
    assert [(b["turns"][0]["text"], names(b["turns"][0])) for b in conv["branches"]] == [
        ("Here is a lighthouse at dusk.", ["old.png"]), ("Here is a lighthouse in a storm.", ["new.png"])]
    assert (rows(server, "attachments"), rows(server, "attachment_links")) == (2, 3)

    server.api("DELETE", f"/api/conversations/{conv['id']}")
    assert (rows(server, "attachments"), rows(server, "attachment_parts"), rows(server, "attachment_links")) == (0, 0, 0)


def test_an_edit_of_an_earlier_prompt_takes_the_tails_images_into_its_branch_and_deleting_it_deletes_them(server):
    """The edited prompt keeps its photo (the site keeps a prompt's files through an edit; the
    extension sends a file once a page); the earlier version shows it too."""
    with server.connect() as (ws, _):
        boat_chat(ws)
        send_all(ws, frames.attachment(4, OLD_PNG, turn=1, name="lighthouse.png", key="a"))
        # The person edits prompt 2: the page shows three turns, the edited prompt last.
        assert send_all(ws, [frames.snapshot(5, [("user", "Now with a whale in it")], turns_from=2)]) == [
            protocol.Ack(seq=5)]
    conv = detail(server)
    assert by_index(conv["turns"]) == {0: [], 1: ["lighthouse.png"], 2: ["boat.png"]}
    [branch] = conv["branches"]
    assert branch["reason"] == "edited" and by_index(branch["turns"]) == {2: ["boat.png"], 3: ["with-boat.png"]}
    assert download(server, branch["turns"][1], "with-boat.png") == NEW_PNG

    server.api("DELETE", f"/api/conversations/{conv['id']}/branches/{branch['id']}")
    after = detail(server)
    assert after["branches"] == [] and by_index(after["turns"]) == {0: [], 1: ["lighthouse.png"], 2: ["boat.png"]}
    gone = [a["id"] for t in branch["turns"] for a in t["attachments"] if a["name"] == "with-boat.png"]
    assert [server.request("GET", f"/api/attachments/{id}").status for id in gone] == [404]
    assert download(server, after["turns"][1], "lighthouse.png") == OLD_PNG
    assert download(server, after["turns"][2], "boat.png") == USER_PNG
    assert (rows(server, "attachments"), rows(server, "attachment_parts"), rows(server, "attachment_links")) == (2, 2, 2)


def test_an_earlier_version_shown_again_shows_its_image_again(server):
    regenerated(server)
    with server.connect() as (ws, _):  # the page's "‹ 1 / 2": the first answer again; its image was sent once
        assert send_all(ws, [frames.snapshot(5, [QUESTION, ("assistant", "Here is a lighthouse at dusk.")])]) == [
            protocol.Ack(seq=5)]
    conv = detail(server)
    assert names(conv["turns"][1]) == ["old.png"] and download(server, conv["turns"][1], "old.png") == OLD_PNG
    assert [(b["turns"][0]["text"], names(b["turns"][0])) for b in conv["branches"]] == [
        ("Here is a lighthouse at dusk.", ["old.png"]), ("Here is a lighthouse in a storm.", ["new.png"])]


def test_an_edit_switched_back_shows_the_tails_images_again(server):
    with server.connect() as (ws, _):
        boat_chat(ws)
        send_all(ws, [frames.snapshot(4, [("user", "Now with a whale in it"), ("assistant", "A whale.")], turns_from=2)])
        assert by_index(detail(server)["turns"]) == {0: [], 1: [], 2: ["boat.png"], 3: []}
        send_all(ws, [frames.snapshot(5, [QUESTION, ("assistant", "A lighthouse."), ("user", "Now with my boat in it")],
                                      turn_count=3)])
        send_all(ws, [frames.snapshot(6, [("assistant", "Your boat, added.")], turns_from=3)])
    conv = detail(server)
    assert [t["text"] for t in conv["turns"]] == [text for _, text in BOAT_CHAT]
    assert by_index(conv["turns"]) == {0: [], 1: [], 2: ["boat.png"], 3: ["with-boat.png"]}


def test_an_answer_whose_text_gains_its_images_placeholder_keeps_its_image(server):
    """The page rendered the picture after the text was captured: the text that replaces the old one
    contains it, so the answer still shows its picture (the earlier version keeps a copy)."""
    with server.connect() as (ws, _):
        send_all(ws, [frames.snapshot(1, [QUESTION, ("assistant", "Here is yours:")])])
        send_all(ws, frames.attachment(2, NEW_PNG, turn=1, name="yours.png"))
        send_all(ws, [frames.snapshot(3, [QUESTION, ("assistant", "Here is yours:\n\n[Image: Generated image]")])])
    conv = detail(server)
    assert names(conv["turns"][1]) == ["yours.png"] and download(server, conv["turns"][1], "yours.png") == NEW_PNG
    assert [names(t) for b in conv["branches"] for t in b["turns"]] == [["yours.png"]]
    assert (rows(server, "attachments"), rows(server, "attachment_links")) == (1, 2)


def answer_regenerated(server, first: str, name: str, second: str, *, shown_again: bool = False) -> dict:
    """Answer `first` showing OLD_PNG as `name`, regenerated into `second` (showing the same picture
    again when `shown_again`); the conversation's detail."""
    with server.connect() as (ws, _):
        send_all(ws, [frames.snapshot(1, [QUESTION, ("assistant", first)])])
        send_all(ws, frames.attachment(2, OLD_PNG, turn=1, name=name))
        send_all(ws, [frames.snapshot(3, [QUESTION, ("assistant", second)])])
        if shown_again:
            send_all(ws, frames.attachment(4, OLD_PNG, turn=1, name=name, key="k2"))
    return detail(server)


def test_deleting_a_version_keeps_a_file_another_version_still_shows(server):
    conv = answer_regenerated(server, "First try.", "same.png", "Second try.", shown_again=True)
    [branch] = conv["branches"]
    server.api("DELETE", f"/api/conversations/{conv['id']}/branches/{branch['id']}")
    assert download(server, detail(server)["turns"][1], "same.png") == OLD_PNG
    assert (rows(server, "attachments"), rows(server, "attachment_links")) == (1, 1)


def test_an_image_only_answer_that_is_regenerated_is_kept_with_its_image(server):
    conv = answer_regenerated(server, "", "only.png", "Words this time.")
    assert names(conv["turns"][1]) == []
    [branch] = conv["branches"]
    assert [(t["text"], names(t)) for t in branch["turns"]] == [("", ["only.png"])]


def test_exports_put_each_versions_files_with_it_and_packs_use_the_current_threads(server):
    conv = regenerated(server)
    body = server.api("POST", "/api/export", json={"ids": [conv["id"]]})
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        [note] = [n for n in zf.namelist() if n.endswith(".md")]
        md = zf.read(note).decode()
        current, callout = md.split("> [!note]- Earlier version")
        [new] = re.findall(r"!\[new\.png\]\(([^)]+)\)", current)
        [old] = re.findall(r"^> !\[old\.png\]\(([^)]+)\)", callout, re.M)  # inside the collapsed callout
        assert "old.png" not in current and "new.png" not in callout
        assert zf.read(urllib.parse.unquote(new)) == NEW_PNG and zf.read(urllib.parse.unquote(old)) == OLD_PNG
    body = server.api("POST", "/api/export", json={"ids": [conv["id"]], "format": "json"})
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        [doc] = [msgspec.json.decode(zf.read(n)) for n in zf.namelist() if n.endswith(".json")]
        assert names(doc["turns"][1]) == ["new.png"] and names(doc["branches"][0]["turns"][0]) == ["old.png"]
        assert sorted(zf.read(n) for n in zf.namelist() if n.startswith("attachments/")) == sorted([NEW_PNG, OLD_PNG])
    pack = server.api("GET", f"/api/conversations/{conv['id']}/resume",
                      params={"target": "claude", "replaced": "true"})["text"]
    assert "Here is a lighthouse at dusk." in pack  # the replaced answer is in the pack, its image is not
    assert "[image: new.png]" in pack and "old.png" not in pack


def test_a_new_chats_versions_take_their_images_along_when_it_joins_its_conversation(vault):
    q = ("user", "Look at this")
    vault.apply("c1", frames.snapshot(1, [q, ("assistant", "Answer one.")], page="page-aaaa", conv="c-join"))
    vault.apply("c1", frames.snapshot(2, [q, ("assistant", "Answer two.")], page="page-aaaa", conv="c-join"))
    vault.apply("c1", frames.snapshot(3, [q, ("assistant", "A new chat's try.")], page="page-bbbb", conv=None))
    vault.apply("c1", frames.attachment(4, OLD_PNG, turn=1, name="try.png", page="page-bbbb", conv=None)[0])
    vault.apply("c1", frames.snapshot(5, [("assistant", "Answer two.")], turns_from=1, page="page-bbbb", conv=None))
    vault.apply("c1", frames.snapshot(6, [q, ("assistant", "Answer two.")], page="page-bbbb", conv="c-join"))  # joins
    [conv] = vault.list_conversations()
    got = vault.get_conversation(conv.id)
    shown = {b.turns[0].text: [a.name for a in b.turns[0].attachments] for b in got.branches}
    assert shown == {"Answer one.": [], "A new chat's try.": ["try.png"]}
    assert vault.verify().bad == []


def test_a_link_moved_between_versions_is_detected(vault, home):
    vault.apply("c1", frames.snapshot(1, [QUESTION, ("assistant", "Dusk.")]))
    vault.apply("c1", frames.attachment(2, OLD_PNG, turn=1, name="old.png")[0])
    vault.apply("c1", frames.snapshot(3, [QUESTION, ("assistant", "Storm.")]))
    [conv] = vault.list_conversations()
    assert vault.verify().bad == []
    raw(home, "UPDATE attachment_links SET branch=NULL")  # the old answer's image put back under the new one
    got = vault.get_conversation(conv.id)
    assert got.turns[1].attachments == [] and got.corrupt == ["attachment of turn 1"]
    assert vault.verify().bad == [f"attachment of turn 1 of conversation {conv.id}"]


def test_a_vault_from_before_migration_7_reads_its_links_unchanged(home):
    vault = Vault.open(home)
    vault.apply("c1", frames.snapshot(1, [QUESTION, ("assistant", "A lighthouse.")]))
    vault.apply("c1", frames.attachment(2, OLD_PNG, turn=1, name="kept.png")[0])
    vault.apply("c1", frames.attachment(3, NEW_PNG, turn=0, name="gone.png", key="k2")[0])
    [conv] = vault.list_conversations()
    before = msgspec.to_builtins(vault.get_conversation(conv.id))
    vault.close()
    # The table as migration 5 made it, its links as 0.3 wrote them, one deleted (its lid is never reused).
    raw(home, "ALTER TABLE attachment_links RENAME TO links_7")
    raw(home, "CREATE TABLE attachment_links (lid INTEGER PRIMARY KEY AUTOINCREMENT, cid INTEGER NOT NULL,"
              " idx INTEGER NOT NULL, aid INTEGER, key BLOB NOT NULL, meta BLOB NOT NULL, tag BLOB NOT NULL,"
              " UNIQUE (cid, idx, key))")
    raw(home, "INSERT INTO attachment_links SELECT lid, cid, idx, aid, key, meta, tag FROM links_7")
    raw(home, "DROP TABLE links_7")
    raw(home, "DELETE FROM attachment_links WHERE lid=(SELECT MAX(lid) FROM attachment_links)")
    raw(home, "PRAGMA user_version=6")
    before["turns"][0].pop("attachments")
    vault = Vault.open(home)
    try:
        assert msgspec.to_builtins(vault.get_conversation(conv.id)) == before
        assert vault.verify().bad == [] and raw(home, "PRAGMA user_version") == [(migrations.VERSION,)]
        assert raw(home, "SELECT seq FROM sqlite_sequence WHERE name='attachment_links'") == [(2,)]
        # and versions take the migrated links along
        vault.apply("c1", frames.snapshot(4, [QUESTION, ("assistant", "Another lighthouse.")]))
        got = vault.get_conversation(conv.id)
        assert got.turns[1].attachments == [] and [a.name for a in got.branches[0].turns[0].attachments] == ["kept.png"]
        assert vault.verify().bad == []
    finally:
        vault.close()


def conflict_join(vault, *, stored: list, new_chat: list) -> dict:
    """A conversation `c-join2` stored from one page with an image under turn 1 (old.png); a new chat on
    another page showing `new_chat` with its own image under turn 1 (new.png), which then turns out to be
    `c-join2` (their turns agree: one answer continues the other). The longer thread stays current; the
    other's turn 1, which it does not continue, is kept as a conflict version, with its image."""
    vault.apply("c1", frames.snapshot(1, stored, page="page-stored", conv="c-join2"))
    vault.apply("c1", frames.attachment(2, OLD_PNG, turn=1, name="old.png", key="o", page="page-stored", conv="c-join2")[0])
    vault.apply("c1", frames.snapshot(3, new_chat, page="page-new", conv=None))
    vault.apply("c1", frames.attachment(4, NEW_PNG, turn=1, name="new.png", key="n", page="page-new", conv=None)[0])
    vault.apply("c1", frames.snapshot(5, new_chat, page="page-new", conv="c-join2"))  # the same chat: they join
    [conv] = vault.list_conversations()
    got = vault.get_conversation(conv.id)
    assert vault.verify().bad == []
    return {"current": {t.text: [a.name for a in t.attachments] for t in got.turns},
            "conflict": {t.text: [a.name for a in t.attachments] for b in got.branches if b.reason == "conflict"
                         for t in b.turns}}


def test_a_joining_new_chats_longer_answer_keeps_its_image_in_its_conflict_version(vault):
    q = ("user", "Look at this")
    got = conflict_join(vault, stored=[q, ("assistant", "A lighthouse"), ("user", "More?"), ("assistant", "More.")],
                        new_chat=[q, ("assistant", "A lighthouse and a boat.")])
    # The page then shows its own state: the stored tail is kept too, with the image seen with it.
    assert got["conflict"] == {"A lighthouse and a boat.": ["new.png"], "A lighthouse": ["old.png"], "More?": [], "More.": []}


def test_a_stored_longer_answer_the_joining_chat_outgrows_keeps_its_image_in_its_conflict_version(vault):
    q = ("user", "Look at this")
    got = conflict_join(vault, stored=[q, ("assistant", "A lighthouse and a boat.")],
                        new_chat=[q, ("assistant", "A lighthouse"), ("user", "More?"), ("assistant", "More.")])
    assert got["current"]["A lighthouse"] == ["new.png"]
    assert got["conflict"] == {"A lighthouse and a boat.": ["old.png"]}


def test_an_image_that_arrives_after_its_answer_was_regenerated_stays_with_that_answer(vault):
    """The extension fetches an image after the text that shows it; if the answer is regenerated
    meanwhile, the image belongs to the earlier version (its placeholder is in that text only)."""
    dusk = "Here is a lighthouse at dusk.\n\n[Image: Generated image]"
    vault.apply("c1", frames.snapshot(1, [QUESTION, ("assistant", dusk)]))
    vault.apply("c1", frames.snapshot(2, [QUESTION, ("assistant", "Here is a lighthouse in a storm.")], streaming=True))
    vault.apply("c1", frames.attachment(3, OLD_PNG, turn=1, name="dusk.png", key="d", alt="Generated image")[0])
    storm = "Here is a lighthouse in a storm.\n\n[Image: Generated image]"
    vault.apply("c1", frames.snapshot(4, [QUESTION, ("assistant", storm)]))
    vault.apply("c1", frames.attachment(5, NEW_PNG, turn=1, name="storm.png", key="s", alt="Generated image")[0])
    [conv] = vault.list_conversations()
    got = vault.get_conversation(conv.id)
    assert [a.name for a in got.turns[1].attachments] == ["storm.png"]
    assert {b.turns[0].text: [a.name for a in b.turns[0].attachments] for b in got.branches} == {dusk: ["dusk.png"]}
    assert vault.verify().bad == []
