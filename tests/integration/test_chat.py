"""POST /api/chat/: charging, validation and the insufficient-balance path."""

from __future__ import annotations

import json

import pytest

from client import (
    CHAT_COST,
    DUMMY_RESPONSE,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    describe,
    expect,
    get_balance,
    new_user,
    top_up,
)

REQUIRED = {"error": "Message is required"}
INSUFFICIENT = {"error": "Insufficient tokens"}


def too_long(limit):
    return {"error": f"Message is too long (at most {limit} characters)."}


def test_chat_success_shape_and_charge(api):
    user = new_user(api, "chat")
    r = api.post("/api/chat/", json={"message": "Hello there"}, headers=user.headers)
    body = expect(r, 200)
    # The seed's three fields, plus the conversation this exchange started.
    assert isinstance(body.pop("conversation_id"), int), describe(r)
    assert body == {"message": "Hello there", "response": DUMMY_RESPONSE,
                    "remaining_tokens": SIGNUP_GRANT - CHAT_COST}, describe(r)
    assert get_balance(api, user.access) == SIGNUP_GRANT - CHAT_COST
    rows = assert_ledger_consistent(api, user.access)
    assert [(x["kind"], x["delta"], x["balance_after"]) for x in rows] == [
        ("signup_grant", SIGNUP_GRANT, SIGNUP_GRANT),
        ("chat_charge", -CHAT_COST, SIGNUP_GRANT - CHAT_COST),
    ]


def test_chat_echoes_unicode_message(api):
    user = new_user(api, "uni")
    message = "héllo wörld 🌍 — \"quoted\" \\ back\nslash\ttab"
    body = expect(api.post("/api/chat/", json={"message": message}, headers=user.headers), 200)
    assert body["message"] == message
    assert body["remaining_tokens"] == SIGNUP_GRANT - CHAT_COST
    assert_ledger_consistent(api, user.access)


def test_chat_remaining_tokens_counts_down(api):
    user = new_user(api, "down")
    seen = []
    for i in range(5):
        body = expect(api.post("/api/chat/", json={"message": f"m{i}"}, headers=user.headers), 200)
        seen.append(body["remaining_tokens"])
    assert seen == [SIGNUP_GRANT - CHAT_COST * (i + 1) for i in range(5)]
    rows = assert_ledger_consistent(api, user.access)
    assert [x["kind"] for x in rows] == ["signup_grant"] + ["chat_charge"] * 5


def test_chat_form_encoded(api):
    user = new_user(api, "form")
    r = api.post("/api/chat/", data={"message": "from a form"}, headers=user.headers)
    body = expect(r, 200)
    assert body["message"] == "from a form"
    assert body["remaining_tokens"] == SIGNUP_GRANT - CHAT_COST
    assert_ledger_consistent(api, user.access)


@pytest.mark.parametrize(
    "raw",
    [
        "{}",
        '{"message": ""}',
        '{"message": "   "}',
        '{"message": "\\n\\t "}',
        '{"message": 5}',
        '{"message": 0}',
        '{"message": 1.5}',
        '{"message": ["hello"]}',
        '{"message": null}',
        '{"message": {"text": "hello"}}',
        '{"message": true}',
        '{"msg": "hello"}',
        "[]",
        '["hello"]',
        '[{"message": "hello"}]',
        "5",
        '"hello"',
        "null",
        "true",
    ],
)
def test_message_required(api, raw):
    user = new_user(api, "req")
    r = api.post("/api/chat/", data=raw, headers={**user.headers, "Content-Type": "application/json"})
    expect(r, 400, REQUIRED)
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


def test_message_required_empty_bodies(api):
    user = new_user(api, "empty")
    # No body, no content type.
    expect(api.post("/api/chat/", headers=user.headers), 400, REQUIRED)
    # Empty form, and a form without the field.
    expect(api.post("/api/chat/", data={}, headers={**user.headers,
           "Content-Type": "application/x-www-form-urlencoded"}), 400, REQUIRED)
    expect(api.post("/api/chat/", data={"other": "x"}, headers=user.headers), 400, REQUIRED)
    expect(api.post("/api/chat/", data={"message": "  "}, headers=user.headers), 400, REQUIRED)
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


def test_message_length_limit_in_characters(api):
    user = new_user(api, "long")
    expect(api.post("/api/chat/", json={"message": "a" * 10001}, headers=user.headers), 400, too_long(10000))
    # Characters, not bytes: 10000 two-byte characters are fine, 10001 are not.
    expect(api.post("/api/chat/", json={"message": "é" * 10001}, headers=user.headers), 400, too_long(10000))
    body = expect(api.post("/api/chat/", json={"message": "é" * 10000}, headers=user.headers), 200)
    assert body["message"] == "é" * 10000
    body = expect(api.post("/api/chat/", json={"message": "a" * 10000}, headers=user.headers), 200)
    assert body["remaining_tokens"] == SIGNUP_GRANT - 2 * CHAT_COST
    assert_ledger_consistent(api, user.access)


def test_insufficient_tokens_after_forty_chats(api):
    user = new_user(api, "broke")
    for i in range(SIGNUP_GRANT // CHAT_COST):
        body = expect(api.post("/api/chat/", json={"message": f"#{i}"}, headers=user.headers), 200)
        assert body["remaining_tokens"] == SIGNUP_GRANT - CHAT_COST * (i + 1)
    assert get_balance(api, user.access) == 0
    for _ in range(3):
        expect(api.post("/api/chat/", json={"message": "one more"}, headers=user.headers), 403, INSUFFICIENT)
    assert get_balance(api, user.access) == 0
    rows = assert_ledger_consistent(api, user.access)
    assert len(rows) == 1 + SIGNUP_GRANT // CHAT_COST
    assert all(x["kind"] != "chat_refund" for x in rows)

    # The message is checked before the balance.
    expect(api.post("/api/chat/", json={}, headers=user.headers), 400, REQUIRED)
    expect(api.post("/api/chat/", json={"message": " "}, headers=user.headers), 400, REQUIRED)
    expect(api.post("/api/chat/", data="[]", headers={**user.headers, "Content-Type": "application/json"}),
           400, REQUIRED)
    expect(api.post("/api/chat/", json={"message": "x" * 10001}, headers=user.headers), 400, too_long(10000))

    # A top-up of exactly one chat makes one more chat possible, and no more.
    expect(top_up(api, user.access, CHAT_COST), 200)
    body = expect(api.post("/api/chat/", json={"message": "again"}, headers=user.headers), 200)
    assert body["remaining_tokens"] == 0
    expect(api.post("/api/chat/", json={"message": "again"}, headers=user.headers), 403, INSUFFICIENT)
    assert_ledger_consistent(api, user.access)


def test_partial_balance_is_not_enough(api):
    """A balance above zero but below the cost is refused and left untouched."""
    user = new_user(api, "partial")
    for _ in range(SIGNUP_GRANT // CHAT_COST):
        expect(api.post("/api/chat/", json={"message": "x"}, headers=user.headers), 200)
    expect(top_up(api, user.access, CHAT_COST - 1), 200)
    expect(api.post("/api/chat/", json={"message": "x"}, headers=user.headers), 403, INSUFFICIENT)
    assert get_balance(api, user.access) == CHAT_COST - 1
    assert_ledger_consistent(api, user.access)


def test_chat_cost_grant_and_length_are_configurable(start_server):
    srv = start_server(
        env={
            "CHATGATE_CHAT_COST_TOKENS": "250",
            "CHATGATE_SIGNUP_GRANT_TOKENS": "300",
            "CHATGATE_MAX_MESSAGE_CHARS": "5",
        },
        name="chat-config",
    )
    with Http(srv.base_url) as http:
        user = new_user(http, "cfg")
        assert get_balance(http, user.access) == 300
        expect(http.post("/api/chat/", json={"message": "123456"}, headers=user.headers), 400, too_long(5))
        body = expect(http.post("/api/chat/", json={"message": "12345"}, headers=user.headers), 200)
        body.pop("conversation_id")
        assert body == {"message": "12345", "response": DUMMY_RESPONSE, "remaining_tokens": 50}
        expect(http.post("/api/chat/", json={"message": "hi"}, headers=user.headers), 403, INSUFFICIENT)
        rows = assert_ledger_consistent(http, user.access)
        assert [(x["kind"], x["delta"]) for x in rows] == [("signup_grant", 300), ("chat_charge", -250)]


def test_chat_does_not_touch_other_users(api):
    a = new_user(api, "a")
    b = new_user(api, "b")
    expect(api.post("/api/chat/", json={"message": "x"}, headers=a.headers), 200)
    assert get_balance(api, b.access) == SIGNUP_GRANT
    assert get_balance(api, a.access) == SIGNUP_GRANT - CHAT_COST
    assert_ledger_consistent(api, a.access)
    assert_ledger_consistent(api, b.access)


def test_chat_body_is_json(api):
    user = new_user(api, "ct")
    r = api.post("/api/chat/", json={"message": "x"}, headers=user.headers)
    assert r.headers["Content-Type"].startswith("application/json"), describe(r)
    json.loads(r.text)
    assert_ledger_consistent(api, user.access)
