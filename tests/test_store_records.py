"""Sealed records (store/records.py): nothing readable on disk, tampering detected, the key and passphrase."""

import stat

import pytest

from draftvault import config
from draftvault.crypto import PassphraseRequired, WrongPassphrase, set_passphrase
from draftvault.store import KeyMismatch, Vault
from tabs import PAGE2, Tab, chat, files_under, raw, texts


CANARY = "The purple elephant sings opera at midnight 7c1e"


def test_canary_is_found_but_never_on_disk(vault, home):
    tab = Tab(vault)
    id = tab.snap(
        [("user", CANARY), ("assistant", "noted")],
        conv="secret-conversation-id-42",
        title="Title canary zebra-quartz",
        model="model-canary-gpt",
        url="https://chatgpt.com/c/secret-conversation-id-42?q=canary-url-token",
        draft=CANARY + " (draft)",
    ).conversation
    tab.signal("error_message", detail="signal canary detail")
    vault.record_failure(id, "error_message", detail="failure canary detail")
    assert vault.get_conversation(id).turns[0].text == CANARY
    assert [h.conversation for h in vault.search("purple elephant")] == [id]
    secrets = [
        CANARY,
        "purple elephant",
        "zebra-quartz",
        "model-canary-gpt",
        "secret-conversation-id-42",
        "canary-url-token",
        "signal canary detail",
        "failure canary detail",
        "midnight",
    ]

    def check():
        found = [(p.name, s) for p in files_under(home) for s in secrets if s.encode() in p.read_bytes()]
        assert found == []

    check()  # the WAL holds the recent writes
    vault.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    check()  # ...and now the database file does
    names = {p.name for p in files_under(home)}
    assert {"vault.db", "vault.key"} <= names
    for p in files_under(home):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert vault.db.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY


def test_tampered_records_are_reported_and_the_rest_is_readable(vault, home):
    tab = Tab(vault)
    id = tab.snap(chat(4), conv="c1", title="Kept title", draft="a draft").conversation
    other = Tab(vault, page=PAGE2).snap(chat(3, "other"), conv="c2", title="Other").conversation
    (bid,) = raw(
        home, "SELECT t.bid FROM turns t JOIN conversations c USING (cid) WHERE c.id=? AND t.idx=2", (id,)
    )[0]
    ((data,),) = raw(home, "SELECT data FROM blobs WHERE bid=?", (bid,))
    raw(home, "UPDATE blobs SET data=? WHERE bid=?", (data[:20] + bytes([data[20] ^ 1]) + data[21:], bid))
    raw(home, "UPDATE conversations SET title = (SELECT title FROM conversations WHERE id=?) WHERE id=?", (other, id))
    d = vault.get_conversation(id)
    assert sorted(d.corrupt) == ["title", "turn 2"]
    assert [t.index for t in d.turns] == [0, 1, 3] and d.title is None and d.draft.text == "a draft"
    assert texts(vault, other) == chat(3, "other") and vault.get_conversation(other).corrupt == []
    report = vault.verify()
    assert f"title of conversation {id}" in report.bad and f"turn 2 of conversation {id}" in report.bad
    assert not any(other in b for b in report.bad) and report.checked > 10
    # A row pointed at another conversation's turns is caught too (the snapshot's settled turns 0-1 are one run).
    raw(
        home,
        "UPDATE turns SET bid = (SELECT t.bid FROM turns t JOIN conversations c USING (cid) WHERE c.id=? AND t.idx=0)"
        " WHERE cid = (SELECT cid FROM conversations WHERE id=?) AND idx=0",
        (other, id),
    )
    assert "turns 0-1" in vault.get_conversation(id).corrupt
    assert texts(vault, other) == chat(3, "other")
    assert [c.title for c in vault.list_conversations() if c.id == id] == [None]


def test_passphrase_protected_vault(home):
    v = Vault.open(home)
    id = Tab(v).snap(chat(2), conv="c1").conversation
    v.close()
    key = config.key_path(home)
    set_passphrase(key, None, "open sesame")
    with pytest.raises(PassphraseRequired):
        Vault.open(home)
    with pytest.raises(WrongPassphrase, match="wrong passphrase for the vault key at"):
        Vault.open(home, "open sesam")
    v = Vault.open(home, "open sesame")
    assert texts(v, id) == chat(2)
    v.close()
    set_passphrase(key, "open sesame", None)
    v = Vault.open(home)
    assert texts(v, id) == chat(2)
    v.close()


def test_a_missing_or_foreign_key_is_refused(home, tmp_path):
    Vault.open(home).close()
    key = config.key_path(home)
    saved = key.read_bytes()
    key.unlink()
    with pytest.raises(KeyMismatch, match="missing"):
        Vault.open(home)
    Vault.open(tmp_path / "elsewhere").close()
    key.write_bytes(config.key_path(tmp_path / "elsewhere").read_bytes())
    key.chmod(0o600)  # a key file others can read is refused before anything else
    with pytest.raises(KeyMismatch, match="does not open"):
        Vault.open(home)
    key.write_bytes(saved)
    Vault.open(home).close()
