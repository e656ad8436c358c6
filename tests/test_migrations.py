"""The schema's migrations (store/migrations.py): a vault written by 0.1.0 opens and reads
back exactly; a new vault is at the current version; a newer one is refused."""

import shutil
from pathlib import Path

import msgspec
import pytest

from draftvault.store import NewerSchema, Vault, migrations
from tabs import Tab, raw, texts

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "vault-0.1.0"  # made by make.py there


@pytest.fixture
def old_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    for name in ("vault.db", "vault.key"):
        shutil.copyfile(FIXTURE / name, home / name)
        (home / name).chmod(0o600)
    return home


def without_failure_names(detail: dict) -> dict:
    """A failure as 0.1.0 showed it: title, site and recovered_at came later (title and site must be
    the conversation's; nothing has recovered in a vault just opened)."""
    for f in detail["failures"]:
        assert (f.pop("title"), f.pop("site"), f.pop("recovered_at")) == (detail["title"], detail["site"], None)
    return detail


def test_a_vault_from_0_1_0_reads_back_exactly(old_home):
    expected = msgspec.json.decode((FIXTURE / "expected.json").read_bytes())
    assert raw(old_home, "PRAGMA user_version") == [(0,)]
    vault = Vault.open(old_home)
    try:
        assert [c.id for c in vault.list_conversations()] == [c["id"] for c in expected["conversations"]]
        branched = {}
        for want in expected["conversations"]:
            got = without_failure_names(msgspec.to_builtins(vault.get_conversation(want["id"])))
            # 0.1.0's API did not show branches; its branch_turns rows read back as branches now.
            if branches := got.pop("branches"):
                branched[want["title"]] = [(b["reason"], [t["text"] for t in b["turns"]]) for b in branches]
            assert got == want
        assert list(branched) == [c["title"] for c in expected["conversations"] if c["title"] == "Imported walruses"], branched
        assert all(reason == "imported" and texts for reasons in branched.values() for reason, texts in reasons)
        titles = {c["id"]: (c["title"], c["site"]) for c in expected["conversations"]}
        failures = msgspec.to_builtins(vault.list_failures())
        assert [(f.pop("title"), f.pop("site")) for f in failures] == [titles[f["conversation"]] for f in failures]
        assert {f.pop("recovered_at") for f in failures} == {None}
        assert failures == expected["failures"]
        for q, ids in expected["search"].items():
            assert [h.conversation for h in vault.search(q)] == ids, q
        assert vault.verify().bad == [] and vault.stats()["schema_version"] == migrations.VERSION
        # and the chat goes on: the migrated vault takes new turns on an old conversation
        moss = next(c["id"] for c in expected["conversations"] if c["title"] == "Moss")
        tab = Tab(vault, page="page-c", client="fixture-client")
        assert tab.snap([("user", "And lichen?")], start=2, conv="gpt-moss").conversation == moss
        assert texts(vault, moss)[-1] == ("user", "And lichen?")
    finally:
        vault.close()
    assert raw(old_home, "PRAGMA user_version") == [(migrations.VERSION,)]
    assert ("signals_cid",) in raw(old_home, "SELECT name FROM sqlite_master WHERE type='index'")


def test_a_new_vault_is_at_the_current_version_and_opens_again(home):
    Vault.open(home).close()
    assert raw(home, "PRAGMA user_version") == [(migrations.VERSION,)]
    vault = Vault.open(home)
    assert vault.stats()["schema_version"] == migrations.VERSION and vault.verify().bad == []
    vault.close()


def test_a_vault_from_a_newer_draftvault_is_refused_untouched(home):
    Vault.open(home).close()
    raw(home, f"PRAGMA user_version={migrations.VERSION + 1}")
    with pytest.raises(NewerSchema, match="newer than this DraftVault"):
        Vault.open(home)
    assert raw(home, "PRAGMA user_version") == [(migrations.VERSION + 1,)]
