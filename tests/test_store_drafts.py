"""The draft-history policy (store/drafts.py)."""

from draftvault.store.drafts import DRAFT_VERSIONS
from tabs import Tab, chat


def test_draft_history_keeps_the_peaks_of_each_edit(vault):
    tab = Tab(vault)
    id = tab.snap(chat(2), conv="c1").conversation
    for text in ["H", "Hel", "Hello wor", "Hello world"]:  # typing on: one version
        tab.snap(start=2, draft=text)
    assert [d.text for d in vault.get_conversation(id).drafts] == ["Hello world"]
    for text in ["Hello wo", "Hello", "Hel"]:  # deleting on: the peak is kept
        tab.snap(start=2, draft=text)
    tab.snap(start=2, draft="Help me")
    d = vault.get_conversation(id)
    assert [x.text for x in d.drafts] == ["Help me", "Hello world"] and d.draft.text == "Help me"
    tab.snap([("user", "Help me")], start=2, draft="")  # sent: no current draft, history kept
    d = vault.get_conversation(id)
    assert d.draft is None and [x.text for x in d.drafts] == ["Help me", "Hello world"]
    tab.snap(start=3, draft="Help me more")  # a new draft after sending is a new version
    assert [x.text for x in vault.get_conversation(id).drafts][:2] == ["Help me more", "Help me"]
    for n in range(DRAFT_VERSIONS + 5):
        tab.snap(start=3, draft=f"version {n}" if n % 2 else f"other {n}")
    d = vault.get_conversation(id)
    assert len(d.drafts) == DRAFT_VERSIONS
    assert d.drafts[0].text == d.draft.text == f"other {DRAFT_VERSIONS + 4}"
    assert tab.snap(start=3, draft=None).outcome == "stored"  # composer not read: draft kept
    assert vault.get_conversation(id).draft.text == f"other {DRAFT_VERSIONS + 4}"
