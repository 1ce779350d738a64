"""API keys: /api/keys/, keys as Bearer credentials on /api/* and /v1, models and token_limit."""

from __future__ import annotations

import concurrent.futures
import re

import pytest

from client import (
    CHAT_COST,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    bearer,
    describe,
    expect,
    get_balance,
    new_user,
    top_up,
)
from test_operators_cli import run_ok

KEY_RE = re.compile(r"^sk-cg-[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$")
KEY_FIELDS = {"id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at",
              "models", "token_limit", "spent"}
INVALID_KEY = "Invalid, revoked or expired API key"


def create_key(api, user, **fields):
    body = {"name": "test key", **fields}
    r = api.post("/api/keys/", json=body, headers=user.headers)
    created = expect(r, 201)
    assert set(created) == KEY_FIELDS | {"key"}, describe(r)
    return created


def as_key(key: str) -> dict:
    return bearer(key)


def test_create_list_and_revoke(api):
    user = new_user(api, "key")
    created = create_key(api, user, name="ci", token_limit=500)
    assert KEY_RE.match(created["key"]), created
    assert created["key"].startswith(created["prefix"] + "_")
    assert (created["name"], created["token_limit"], created["spent"]) == ("ci", 500, 0)
    assert created["models"] is None and created["expires_at"] is None
    assert created["revoked_at"] is None

    listed = expect(api.get("/api/keys/", headers=user.headers), 200)["results"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert set(listed[0]) == KEY_FIELDS  # the secret is never shown again
    assert created["key"] not in api.get("/api/keys/", headers=user.headers).text

    expect(api.get("/api/tokens/", headers=as_key(created["key"])), 200, {"tokens": SIGNUP_GRANT})
    r = api.delete(f"/api/keys/{created['id']}/", headers=user.headers)
    assert r.status_code == 204, describe(r)
    # Revocation is effective at the very next request.
    r = api.get("/api/tokens/", headers=as_key(created["key"]))
    assert r.status_code == 401, describe(r)
    assert r.json()["messages"][0]["message"] == INVALID_KEY
    listed = expect(api.get("/api/keys/", headers=user.headers), 200)["results"]
    assert listed[0]["revoked_at"] is not None
    expect(api.delete(f"/api/keys/{created['id']}/", headers=user.headers), 404)


def test_last_used_is_recorded(api):
    user = new_user(api, "keyused")
    created = create_key(api, user)
    expect(api.get("/api/tokens/", headers=as_key(created["key"])), 200)
    listed = expect(api.get("/api/keys/", headers=user.headers), 200)["results"]
    assert listed[0]["last_used_at"] is not None


def test_another_users_key_is_not_found(api):
    owner = new_user(api, "keyown")
    other = new_user(api, "keyoth")
    created = create_key(api, owner)
    expect(api.delete(f"/api/keys/{created['id']}/", headers=other.headers), 404, {"detail": "Not found."})
    expect(api.get("/api/tokens/", headers=as_key(created["key"])), 200)


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "k", "token_limit": -1}, "token_limit"),
        ({"name": "k", "token_limit": 1.5}, "token_limit"),
        ({"name": "k", "token_limit": "5"}, "token_limit"),
        ({"name": "k", "models": []}, "models"),
        ({"name": "k", "models": ["no-such-model"]}, "models"),
        ({"name": "k", "models": "chatgate-builtin"}, "models"),
        ({"name": "k", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "k", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "k", "expires_at": "2099-02-30T00:00:00Z"}, "expires_at"),
    ],
)
def test_bad_key_requests_are_400_field_maps(api, body, field):
    user = new_user(api, "keybad")
    r = api.post("/api/keys/", json=body, headers=user.headers)
    got = expect(r, 400)
    assert field in got, describe(r)
    assert expect(api.get("/api/keys/", headers=user.headers), 200)["results"] == []


def test_garbage_keys_are_refused_alike(api):
    user = new_user(api, "keygarb")
    created = create_key(api, user)
    wrong_secret = created["key"][:-4] + ("AAAA" if not created["key"].endswith("AAAA") else "BBBB")
    for key in ["sk-cg-", "sk-cg-short", "sk-cg-" + "a" * 12 + "_" + "b" * 43, wrong_secret,
                created["key"] + "x"]:
        r = api.get("/api/tokens/", headers=as_key(key))
        assert r.status_code == 401, describe(r)
        assert r.json()["messages"][0]["message"] == INVALID_KEY


def test_keys_cannot_make_keys_or_change_the_password(api):
    user = new_user(api, "keypow")
    key = create_key(api, user)["key"]
    r = api.post("/api/keys/", json={"name": "again"}, headers=as_key(key))
    expect(r, 403)
    r = api.post("/api/password/", json={"old_password": user.password, "new_password": "Another-Pass-77"},
                 headers=as_key(key))
    expect(r, 403)
    # But a key may list and revoke keys (to rotate itself away).
    expect(api.get("/api/keys/", headers=as_key(key)), 200)


def test_expired_key_is_refused(api):
    user = new_user(api, "keyexp")
    created = create_key(api, user, expires_at="2099-01-01T00:00:00Z")
    assert created["expires_at"] == "2099-01-01T00:00:00Z"
    expect(api.get("/api/tokens/", headers=as_key(created["key"])), 200)


def test_password_change_keeps_keys(api):
    user = new_user(api, "keypwd")
    key = create_key(api, user)["key"]
    r = api.post("/api/password/", json={"old_password": user.password, "new_password": "Another-Pass-77"},
                 headers=user.headers)
    expect(r, 200)
    expect(api.get("/api/tokens/", headers=user.headers), 401)
    expect(api.get("/api/tokens/", headers=as_key(key)), 200)


def test_chat_with_a_key_bills_the_owner_and_the_key(api):
    user = new_user(api, "keychat")
    created = create_key(api, user, token_limit=1000)
    r = api.post("/api/chat/", json={"message": "hi"}, headers=as_key(created["key"]))
    body = expect(r, 200)
    assert body["remaining_tokens"] == SIGNUP_GRANT - CHAT_COST
    listed = expect(api.get("/api/keys/", headers=user.headers), 200)["results"]
    assert listed[0]["spent"] == CHAT_COST
    assert_ledger_consistent(api, user.access)


def test_models_restriction(start_server):
    """A key limited to one model may not use another, on /api/chat/ and /v1."""
    srv = start_server(config={"models": [{"id": "first"}, {"id": "second"}]})
    with Http(srv.base_url) as api:
        user = new_user(api, "keymodel")
        key = create_key(api, user, models=["second"])["key"]
        # The default model is "first": refused, and so is naming it.
        r = api.post("/api/chat/", json={"message": "hi"}, headers=as_key(key))
        expect(r, 403, {"error": 'This API key may not use the model "first".'})
        r = api.post("/v1/chat/completions", json={"model": "first", "messages": [{"role": "user", "content": "hi"}]},
                     headers=as_key(key))
        assert r.status_code == 403 and r.json()["error"]["type"] == "permission_error", describe(r)
        expect(api.post("/api/chat/", json={"message": "hi", "model": "second"}, headers=as_key(key)), 200)
        r = api.post("/v1/chat/completions", json={"model": "second", "messages": [{"role": "user", "content": "hi"}]},
                     headers=as_key(key))
        expect(r, 200)
        # The key's model list is all /v1/models shows it; the access token sees both.
        listed = expect(api.get("/v1/models", headers=as_key(key)), 200)["data"]
        assert [m["id"] for m in listed] == ["second"]
        listed = expect(api.get("/v1/models", headers=user.headers), 200)["data"]
        assert [m["id"] for m in listed] == ["first", "second"]
        assert get_balance(api, user.access) == SIGNUP_GRANT - 2 * CHAT_COST
        assert_ledger_consistent(api, user.access)


def test_key_in_x_api_key_on_messages(api):
    """Anthropic's libraries send the key bare in x-api-key: /v1/messages takes an API key there,
    bills it to the key, and refuses a revoked one at the next request."""
    user = new_user(api, "keyanthropic")
    created = create_key(api, user, token_limit=10 * CHAT_COST)
    body = {"model": "chatgate-builtin", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    r = api.post("/v1/messages", json=body, headers={"x-api-key": created["key"]})
    assert expect(r, 200)["type"] == "message"
    listed = expect(api.get("/api/keys/", headers=user.headers), 200)["results"]
    assert listed[0]["spent"] == CHAT_COST
    expect(api.delete(f"/api/keys/{created['id']}/", headers=user.headers), 204)
    r = api.post("/v1/messages", json=body, headers={"x-api-key": created["key"]})
    assert r.status_code == 401 and r.json()["type"] == "error", describe(r)
    assert get_balance(api, user.access) == SIGNUP_GRANT - CHAT_COST
    assert_ledger_consistent(api, user.access)


def test_token_limit_zero_refuses_paid_chats(api):
    user = new_user(api, "keyzero")
    key = create_key(api, user, token_limit=0)["key"]
    r = api.post("/api/chat/", json={"message": "hi"}, headers=as_key(key))
    expect(r, 403, {"error": "API key token limit reached"})
    r = api.post("/v1/chat/completions", json={"model": "chatgate-builtin", "messages": [{"role": "user", "content": "hi"}]},
                 headers=as_key(key))
    assert r.status_code == 429 and r.json()["error"]["code"] == "insufficient_quota", describe(r)
    assert r.headers.get("x-should-retry") == "false"
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


def test_token_limit_under_50_concurrent_requests(base_url, api):
    """50 chats at once on a key that covers exactly 7: exactly 7 are served, the key's spent
    is exactly its limit, and the owner's ledger sums to the balance."""
    user = new_user(api, "keyrace")
    expect(top_up(api, user.access, 10_000), 200)
    limit = 7 * CHAT_COST
    created = create_key(api, user, token_limit=limit)
    headers = as_key(created["key"])

    def one(i):
        with Http(base_url) as http:
            return http.post("/api/chat/", json={"message": f"race {i}"}, headers=headers).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(one, range(50)))
    assert statuses.count(200) == 7, statuses
    assert statuses.count(403) == 43, statuses
    listed = expect(api.get("/api/keys/", headers=user.headers), 200)["results"]
    assert listed[0]["spent"] == limit
    assert get_balance(api, user.access) == SIGNUP_GRANT + 10_000 - limit
    assert_ledger_consistent(api, user.access)


def test_deactivated_owner_is_refused_at_the_next_request(start_server, server_binary):
    """Deactivation through the command line takes effect on the key at once."""

    srv = start_server()
    with Http(srv.base_url) as api:
        user = new_user(api, "keydeact")
        key = create_key(api, user)["key"]
        expect(api.get("/api/tokens/", headers=as_key(key)), 200)
        run_ok(server_binary, srv, "users", "deactivate", user.username)
        r = api.get("/api/tokens/", headers=as_key(key))
        assert r.status_code == 401 and r.json()["code"] == "user_inactive", describe(r)
        run_ok(server_binary, srv, "users", "activate", user.username)
        expect(api.get("/api/tokens/", headers=as_key(key)), 200)


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/responses", {"model": "chatgate-builtin", "input": "hi"}),
        ("/v1/messages", {"model": "chatgate-builtin", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}),
    ],
)
def test_every_chat_surface_reserves_against_the_key(api, path, body):
    """A used-up key is refused on the Responses and Messages surfaces too, nothing charged;
    a key with room is charged there like on /api/chat/."""
    user = new_user(api, "keysurface")
    spent_key = create_key(api, user, token_limit=0)["key"]
    r = api.post(path, json=body, headers=as_key(spent_key))
    assert r.status_code in (400, 429), describe(r)
    assert get_balance(api, user.access) == SIGNUP_GRANT
    roomy = create_key(api, user, token_limit=CHAT_COST)
    expect(api.post(path, json=body, headers=as_key(roomy["key"])), 200)
    listed = {k["id"]: k for k in expect(api.get("/api/keys/", headers=user.headers), 200)["results"]}
    assert listed[roomy["id"]]["spent"] == CHAT_COST
    assert get_balance(api, user.access) == SIGNUP_GRANT - CHAT_COST
    assert_ledger_consistent(api, user.access)
