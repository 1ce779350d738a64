"""POST /api/chat/ with "stream": true against the builtin model: events, the final event,
plain errors before the stream, and money under concurrency."""

from __future__ import annotations

import threading

from client import (
    CHAT_COST,
    DUMMY_RESPONSE,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    expect,
    get_balance,
    new_user,
    post_as,
)
from sse import events_of, open_stream


def test_stream_sends_each_delta_then_a_final_event(api):
    user = new_user(api, "stream")
    r = open_stream(api, user.access, {"message": "hello"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/event-stream"
    stream = events_of(r)
    deltas = stream.named("delta")
    assert len(deltas) == len(DUMMY_RESPONSE.split(" ")), stream.events
    assert stream.text == DUMMY_RESPONSE
    done = stream.last
    assert done.name == "done"
    assert set(done.data) == {"conversation_id", "remaining_tokens", "finish_reason", "model", "cost"}
    assert done.data["remaining_tokens"] == SIGNUP_GRANT - CHAT_COST
    assert done.data["cost"] == CHAT_COST and done.data["finish_reason"] == "stop"
    assert [e.name for e in stream.events].count("done") == 1
    # The stored exchange is the whole answer, and the conversation continues.
    cid = done.data["conversation_id"]
    detail = expect(api.get(f"/api/conversations/{cid}/", headers=user.headers), 200)
    assert detail["messages"][0]["response"] == DUMMY_RESPONSE
    again = events_of(open_stream(api, user.access, {"message": "more", "conversation_id": cid}))
    assert again.last.data["conversation_id"] == cid
    assert get_balance(api, user.access) == SIGNUP_GRANT - 2 * CHAT_COST
    assert_ledger_consistent(api, user.access)


def test_failures_before_the_stream_are_plain_json_errors(api):
    user = new_user(api, "streamerr")
    r = open_stream(api, user.access, {"message": "  "})
    expect(r, 400, {"error": "Message is required"})
    r = open_stream(api, user.access, {"message": "hi", "model": "nope"})
    expect(r, 400, {"model": ['"nope" is not a valid choice.']})
    r = open_stream(api, user.access, {"message": "hi", "conversation_id": 987654321})
    expect(r, 404, {"detail": "Not found."})
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


def test_fifty_streams_with_balance_for_twenty_give_twenty_answers(start_server):
    srv = start_server(config={"signup_grant_tokens": 20 * CHAT_COST}, name="stream-money")
    with Http(srv.base_url) as http:
        user = new_user(http, "fifty")
    n = 50
    barrier = threading.Barrier(n, timeout=60)
    results: list = [None] * n

    def worker(i):
        with Http(srv.base_url) as http:
            http.get("/healthz")  # connect before the start line
            barrier.wait()
            r = open_stream(http, user.access, {"message": f"hello {i}"})
            if r.status_code == 200:
                results[i] = events_of(r).last.name
            else:
                results[i] = (r.status_code, r.json())

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert results.count("done") == 20, results
    assert results.count((403, {"error": "Insufficient tokens"})) == 30, results
    with Http(srv.base_url) as http:
        assert get_balance(http, user.access) == 0
        rows = assert_ledger_consistent(http, user.access)
        assert sum(1 for r in rows if r["kind"] == "chat_charge") == 20
