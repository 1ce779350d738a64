"""Conversations of POST /api/chat/, their listing, reading and deletion, and the models."""

from __future__ import annotations

from client import (
    CHAT_COST,
    DUMMY_RESPONSE,
    SIGNUP_GRANT,
    assert_ledger_consistent,
    bearer,
    describe,
    expect,
    get_balance,
    new_user,
    post_as,
)

NOT_FOUND = {"detail": "Not found."}


def start_conversation(api, user, message="hello") -> int:
    body = expect(post_as(api, user.access, "/api/chat/", {"message": message}), 200)
    assert type(body["conversation_id"]) is int
    return body["conversation_id"]


def test_a_chat_starts_a_conversation_and_continues_it(api):
    user = new_user(api, "conv")
    first = start_conversation(api, user, "first question")
    r = post_as(api, user.access, "/api/chat/", {"message": "second", "conversation_id": first})
    body = expect(r, 200)
    assert body == {"message": "second", "response": DUMMY_RESPONSE,
                    "remaining_tokens": SIGNUP_GRANT - 2 * CHAT_COST, "conversation_id": first}
    other = start_conversation(api, user)
    assert other != first

    detail = expect(api.get(f"/api/conversations/{first}/", headers=user.headers), 200)
    assert detail["id"] == first and detail["title"] == "first question"
    assert detail["model"] == "chatgate-builtin" and detail["message_count"] == 2
    assert [(m["message"], m["response"], m["cost"], m["finish_reason"]) for m in detail["messages"]] == [
        ("first question", DUMMY_RESPONSE, CHAT_COST, "stop"),
        ("second", DUMMY_RESPONSE, CHAT_COST, "stop"),
    ]
    assert_ledger_consistent(api, user.access)


def test_another_users_or_an_unknown_conversation_is_not_found_and_free(api):
    owner = new_user(api, "owner")
    stranger = new_user(api, "stranger")
    conversation = start_conversation(api, owner)
    for cid in (conversation, 999_999_999, "999999999"):
        r = post_as(api, stranger.access, "/api/chat/", {"message": "hi", "conversation_id": cid})
        expect(r, 404, NOT_FOUND)
    expect(api.get(f"/api/conversations/{conversation}/", headers=stranger.headers), 404, NOT_FOUND)
    expect(api.delete(f"/api/conversations/{conversation}/", headers=stranger.headers), 404, NOT_FOUND)
    expect(api.get("/api/conversations/abc/", headers=stranger.headers), 404, NOT_FOUND)
    assert get_balance(api, stranger.access) == SIGNUP_GRANT
    assert expect(api.get("/api/conversations/", headers=stranger.headers), 200)["count"] == 0
    # The owner still has it, untouched.
    assert expect(api.get(f"/api/conversations/{conversation}/", headers=owner.headers), 200)["message_count"] == 1
    assert_ledger_consistent(api, stranger.access)
    assert_ledger_consistent(api, owner.access)


def test_bad_fields_are_field_errors_checked_before_the_balance(api):
    user = new_user(api, "fields")
    cases = [
        ({"model": "no-such-model"}, {"model": ['"no-such-model" is not a valid choice.']}),
        ({"model": 5}, {"model": ["Not a valid string."]}),
        ({"conversation_id": "abc"}, {"conversation_id": ["A valid integer is required."]}),
        ({"conversation_id": 1.5}, {"conversation_id": ["A valid integer is required."]}),
        ({"stream": "maybe"}, {"stream": ["Must be a valid boolean."]}),
    ]
    for extra, error in cases:
        expect(post_as(api, user.access, "/api/chat/", {"message": "hi", **extra}), 400, error)
    # The message rule of the contract still comes first.
    expect(post_as(api, user.access, "/api/chat/", {"model": "no-such-model"}), 400,
           {"error": "Message is required"})
    body = expect(post_as(api, user.access, "/api/chat/", {"message": "hi", "model": "chatgate-builtin",
                                                           "conversation_id": None}), 200)
    assert body["remaining_tokens"] == SIGNUP_GRANT - CHAT_COST
    rows = assert_ledger_consistent(api, user.access)
    assert [r["kind"] for r in rows] == ["signup_grant", "chat_charge"]


def test_conversations_page_like_transactions(api):
    user = new_user(api, "pages")
    ids = [start_conversation(api, user, f"question {i}") for i in range(3)]
    r = api.get("/api/conversations/?page_size=2", headers=user.headers)
    first = expect(r, 200)
    assert set(first) == {"count", "next", "previous", "results"}, describe(r)
    assert first["count"] == 3 and first["previous"] is None
    assert first["next"].endswith("/api/conversations/?page=2&page_size=2"), first["next"]
    # Most recently active first.
    assert [c["id"] for c in first["results"]] == [ids[2], ids[1]]
    assert set(first["results"][0]) == {"id", "title", "model", "message_count", "created_at", "updated_at"}
    second = expect(api.get("/api/conversations/?page=2&page_size=2", headers=user.headers), 200)
    assert [c["id"] for c in second["results"]] == [ids[0]]
    assert second["next"] is None and second["previous"].endswith("/api/conversations/?page_size=2")
    for bad in ("page=3&page_size=2", "page=0", "page=x"):
        expect(api.get(f"/api/conversations/?{bad}", headers=user.headers), 404, {"detail": "Invalid page."})
    # Continuing the oldest moves it to the front.
    post_as(api, user.access, "/api/chat/", {"message": "again", "conversation_id": ids[0]})
    again = expect(api.get("/api/conversations/", headers=user.headers), 200)
    assert [c["id"] for c in again["results"]] == [ids[0], ids[2], ids[1]]
    expect(api.get("/api/conversations/"), 401)
    assert_ledger_consistent(api, user.access)


def test_delete_removes_the_conversation_and_keeps_the_ledger(api):
    user = new_user(api, "delete")
    conversation = start_conversation(api, user)
    before = assert_ledger_consistent(api, user.access)
    r = api.delete(f"/api/conversations/{conversation}", headers=user.headers)
    assert r.status_code == 204 and r.content == b"", describe(r)
    expect(api.get(f"/api/conversations/{conversation}/", headers=user.headers), 404, NOT_FOUND)
    expect(api.delete(f"/api/conversations/{conversation}/", headers=user.headers), 404, NOT_FOUND)
    expect(post_as(api, user.access, "/api/chat/", {"message": "hi", "conversation_id": conversation}),
           404, NOT_FOUND)
    assert assert_ledger_consistent(api, user.access) == before


def test_models_lists_the_catalog(api):
    user = new_user(api, "models")
    body = expect(api.get("/api/models/", headers=bearer(user.access)), 200)
    assert body == {"default": "chatgate-builtin", "results": [{
        "id": "chatgate-builtin", "capabilities": ["chat"], "owned_by": "chatgate", "max_completion_tokens": 4096,
        "price": {"per_message": CHAT_COST, "per_1k_prompt_tokens": 0, "per_1k_completion_tokens": 0},
    }]}
    expect(api.get("/api/models/"), 401)
