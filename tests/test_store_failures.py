"""Failures (store/failures.py)."""

from tabs import PAGE, PAGE2, Tab, chat


def test_failures_mark_the_conversation_failed_until_resolved(vault):
    tab = Tab(vault)
    id = tab.snap(chat(2), conv="c1").conversation
    first = vault.record_failure(id, "error_message", detail="Something went wrong", page_id=PAGE)
    second = vault.record_failure(id, "stalled", provider_outage=True)
    assert (first.kind, first.detail, first.resolved, second.provider_outage) == ("error_message", "Something went wrong", False, True)
    assert vault.get_conversation(id).status == "failed"
    assert [c.id for c in vault.list_conversations(status="failed")] == [id]
    assert vault.list_conversations(status="active") == []
    assert [f.id for f in vault.list_failures(resolved=False, conversation=id)] == [first.id, second.id]
    done = vault.resolve_failure(first.id, "dismissed")
    assert (done.resolved, done.resolution) == (True, "dismissed") and done.resolved_at
    assert vault.resolve_failure("no-such-failure", "dismissed") is None
    assert vault.resolve_failures(id, "completed") == [second.id]
    assert vault.get_conversation(id).status == "active"
    assert [f.resolution for f in vault.get_conversation(id).failures] == ["dismissed", "completed"]
    assert vault.list_failures(resolved=False) == []


def test_failures_carry_their_conversation_title_and_site(vault):
    gpt = Tab(vault).snap(chat(2), conv="c1", title="Rivers").conversation
    claude = Tab(vault, page=PAGE2, site="claude").snap(chat(2), conv="c2").conversation  # no title yet
    vault.record_failure(gpt, "stalled")
    recorded = vault.record_failure(claude, "error_message")
    assert (recorded.title, recorded.site) == (None, "claude")
    assert [(f.conversation, f.title, f.site) for f in vault.list_failures()] == [(gpt, "Rivers", "chatgpt"), (claude, None, "claude")]
    Tab(vault, page=PAGE2, site="claude").snap(start=2, conv="c2", title="Ferns")  # a renamed chat: its failures follow
    assert [f.title for f in vault.list_failures(conversation=claude)] == ["Ferns"]
    assert [f.title for f in vault.get_conversation(gpt).failures] == ["Rivers"]
