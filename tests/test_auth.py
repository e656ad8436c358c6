"""auth.py on a real vault.db: tokens, pairing codes, sign-in links, sessions."""

from __future__ import annotations

import time

import pytest

from draftvault import auth, config
from draftvault.store import Vault


@pytest.fixture
def db(home):
    db = auth.connect(home)
    yield db
    db.conn.close()


def test_works_without_the_vault_key(home, db):
    auth.create_token(db, "script")
    assert not config.key_path(home).exists()


def test_tokens_are_random_and_stored_only_as_hashes(home, db):
    tokens = [auth.create_token(db, "t") for _ in range(3)]
    assert len(set(tokens)) == 3 and all(len(t) >= 40 for t in tokens)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in home.iterdir())
    assert not any(t.encode() in raw for t in tokens)


def test_check_token(db):
    token = auth.create_token(db, "script")
    info = auth.check_token(db, token, None)
    assert (info.name, info.origin) == ("script", None)
    assert auth.check_token(db, token, "chrome-extension://x") == info  # unbound: any (allowed) origin
    assert auth.check_token(db, token + "x", None) is None
    assert auth.check_token(db, "", None) is None
    assert auth.check_token(db, None, None) is None


def test_a_token_use_is_recorded(db):
    token = auth.create_token(db, "ext", origin="chrome-extension://aaa")
    assert [t.last_used_at for t in auth.list_tokens(db)] == [None]
    auth.check_token(db, token, "chrome-extension://aaa")
    [used] = [t.last_used_at for t in auth.list_tokens(db)]
    assert used is not None
    # ...at most once a minute: checks in between only read
    auth.check_token(db, token, None)
    assert [t.last_used_at for t in auth.list_tokens(db)] == [used]


def test_origin_bound_token(db):
    token = auth.create_token(db, "ext", origin="chrome-extension://aaa")
    assert auth.check_token(db, token, "chrome-extension://aaa") is not None
    assert auth.check_token(db, token, "chrome-extension://bbb") is None
    # the extension's own GETs carry no Origin (Chromium leaves it out); any other Origin is refused
    assert auth.check_token(db, token, None) is not None
    assert auth.paired_origins(db) == {"chrome-extension://aaa"}


def test_list_and_revoke_by_name_or_id(db):
    a = auth.create_token(db, "a")
    b1, b2 = auth.create_token(db, "b"), auth.create_token(db, "b")
    assert [t.name for t in auth.list_tokens(db)] == ["a", "b", "b"]
    assert auth.revoke_token(db, "b")
    assert auth.check_token(db, b1, None) is None and auth.check_token(db, b2, None) is None
    a_id = auth.list_tokens(db)[0].id
    assert auth.revoke_token(db, a_id)
    assert auth.check_token(db, a, None) is None
    assert auth.list_tokens(db) == []
    assert not auth.revoke_token(db, "a")


def test_pair_code_is_one_time_and_case_insensitive(db):
    code = auth.create_pair_code(db)
    assert len(code) == 7 and code[3] == "-"
    token = auth.redeem_pair_code(db, f" {code.lower()} ", "chrome-extension://aaa", None)
    info = auth.check_token(db, token, "chrome-extension://aaa")
    assert info.name == "extension"
    with pytest.raises(auth.AuthError):
        auth.redeem_pair_code(db, code, "chrome-extension://aaa", None)


def test_pair_code_expires(db):
    code = auth.create_pair_code(db, ttl_s=0)
    time.sleep(0.01)
    with pytest.raises(auth.AuthError):
        auth.redeem_pair_code(db, code, None, None)


def test_wrong_guesses_kill_live_pair_codes(db):
    code = auth.create_pair_code(db)
    for _ in range(auth.MAX_PAIR_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.redeem_pair_code(db, "AAA-AAA", None, None)
    with pytest.raises(auth.AuthError):
        auth.redeem_pair_code(db, code, None, None)
    fresh = auth.create_pair_code(db)  # a new code starts with a clean slate
    assert auth.redeem_pair_code(db, fresh, None, "n")


def test_login_nonce_becomes_one_session(db):
    nonce = auth.create_login_nonce(db)
    session = auth.redeem_login_nonce(db, nonce)
    assert auth.check_session(db, session)
    assert not auth.check_session(db, session + "x")
    assert not auth.check_session(db, None)
    with pytest.raises(auth.AuthError):
        auth.redeem_login_nonce(db, nonce)
    with pytest.raises(auth.AuthError):
        auth.redeem_login_nonce(db, auth.create_login_nonce(db, ttl_s=0))


def test_shares_the_vault_file_and_its_set_up(home, db):
    """auth's connection is the vault's (no temp files, WAL, 0600), and a vault opens beside it."""
    assert [db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("journal_mode", "temp_store")] == ["wal", 2]
    vault = Vault.open(home)
    try:
        auth.create_token(db, "beside a running vault")
        assert [t.name for t in auth.list_tokens(db)] == ["beside a running vault"]
        assert vault.verify().bad == []
    finally:
        vault.close()
    assert oct(config.db_path(home).stat().st_mode & 0o777) == "0o600"
