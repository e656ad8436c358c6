"""Conversations read back (store/conversations.py): the page lookup the extension uses."""

from tabs import PAGE, PAGE2, Tab, chat


def test_a_page_finds_the_summary_of_the_conversation_it_shows(vault):
    tab = Tab(vault)
    first = tab.snap(chat(2), conv="c1", title="First").conversation
    (summary,) = vault.list_conversations(page_id=PAGE)
    assert summary == vault.list_conversations()[0] and (summary.id, summary.title) == (first, "First")
    second = tab.snap(chat(3), conv="c2").conversation  # the tab moved to another chat
    assert [c.id for c in vault.list_conversations(page_id=PAGE)] == [second]
    vault.record_failure(second, "stalled")
    assert [c.status for c in vault.list_conversations(page_id=PAGE)] == ["failed"]
    assert vault.list_conversations(page_id=PAGE2) == []
    tab.snap(conv=None, draft="")  # a blank new chat: the page shows no stored conversation
    assert vault.list_conversations(page_id=PAGE) == []
