"""An Idempotency-Key whose request was cut short by a crash (kill -9): the start-up recovery
refunds the open reservation, and then knows the request left nothing behind, so a retry with
the key runs afresh (charged once in all). A claim whose user's balance moved since it was made
may have been applied: it stays 409 "outcome unknown" until it expires.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
import uuid

import pytest

from client import CHAT_COST, SIGNUP_GRANT, Http, assert_ledger_consistent, bearer, get_balance, new_user
from fake_upstream import model_entry, unique


def wait_until(condition, limit=20.0):
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def crash_during_chat(start_server, fake_upstream, data_dir, user_env=None):
    """A chat with a key sent to a stalling upstream; the server is killed while it waits."""
    stall = unique("stall")
    srv = start_server(config={"models": [model_entry(fake_upstream.url, stall)]}, data_dir=data_dir,
                       name="crashing")
    http = Http(srv.base_url)
    user = new_user(http, "crash")
    key = "k-" + uuid.uuid4().hex
    headers = {**bearer(user.access), "Idempotency-Key": key}
    thread = threading.Thread(
        target=lambda: pytest.raises(Exception, http.post, "/api/chat/", json={"message": "m"}, headers=headers),
        daemon=True)
    thread.start()
    wait_until(lambda: fake_upstream.requests_for(stall) >= 1)
    srv.stop(sig=signal.SIGKILL)
    thread.join(timeout=30)
    http.close()
    return user, headers


def test_a_retry_after_a_crash_runs_afresh_and_is_charged_once(start_server, fake_upstream, tmp_path):
    data_dir = tmp_path / "data"
    user, headers = crash_during_chat(start_server, fake_upstream, data_dir)
    srv = start_server(data_dir=data_dir, name="recovered")  # the builtin model answers now
    with Http(srv.base_url) as http:
        assert get_balance(http, user.access) == SIGNUP_GRANT  # refunded at start-up
        r = http.post("/api/chat/", json={"message": "m"}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["remaining_tokens"] == SIGNUP_GRANT - CHAT_COST
        again = http.post("/api/chat/", json={"message": "m"}, headers=headers)
        assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
        assert get_balance(http, user.access) == SIGNUP_GRANT - CHAT_COST
        assert_ledger_consistent(http, user.access)


@pytest.mark.sqlite_only("edits the SQLite file directly")
def test_a_claim_whose_balance_moved_since_stays_unknown(start_server, fake_upstream, tmp_path):
    data_dir = tmp_path / "data"
    user, headers = crash_during_chat(start_server, fake_upstream, data_dir)
    # As if another request of the user's had moved tokens after the claim, before the crash.
    db = sqlite3.connect(data_dir / "chatgate.sqlite3", timeout=10)
    try:
        with db:
            (balance,) = db.execute("SELECT tokens FROM users WHERE id = ?", (user.user_id,)).fetchone()
            db.execute("UPDATE users SET tokens = tokens + 5 WHERE id = ?", (user.user_id,))
            db.execute("INSERT INTO ledger (user_id, delta, balance_after, kind, reference, created_at)"
                       " VALUES (?, 5, ?, 'top_up', NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                       (user.user_id, balance + 5))
    finally:
        db.close()
    srv = start_server(data_dir=data_dir, name="recovered-unknown")
    with Http(srv.base_url) as http:
        r = http.post("/api/chat/", json={"message": "m"}, headers=headers)
        assert r.status_code == 409, r.text
        assert "outcome is unknown" in r.text
        assert get_balance(http, user.access) == SIGNUP_GRANT + 5
        assert_ledger_consistent(http, user.access)
