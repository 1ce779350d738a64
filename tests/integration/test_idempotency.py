"""Idempotency-Key on POST /api/top-up/ and POST /api/chat/.

A repeat with the same key and body from the same user gets the first answer and moves no
tokens; repeats sent at the same time run the request once; the same key with another body is
422; failures without effect do not pin the key; keys expire after idempotency_key_ttl_seconds.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import sqlite3
import threading
import time
import uuid

import pytest

from client import (
    CHAT_COST,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    bearer,
    expect,
    get_balance,
    new_user,
)

REPLAYED = "Idempotent-Replayed"
MISMATCH = {"error": "Idempotency-Key was already used with a different request."}
BAD_KEY = {"error": "Idempotency-Key must be 1 to 255 visible ASCII characters."}


def key() -> str:
    return "k-" + uuid.uuid4().hex


def post_keyed(api, access, path, body, idem_key):
    return api.post(path, json=body, headers={**bearer(access), "Idempotency-Key": idem_key})


def kinds(rows):
    return [row["kind"] for row in rows]


def test_top_up_repeat_returns_first_answer_and_credits_once(api):
    user = new_user(api, "idem-top")
    k = key()
    first = post_keyed(api, user.access, "/api/top-up/", {"tokens": 250}, k)
    body = expect(first, 200, {"message": "Successfully added 250 tokens.", "total_tokens": SIGNUP_GRANT + 250})
    assert REPLAYED not in first.headers
    again = post_keyed(api, user.access, "/api/top-up/", {"tokens": 250}, k)
    expect(again, 200, body)
    assert again.headers.get(REPLAYED) == "true"
    assert get_balance(api, user.access) == SIGNUP_GRANT + 250
    rows = assert_ledger_consistent(api, user.access)
    assert kinds(rows) == ["signup_grant", "top_up"]


def test_chat_repeat_returns_first_answer_and_charges_once(api):
    user = new_user(api, "idem-chat")
    k = key()
    first = expect(post_keyed(api, user.access, "/api/chat/", {"message": "hello"}, k), 200)
    assert first["remaining_tokens"] == SIGNUP_GRANT - CHAT_COST
    for _ in range(3):
        expect(post_keyed(api, user.access, "/api/chat/", {"message": "hello"}, k), 200, first)
    # Without a key, or with a new one, chat charges as usual.
    expect(post_keyed(api, user.access, "/api/chat/", {"message": "hello"}, key()), 200)
    assert get_balance(api, user.access) == SIGNUP_GRANT - 2 * CHAT_COST
    rows = assert_ledger_consistent(api, user.access)
    assert kinds(rows) == ["signup_grant", "chat_charge", "chat_charge"]


@pytest.mark.parametrize("path, body, delta", [
    ("/api/top-up/", {"tokens": 70}, 70),
    ("/api/chat/", {"message": "at once"}, -CHAT_COST),
])
def test_concurrent_repeats_run_once_and_answer_alike(base_url, api, path, body, delta):
    user = new_user(api, "idem-race")
    k = key()
    count = 12
    start = threading.Barrier(count)

    def send(_):
        with Http(base_url) as http:
            start.wait(timeout=30)
            return post_keyed(http, user.access, path, body, k)

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        answers = list(pool.map(send, range(count)))
    assert [r.status_code for r in answers] == [200] * count, [r.text for r in answers]
    assert len({r.text for r in answers}) == 1, [r.text for r in answers]
    assert sum(1 for r in answers if REPLAYED not in r.headers) == 1
    assert get_balance(api, user.access) == SIGNUP_GRANT + delta
    rows = assert_ledger_consistent(api, user.access)
    assert len(rows) == 2, rows


def test_same_key_different_body_or_route_is_422(api):
    user = new_user(api, "idem-diff")
    k = key()
    expect(post_keyed(api, user.access, "/api/top-up/", {"tokens": 10}, k), 200)
    expect(post_keyed(api, user.access, "/api/top-up/", {"tokens": 11}, k), 422, MISMATCH)
    expect(post_keyed(api, user.access, "/api/chat/", {"message": "x"}, k), 422, MISMATCH)
    assert get_balance(api, user.access) == SIGNUP_GRANT + 10
    assert_ledger_consistent(api, user.access)


def test_keys_are_per_user(api):
    alice, bob = new_user(api, "idem-a"), new_user(api, "idem-b")
    k = key()
    for user in (alice, bob):
        expect(post_keyed(api, user.access, "/api/top-up/", {"tokens": 5}, k), 200,
               {"message": "Successfully added 5 tokens.", "total_tokens": SIGNUP_GRANT + 5})
        assert_ledger_consistent(api, user.access)


@pytest.mark.parametrize("bad", ["", "x" * 256, "has space", "caf\u00e9"])
def test_bad_key_is_400(api, bad):
    user = new_user(api, "idem-bad")
    headers = {**bearer(user.access), "Idempotency-Key": bad.encode("utf-8")}
    r = api.post("/api/top-up/", json={"tokens": 5}, headers=headers)
    expect(r, 400, BAD_KEY)
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


def test_longest_key_is_accepted(api):
    user = new_user(api, "idem-long")
    k = "K" * 255
    expect(post_keyed(api, user.access, "/api/top-up/", {"tokens": 5}, k), 200)
    assert post_keyed(api, user.access, "/api/top-up/", {"tokens": 5}, k).headers.get(REPLAYED) == "true"
    assert_ledger_consistent(api, user.access)


def test_failures_without_effect_do_not_pin_the_key(api):
    user = new_user(api, "idem-fail")
    k = key()
    # A validation error frees the key: the corrected request runs under it.
    expect(post_keyed(api, user.access, "/api/top-up/", {"tokens": -5}, k), 400, {"error": "Invalid token amount."})
    expect(post_keyed(api, user.access, "/api/top-up/", {"tokens": 5}, k), 200)
    # A refusal for lack of tokens too: after a top-up, the same chat request runs.
    poor = new_user(api, "idem-poor")
    spend = key()
    for _ in range(SIGNUP_GRANT // CHAT_COST):
        expect(post_keyed(api, poor.access, "/api/chat/", {"message": "m"}, key()), 200)
    expect(post_keyed(api, poor.access, "/api/chat/", {"message": "m"}, spend), 403, {"error": "Insufficient tokens"})
    expect(post_keyed(api, poor.access, "/api/top-up/", {"tokens": CHAT_COST}, key()), 200)
    answer = expect(post_keyed(api, poor.access, "/api/chat/", {"message": "m"}, spend), 200)
    assert answer["remaining_tokens"] == 0
    assert_ledger_consistent(api, user.access)
    assert_ledger_consistent(api, poor.access)


def test_streamed_chat_with_a_key_is_refused(api):
    user = new_user(api, "idem-stream")
    r = post_keyed(api, user.access, "/api/chat/", {"message": "m", "stream": True}, key())
    expect(r, 400, {"error": "Idempotency-Key is not supported for streamed answers."})
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


@pytest.mark.parametrize("path, raw", [
    ("/api/chat/", '{"message": "m", "\\u0073tream": true}'),
    ("/api/chat/", '{"message": "m", "stream": "true"}'),
    ("/api/chat/", '{"message": "m", "str\\u0065am": "true"}'),
], ids=["escaped", "string", "escaped-string"])
def test_a_stream_written_any_way_with_a_key_is_refused_and_never_charged(api, path, raw):
    user = new_user(api, "idem-stream2")
    idem_key = key()
    for _ in range(3):
        r = api.post(path, data=raw, headers={**bearer(user.access), "Idempotency-Key": idem_key,
                                             "Content-Type": "application/json"})
        assert r.status_code == 400, r.text
        assert "Idempotency-Key is not supported for streamed answers." in r.text
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


def test_a_streamed_form_body_with_a_key_is_refused(api):
    user = new_user(api, "idem-stream3")
    for _ in range(3):
        r = api.post("/api/chat/", data={"message": "m", "stream": "true"},
                     headers={**bearer(user.access), "Idempotency-Key": "same-key"})
        expect(r, 400, {"error": "Idempotency-Key is not supported for streamed answers."})
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


@pytest.mark.sqlite_only("edits the SQLite file directly")
def test_keys_expire_after_the_ttl(start_server):
    # A TTL of 0: every answer has expired by the time a repeat arrives, so repeats run again;
    # the expiry window itself is covered by the unit tests with a manual clock.
    srv = start_server(config={"idempotency_key_ttl_seconds": 0}, name="idem-ttl")
    with Http(srv.base_url) as http:
        user = new_user(http, "idem-ttl")
        k = key()
        expect(post_keyed(http, user.access, "/api/top-up/", {"tokens": 5}, k), 200)
        second = post_keyed(http, user.access, "/api/top-up/", {"tokens": 5}, k)
        expect(second, 200, {"message": "Successfully added 5 tokens.", "total_tokens": SIGNUP_GRANT + 10})
        assert REPLAYED not in second.headers
        assert_ledger_consistent(http, user.access)
    db = sqlite3.connect(srv.data_dir / "chatgate.sqlite3", timeout=10)
    try:
        (rows,) = db.execute("SELECT count(*) FROM idempotency_keys WHERE user_id = ?", (user.user_id,)).fetchone()
    finally:
        db.close()
    assert rows == 1  # the expired answer was replaced, not kept beside the new one


def fingerprint(method: str, route: str, content_type: str, body: bytes) -> str:
    """The server's request fingerprint: SHA-256 over length-prefixed parts."""
    digest = hashlib.sha256()
    for part in (method.encode(), route.encode(), content_type.encode(), body):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


@pytest.mark.sqlite_only("edits the SQLite file directly")
def test_claim_left_by_a_stopped_process_is_409_until_it_expires(api, main_server):
    """A request cut off by a restart may or may not have moved tokens: never run it twice."""
    if main_server is None:
        pytest.skip("needs the database of a server this suite started")
    user = new_user(api, "idem-abandoned")
    k = key()
    body = b'{"tokens": 5}'
    now_ms = int(time.time() * 1000)
    db = sqlite3.connect(main_server.data_dir / "chatgate.sqlite3", timeout=10)
    try:
        with db:  # as a process that died after claiming the key would have left it
            db.execute(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, owner, created_at_ms, expires_at_ms)"
                " VALUES (?, ?, ?, 'a-stopped-process', ?, ?)",
                (user.user_id, k, fingerprint("POST", "/api/top-up/", "application/json", body), now_ms,
                 now_ms + 3_600_000))
        headers = {**bearer(user.access), "Idempotency-Key": k, "Content-Type": "application/json"}
        r = api.post("/api/top-up/", data=body, headers=headers)
        assert r.status_code == 409, r.text
        assert "outcome is unknown" in r.json()["error"]
        assert get_balance(api, user.access) == SIGNUP_GRANT
        with db:  # once expired, the key is free again
            db.execute("UPDATE idempotency_keys SET expires_at_ms = ? WHERE user_id = ? AND key = ?",
                       (now_ms - 1, user.user_id, k))
        expect(api.post("/api/top-up/", data=body, headers=headers), 200)
    finally:
        db.close()
    assert get_balance(api, user.access) == SIGNUP_GRANT + 5
    assert_ledger_consistent(api, user.access)
