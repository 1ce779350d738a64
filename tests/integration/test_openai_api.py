"""The OpenAI-compatible surface under /v1: shapes, errors, streaming frames and billing.

The API key is a chatgate access token. Every error under /v1 is OpenAI's error object
{"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import json
import threading

import pytest
import requests

from client import (
    CHAT_COST,
    DUMMY_RESPONSE,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    bearer,
    describe,
    get_balance,
    new_user,
)

COMPLETIONS = "/v1/chat/completions"
UNKNOWN_MODEL = "gpt-does-not-exist"


def openai_error(r, status: int, type_: str, code=None, param=None) -> dict:
    """Asserts OpenAI's error object with this status, type, code and param; returns it."""
    assert r.status_code == status, describe(r)
    assert r.headers.get("Content-Type", "").startswith("application/json"), describe(r)
    body = r.json()
    assert set(body) == {"error"}, describe(r)
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, describe(r)
    assert isinstance(error["message"], str) and error["message"], describe(r)
    assert error["type"] == type_, describe(r)
    assert error["code"] == code, describe(r)
    assert error["param"] == param, describe(r)
    return error


def default_model(api, user) -> str:
    r = api.get("/v1/models", headers=user.headers)
    assert r.status_code == 200, describe(r)
    return r.json()["data"][0]["id"]


def ask(api, user, model, content="Hello!", **fields):
    body = {"model": model, "messages": [{"role": "user", "content": content}], **fields}
    return api.post(COMPLETIONS, json=body, headers=user.headers)


def sse_events(r) -> list[str]:
    """The data of each event, in order; comment lines (keep-alive pings) are skipped."""
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type", "").startswith("text/event-stream"), describe(r)
    events = []
    for block in r.text.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        assert all(line.startswith("data: ") for line in lines), block
        events.append("\n".join(line[len("data: "):] for line in lines))
    return events


def assert_usage(usage):
    assert set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens"}, usage
    assert all(type(v) is int and v >= 0 for v in usage.values()), usage
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"], usage


# ---- models ---------------------------------------------------------------------------


def test_models_list_and_retrieve(api):
    user = new_user(api, "oaimodels")
    r = api.get("/v1/models", headers=user.headers)
    assert r.status_code == 200, describe(r)
    listing = r.json()
    assert set(listing) == {"object", "data"} and listing["object"] == "list", describe(r)
    assert listing["data"], "at least one model is configured"
    for model in listing["data"]:
        # OpenAI's four fields, and what chatgate adds: what the model can do and its prices.
        assert set(model) == {"id", "object", "created", "owned_by", "capabilities", "pricing"}, model
        assert "chat" in model["capabilities"], model
        assert set(model["pricing"]) == {"per_message", "per_1k_prompt_tokens", "per_1k_completion_tokens"}
        assert model["object"] == "model" and isinstance(model["id"], str), model
        assert type(model["created"]) is int and isinstance(model["owned_by"], str), model
        one = api.get(f"/v1/models/{model['id']}", headers=user.headers)
        assert one.status_code == 200 and one.json() == model, describe(one)
    # The trailing slash is optional, as on every chatgate path.
    assert api.get("/v1/models/", headers=user.headers).json() == listing

    # OpenAI's libraries percent-encode the id (ids such as "org/model" hold a slash).
    first = listing["data"][0]
    encoded = "".join(f"%{ord(c):02X}" for c in first["id"])
    assert api.get(f"/v1/models/{encoded}", headers=user.headers).json() == first

    missing = api.get(f"/v1/models/{UNKNOWN_MODEL}", headers=user.headers)
    openai_error(missing, 404, "invalid_request_error", "model_not_found", "model")


# ---- authentication -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["no-key", "garbage-key", "empty-bearer", "other-scheme"],
)
@pytest.mark.parametrize("method,path", [("GET", "/v1/models"), ("POST", COMPLETIONS)])
def test_authentication_failures_are_invalid_api_key(api, headers, method, path):
    r = api.request(method, path, json={"model": "x", "messages": []}, headers=headers)
    openai_error(r, 401, "authentication_error", "invalid_api_key")


def test_refresh_token_is_not_an_api_key(api):
    user = new_user(api, "oairefresh")
    r = api.get("/v1/models", headers=bearer(user.refresh))
    error = openai_error(r, 401, "authentication_error", "invalid_api_key")
    assert "wrong type" in error["message"]


# ---- routing and body errors ---------------------------------------------------------


def test_unknown_v1_path_and_wrong_method(api):
    user = new_user(api, "oairoute")
    missing = api.get("/v1/audio/speech", headers=user.headers)
    error = openai_error(missing, 404, "invalid_request_error")
    assert error["message"] == "Invalid URL (GET /v1/audio/speech)"

    wrong = api.get(COMPLETIONS, headers=user.headers)
    openai_error(wrong, 405, "invalid_request_error")
    assert "POST" in wrong.headers.get("Allow", ""), describe(wrong)

    # Outside /v1 the seed's shapes stay.
    seed = api.get("/api/nothing/")
    assert seed.status_code == 404 and seed.json() == {"detail": "Not found."}, describe(seed)


def test_body_over_the_limit_is_413_in_openai_shape(api):
    user = new_user(api, "oaibig")
    raw = json.dumps({"model": "x", "messages": [{"role": "user", "content": "x" * (2 * 1024 * 1024)}]})
    try:
        r = api.post(COMPLETIONS, data=raw, headers={**user.headers, "Content-Type": "application/json"})
    except requests.ConnectionError:
        pytest.skip("the server closed the connection before the client finished sending")
    openai_error(r, 413, "invalid_request_error")
    assert get_balance(api, user.access) == SIGNUP_GRANT


@pytest.mark.parametrize("raw", ["{", "not json", '{"model": "x",}'])
def test_malformed_json(api, raw):
    user = new_user(api, "oaijson")
    r = api.post(COMPLETIONS, data=raw, headers={**user.headers, "Content-Type": "application/json"})
    openai_error(r, 400, "invalid_request_error")
    assert get_balance(api, user.access) == SIGNUP_GRANT


@pytest.mark.parametrize(
    "body,param",
    [
        ({}, "model"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": 5, "messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": "$MODEL"}, "messages"),
        ({"model": "$MODEL", "messages": []}, "messages"),
        ({"model": "$MODEL", "messages": "hi"}, "messages"),
        ({"model": "$MODEL", "messages": ["hi"]}, "messages[0]"),
        ({"model": "$MODEL", "messages": [{"content": "hi"}]}, "messages[0].role"),
        ({"model": "$MODEL", "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
        # The builtin model has no tools and no vision: such turns name the capability.
        ({"model": "$MODEL", "messages": [{"role": "tool", "content": "hi"}]}, "messages[0]"),
        ({"model": "$MODEL", "messages": [{"role": "function", "content": "hi"}]}, "messages[0].role"),
        ({"model": "$MODEL", "messages": [{"role": "user"}]}, "messages[0].content"),
        ({"model": "$MODEL", "messages": [{"role": "user", "content": 7}]}, "messages[0].content"),
        (
            {"model": "$MODEL", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            "messages[0].content",
        ),
        (
            {"model": "$MODEL", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]},
            "messages[0].content[0].type",
        ),
        ({"model": "$MODEL", "messages": [{"role": "user", "content": "hi"}], "temperature": 2.5}, "temperature"),
        ({"model": "$MODEL", "messages": [{"role": "user", "content": "hi"}], "top_k": 3}, "top_k"),
        (
            {"model": "$MODEL", "messages": [{"role": "user", "content": "hi"}],
             "tools": [{"type": "function", "function": {"name": "f"}}]},
            "tools",
        ),
        ({"model": "$MODEL", "messages": [{"role": "user", "content": "hi"}], "n": 2}, "n"),
        ({"model": "$MODEL", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, "max_tokens"),
        ({"model": "$MODEL", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": "9"}, "max_completion_tokens"),
        ({"model": "$MODEL", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}, "stream"),
        (
            {"model": "$MODEL", "messages": [{"role": "user", "content": "hi"}], "stream_options": {"include_usage": True}},
            "stream_options",
        ),
    ],
)
def test_validation_errors_name_the_param(api, body, param):
    user = new_user(api, "oaival")
    model = default_model(api, user)
    body = json.loads(json.dumps(body).replace("$MODEL", model))
    r = api.post(COMPLETIONS, json=body, headers=user.headers)
    openai_error(r, 400, "invalid_request_error", None, param)
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_body_is_read_as_json_whatever_its_content_type(api, content_type):
    user = new_user(api, "oaict")
    model = default_model(api, user)
    raw = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]})
    headers = dict(user.headers)
    if content_type:
        headers["Content-Type"] = content_type
    r = api.post(COMPLETIONS, data=raw.encode(), headers=headers)
    assert r.status_code == 200, describe(r)
    assert r.json()["choices"][0]["message"]["content"] == DUMMY_RESPONSE
    assert get_balance(api, user.access) == SIGNUP_GRANT - CHAT_COST
    assert_ledger_consistent(api, user.access)


def test_body_that_is_not_an_object(api):
    user = new_user(api, "oaiarr")
    r = api.post(COMPLETIONS, json=[{"model": "x"}], headers=user.headers)
    openai_error(r, 400, "invalid_request_error")


def test_unknown_model_is_model_not_found_and_free(api):
    user = new_user(api, "oaiunknown")
    for stream in (False, True):
        r = ask(api, user, UNKNOWN_MODEL, stream=stream)
        error = openai_error(r, 404, "invalid_request_error", "model_not_found", "model")
        assert UNKNOWN_MODEL in error["message"]
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


# ---- completions --------------------------------------------------------------------------


def test_completion_shape_and_charge(api):
    user = new_user(api, "oaicomp")
    model = default_model(api, user)
    body = {
        "model": model,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Answer in English."},
            {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
            {"role": "assistant", "content": "Hi."},
            {"role": "user", "content": "How are you?"},
        ],
        "temperature": 0.5,
        "top_p": 1,
        "user": "someone",
        "n": 1,
        "max_tokens": 50,
    }
    r = api.post(COMPLETIONS, json=body, headers=user.headers)
    assert r.status_code == 200, describe(r)
    completion = r.json()
    assert set(completion) == {"id", "object", "created", "model", "choices", "usage"}, describe(r)
    assert completion["id"].startswith("chatcmpl-")
    assert completion["object"] == "chat.completion"
    assert type(completion["created"]) is int and completion["created"] > 1_600_000_000
    assert completion["model"] == model
    assert completion["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": DUMMY_RESPONSE, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert_usage(completion["usage"])

    assert get_balance(api, user.access) == SIGNUP_GRANT - CHAT_COST
    assert_ledger_consistent(api, user.access)
    # No conversation is kept for /v1.
    conversations = api.get("/api/conversations/", headers=user.headers)
    if conversations.status_code == 200:
        assert conversations.json()["count"] == 0, describe(conversations)


def test_completion_ids_differ(api):
    user = new_user(api, "oaiids")
    model = default_model(api, user)
    ids = {ask(api, user, model).json()["id"] for _ in range(3)}
    assert len(ids) == 3
    assert get_balance(api, user.access) == SIGNUP_GRANT - 3 * CHAT_COST
    assert_ledger_consistent(api, user.access)


def parse_chunks(events: list[str]) -> list[dict]:
    assert events and events[-1] == "[DONE]", events
    assert "[DONE]" not in events[:-1], events
    return [json.loads(e) for e in events[:-1]]


@pytest.mark.parametrize("include_usage", [False, True])
def test_streamed_completion_frames(api, include_usage):
    user = new_user(api, "oaistream")
    model = default_model(api, user)
    fields = {"stream": True}
    if include_usage:
        fields["stream_options"] = {"include_usage": True}
    r = ask(api, user, model, **fields)
    assert r.headers.get("Cache-Control") == "no-cache", describe(r)
    chunks = parse_chunks(sse_events(r))

    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and next(iter(ids)).startswith("chatcmpl-"), chunks
    for c in chunks:
        assert c["object"] == "chat.completion.chunk" and c["model"] == model, c
        assert type(c["created"]) is int, c
        assert ("usage" in c) == include_usage, c

    usage_chunk = chunks.pop() if include_usage else None
    first, *middle, last = chunks
    assert first["choices"][0]["delta"]["role"] == "assistant", first
    assert first["choices"][0]["finish_reason"] is None
    assert middle, "at least one content delta"
    text = first["choices"][0]["delta"].get("content", "")
    for c in middle:
        (choice,) = c["choices"]
        assert choice["index"] == 0 and choice["finish_reason"] is None and choice["logprobs"] is None, c
        assert set(choice["delta"]) == {"content"}, c
        text += choice["delta"]["content"]
    assert text == DUMMY_RESPONSE
    assert last["choices"] == [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}], last
    if include_usage:
        assert usage_chunk["choices"] == [], usage_chunk
        assert_usage(usage_chunk["usage"])
        assert all(c["usage"] is None for c in chunks)

    assert get_balance(api, user.access) == SIGNUP_GRANT - CHAT_COST
    assert_ledger_consistent(api, user.access)


def test_short_balance_is_insufficient_quota(start_server):
    srv = start_server(env={"CHATGATE_SIGNUP_GRANT_TOKENS": str(CHAT_COST + 50)}, name="oai-quota")
    with Http(srv.base_url) as http:
        user = new_user(http, "oaiquota")
        model = default_model(http, user)
        assert ask(http, user, model).status_code == 200
        assert get_balance(http, user.access) == 50
        for stream in (False, True):
            r = ask(http, user, model, stream=stream)
            openai_error(r, 429, "insufficient_quota", "insufficient_quota")
            assert r.headers.get("x-should-retry") == "false", describe(r)
            assert "Retry-After" not in r.headers, describe(r)
        assert get_balance(http, user.access) == 50
        assert_ledger_consistent(http, user.access)


def test_fifty_concurrent_streams_with_balance_for_twenty(start_server):
    srv = start_server(config={"signup_grant_tokens": 20 * CHAT_COST}, name="oai-fifty")
    with Http(srv.base_url) as http:
        user = new_user(http, "oaififty")
        model = default_model(http, user)
    n = 50
    barrier = threading.Barrier(n, timeout=60)
    results: list = [None] * n

    def worker(i):
        with Http(srv.base_url) as http:
            http.get("/healthz")  # connect before the start line
            barrier.wait()
            r = ask(http, user, model, f"hello {i}", stream=True)
            if r.status_code == 200:
                results[i] = sse_events(r)[-1]
            else:
                results[i] = (r.status_code, r.json()["error"]["code"])

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert results.count("[DONE]") == 20, results
    assert results.count((429, "insufficient_quota")) == 30, results
    with Http(srv.base_url) as http:
        assert get_balance(http, user.access) == 0
        assert_ledger_consistent(http, user.access)


def test_rate_limits_answer_in_openai_shape_and_share_the_chat_limit(start_server):
    srv = start_server(env={"CHATGATE_RATE_LIMIT_ENABLED": "true",
                            "CHATGATE_RATE_LIMITS": "read=4/1m,chat=2/1m"}, name="oai-limited")
    with Http(srv.base_url) as http:
        reader = new_user(http, "oairead")
        for _ in range(4):
            assert http.get("/v1/models", headers=reader.headers).status_code == 200
        r = http.get("/v1/models", headers=reader.headers)
        openai_error(r, 429, "requests", "rate_limit_exceeded")
        assert int(r.headers["Retry-After"]) >= 1, describe(r)

        # /v1 completions and /api/chat/ draw on the same per-user chat limit.
        chatter = new_user(http, "oaichat")
        model = default_model(http, chatter)
        assert http.post("/api/chat/", json={"message": "hi"}, headers=chatter.headers).status_code == 200
        assert ask(http, chatter, model).status_code == 200
        openai_error(ask(http, chatter, model), 429, "requests", "rate_limit_exceeded")
        assert get_balance(http, chatter.access) == SIGNUP_GRANT - 2 * CHAT_COST
        assert_ledger_consistent(http, chatter.access)
