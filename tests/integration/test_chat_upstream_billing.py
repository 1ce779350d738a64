"""Conversations, streaming and billing through the fake OpenAI-compatible upstream: history
reaches the model, pings while it is silent, failures midway, and a client leaving mid-stream
billed once. Every case ends with the ledger check."""

from __future__ import annotations

import signal
import time

from client import (
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    expect,
    fetch_ledger,
    get_balance,
    new_user,
    post_as,
)
from fake_upstream import model_entry, unique
from sse import events_of, open_stream, stream_then_leave

# Per-token prices make the reservation and the settled cost differ, so each refund is visible.
PRICE = {"per_message": 10, "per_1k_prompt_tokens": 0, "per_1k_completion_tokens": 1000}
CAP = 256
RESERVED = PRICE["per_message"] + CAP  # completion tokens at 1 token each; the prompt is free
DEADLINE = 15.0


def chat_rows(http, user):
    return [r for r in reversed(fetch_ledger(http, user.access)) if r["kind"].startswith("chat_")]


def test_history_reaches_the_upstream(chatgate_with_model, fake_upstream):
    model = unique("echo")
    srv = chatgate_with_model(model, price=PRICE, max_completion_tokens=CAP)
    with Http(srv.base_url) as http:
        user = new_user(http, "history")
        first = expect(post_as(http, user.access, "/api/chat/", {"message": "one"}), 200)
        assert first["response"] == "echo: one (turns: 1)"
        second = expect(post_as(http, user.access, "/api/chat/",
                                {"message": "two", "conversation_id": first["conversation_id"]}), 200)
        assert second["response"] == "echo: two (turns: 3)"
        sent = fake_upstream.last_body(model)["messages"]
        assert [(m["role"], m["content"]) for m in sent] == [
            ("user", "one"), ("assistant", "echo: one (turns: 1)"), ("user", "two")]
        # Billed from the upstream's usage: the fixed price plus one token per word.
        rows = chat_rows(http, user)
        assert [r["kind"] for r in rows] == ["chat_charge", "chat_refund"] * 2
        assert rows[0]["delta"] == -RESERVED
        assert rows[0]["delta"] + rows[1]["delta"] == -(10 + len(first["response"].split(" ")))
        assert_ledger_consistent(http, user.access)


def test_pings_while_the_upstream_is_silent(chatgate_with_model):
    srv = chatgate_with_model(unique("slow", "400"), price=PRICE, max_completion_tokens=CAP,
                              env={"CHATGATE_STREAM_KEEPALIVE_MS": "50"})
    with Http(srv.base_url) as http:
        user = new_user(http, "ping")
        stream = events_of(open_stream(http, user.access, {"message": "a b c"}))
        assert stream.pings >= 2, stream
        assert stream.text == "echo: a b c (turns: 1)"
        assert stream.last.name == "done"
        assert_ledger_consistent(http, user.access)


def test_upstream_failure_midway_bills_what_was_delivered(chatgate_with_model):
    srv = chatgate_with_model(unique("cut"), price=PRICE, max_completion_tokens=CAP)
    with Http(srv.base_url) as http:
        user = new_user(http, "cut")
        stream = events_of(open_stream(http, user.access, {"message": "w1 w2 w3 w4 w5 w6 w7 w8"}))
        assert stream.named("delta"), stream
        error = stream.last
        assert error.name == "error", stream
        assert "sk-fake" not in error.data["error"]
        delivered = stream.text
        cost = 10 + (len(delivered.encode()) + 3) // 4  # the prompt is free at this price
        rows = chat_rows(http, user)
        assert [r["kind"] for r in rows] == ["chat_charge", "chat_refund"]
        assert -(rows[0]["delta"] + rows[1]["delta"]) == cost
        assert error.data["remaining_tokens"] == SIGNUP_GRANT - cost
        detail = expect(http.get(f"/api/conversations/{error.data['conversation_id']}/",
                                 headers=user.headers), 200)
        assert detail["messages"][0]["response"] == delivered
        assert detail["messages"][0]["finish_reason"] == "error"
        assert_ledger_consistent(http, user.access)


def test_upstream_failure_before_any_text_is_a_plain_error_and_free(chatgate_with_model):
    srv = chatgate_with_model(unique("error500"), price=PRICE, max_completion_tokens=CAP, max_retries=0)
    with Http(srv.base_url) as http:
        user = new_user(http, "e500")
        r = open_stream(http, user.access, {"message": "hi"})
        assert r.status_code == 502 and "error" in r.json()
        assert get_balance(http, user.access) == SIGNUP_GRANT
        assert_ledger_consistent(http, user.access)


def test_client_leaving_mid_stream_stops_the_upstream_and_is_billed_once(chatgate_with_model):
    words = " ".join(f"w{i}" for i in range(40))  # 40 words, 300 ms apart: 12 s in all
    srv = chatgate_with_model(unique("slow", "300"), price=PRICE, max_completion_tokens=CAP)
    with Http(srv.base_url) as http:
        user = new_user(http, "gone")
        seen = stream_then_leave(srv.base_url, user.access, {"message": words}, deltas=2)
        assert seen.startswith(b"HTTP/1.1 200") and seen.count(b"event: delta") >= 2, seen
        started = time.monotonic()
        # Settled (refund of the unused part) long before the upstream would have finished:
        # poll the ledger with a deadline.
        while True:
            try:
                rows = chat_rows(http, user)
            except AssertionError:  # the refund landed between the ledger's count and its rows
                continue
            if len(rows) == 2 or time.monotonic() - started > DEADLINE:
                break
        assert [r["kind"] for r in rows] == ["chat_charge", "chat_refund"], rows
        assert time.monotonic() - started < 8.0
        cost = -(rows[0]["delta"] + rows[1]["delta"])
        assert 10 < cost < 10 + 40, cost  # the fixed price and the part produced, not all 40
        conversations = expect(http.get("/api/conversations/", headers=user.headers), 200)
        detail = expect(http.get(f"/api/conversations/{conversations['results'][0]['id']}/",
                                 headers=user.headers), 200)
        assert detail["messages"][0]["finish_reason"] == "cancelled"
        # Once: nothing more is ever written for this exchange.
        assert len(chat_rows(http, user)) == 2
        assert_ledger_consistent(http, user.access)


def test_a_killed_process_refunds_its_open_reservations_before_serving(start_server, fake_upstream):
    data = start_server.new_data_dir()
    config = {"models": [model_entry(fake_upstream.url, unique("slow", "300"), price=PRICE,
                                     max_completion_tokens=CAP)]}
    srv = start_server(config=config, data_dir=data, name="killed")
    with Http(srv.base_url) as http:
        user = new_user(http, "killed")
    # SIGKILL (of the process this test started, by PID) while the answer is streaming.
    seen = stream_then_leave(srv.base_url, user.access, {"message": "a b c d e f g h i j"},
                             deltas=1, while_open=lambda: srv.stop(sig=signal.SIGKILL))
    assert seen.count(b"event: delta") >= 1, seen
    restarted = start_server(config=config, data_dir=data, name="restarted")
    with Http(restarted.base_url) as http:
        # The first answer after the restart already sees the refund.
        assert get_balance(http, user.access) == SIGNUP_GRANT
        rows = chat_rows(http, user)
        assert [(r["kind"], r["delta"]) for r in rows] == [("chat_charge", -RESERVED),
                                                           ("chat_refund", RESERVED)]
        assert_ledger_consistent(http, user.access)
