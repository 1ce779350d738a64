"""Tool calling and the passed request fields on /v1/chat/completions, through the fake
OpenAI-compatible upstream: every documented field reaches it as given, tool calls come back
whole and streamed (fragments with their index), tool turns go up, and billing follows the
upstream's usage, also for a client that leaves while tool-call fragments stream. Each money
case ends with the ledger check.
"""

from __future__ import annotations

import json
import time

import pytest

from client import SIGNUP_GRANT, Http, assert_ledger_consistent, describe, fetch_ledger, get_balance, new_user
from sse import stream_then_leave

fake_upstream_module = pytest.importorskip("fake_upstream")
unique = fake_upstream_module.unique

COMPLETIONS = "/v1/chat/completions"
MODEL = "fake"
PRICE = {"per_message": 10, "per_1k_prompt_tokens": 0, "per_1k_completion_tokens": 1000}
CAP = 256
DEADLINE = 15.0
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}}}}


def complete(server, account, **fields):
    with Http(server.base_url) as http:
        return http.post(COMPLETIONS, json={"model": MODEL, **fields}, headers=account.headers)


def events_of(r) -> list:
    assert r.status_code == 200, describe(r)
    out = []
    for block in r.text.split("\n\n"):
        data = [line[len("data: "):] for line in block.split("\n") if line.startswith("data: ")]
        if data:
            text = "\n".join(data)
            out.append(text if text == "[DONE]" else json.loads(text))
    return out


def test_every_passed_field_reaches_the_upstream_as_given(chatgate_with_model, fake_upstream):
    upstream_model = unique("echo")
    server = chatgate_with_model(upstream_model)
    user = new_user(server.base_url, "v1fields")
    fields = {
        "temperature": 0.3, "top_p": 0.9, "stop": ["\n\n"], "seed": 11, "presence_penalty": 0.5,
        "frequency_penalty": -0.5, "logit_bias": {"1734": -100}, "user": "end-user-7",
        "response_format": {"type": "json_object"}, "tools": [WEATHER], "tool_choice": "none",
        "parallel_tool_calls": False, "reasoning_effort": "low",
    }
    r = complete(server, user, messages=[{"role": "user", "content": "hi"}], **fields)
    assert r.status_code == 200, describe(r)
    # tool_choice "none": a text answer, here JSON as response_format asked.
    assert json.loads(r.json()["choices"][0]["message"]["content"]) == {"echo": "hi"}
    sent = fake_upstream.last_body(upstream_model)
    for key, value in fields.items():
        assert sent[key] == value, (key, sent)
    assert_ledger_consistent(server.base_url, user.access)


@pytest.mark.parametrize("stream", [False, True])
def test_a_tool_call_round_trip(chatgate_with_model, fake_upstream, stream):
    upstream_model = unique("echo")
    server = chatgate_with_model(upstream_model, price=PRICE, max_completion_tokens=CAP)
    user = new_user(server.base_url, "v1tools")
    question = [{"role": "user", "content": "Paris"}]
    r = complete(server, user, messages=question, tools=[WEATHER], stream=stream,
                 **({"stream_options": {"include_usage": True}} if stream else {}))
    arguments = json.dumps({"city": "Paris"})
    if stream:
        events = events_of(r)
        assert events[-1] == "[DONE]", events
        chunks = [e for e in events[:-1] if e["choices"]]
        pieces = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])]
        assert pieces[0]["index"] == 0 and pieces[0]["id"] and pieces[0]["type"] == "function"
        assert pieces[0]["function"]["name"] == "get_weather"
        assert len(pieces) > 2, "the arguments arrive in pieces"
        assert all("id" not in p and "name" not in p["function"] for p in pieces[1:])
        assert "".join(p["function"]["arguments"] for p in pieces) == arguments
        assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
        call_id = pieces[0]["id"]
        usage = events[-2]["usage"]
    else:
        assert r.status_code == 200, describe(r)
        choice = r.json()["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        assert choice["message"]["content"] is None
        [call] = choice["message"]["tool_calls"]
        assert call["type"] == "function" and call["function"] == {"name": "get_weather", "arguments": arguments}
        call_id = call["id"]
        usage = r.json()["usage"]
    # Billed like text: the fixed price and the upstream's completion tokens.
    first_cost = PRICE["per_message"] + usage["completion_tokens"]
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT - first_cost

    # The next turn carries the call and its result.
    history = question + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "sunny, 21 C"},
    ]
    r = complete(server, user, messages=history, tools=[WEATHER])
    assert r.status_code == 200, describe(r)
    assert r.json()["choices"][0]["message"]["content"] == "echo: tool said sunny, 21 C (turns: 3)"
    sent = fake_upstream.last_body(upstream_model)["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call_id and sent[2]["tool_call_id"] == call_id, sent
    second_cost = PRICE["per_message"] + r.json()["usage"]["completion_tokens"]
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT - first_cost - second_cost
    assert_ledger_consistent(server.base_url, user.access)


def test_parallel_calls_stream_with_their_own_index(chatgate_with_model):
    server = chatgate_with_model(unique("echo"))
    user = new_user(server.base_url, "v1par")
    r = complete(server, user, messages=[{"role": "user", "content": "Oslo"}], tools=[WEATHER, TIME], stream=True)
    chunks = [e for e in events_of(r)[:-1] if e["choices"]]
    calls: dict[int, dict] = {}
    for chunk in chunks:
        for piece in chunk["choices"][0]["delta"].get("tool_calls", []):
            call = calls.setdefault(piece["index"], {"name": "", "arguments": ""})
            call["name"] += piece["function"].get("name", "")
            call["arguments"] += piece["function"]["arguments"]
    assert calls == {0: {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                     1: {"name": "get_time", "arguments": '{"zone": "Oslo"}'}}
    assert_ledger_consistent(server.base_url, user.access)


def test_client_leaving_during_tool_call_fragments_is_billed_once(chatgate_with_model):
    # 300 ms between fragments: a long argument takes seconds to stream in full.
    tool = {"type": "function", "function": {"name": "write", "parameters": {
        "type": "object", "properties": {"text": {"type": "string"}}}}}
    server = chatgate_with_model(unique("slow", "300"), price=PRICE, max_completion_tokens=CAP)
    user = new_user(server.base_url, "v1toolgone")
    body = {"model": MODEL, "tools": [tool], "messages": [{"role": "user", "content": "x" * 200}]}
    seen = stream_then_leave(server.base_url, user.access, body, deltas=3, path=COMPLETIONS,
                             marker=b'"tool_calls"')
    assert seen.startswith(b"HTTP/1.1 200") and seen.count(b'"tool_calls"') >= 3, seen
    started = time.monotonic()
    with Http(server.base_url) as http:
        while True:
            try:
                rows = [r for r in fetch_ledger(http, user.access) if r["kind"].startswith("chat_")]
            except AssertionError:  # the refund landed between the ledger's count and its rows
                continue
            if len(rows) == 2 or time.monotonic() - started > DEADLINE:
                break
        assert sorted(r["kind"] for r in rows) == ["chat_charge", "chat_refund"], rows
        cost = -sum(r["delta"] for r in rows)
        # The fixed price and the fragments produced (estimated at 4 bytes a token), not the
        # whole 200-character argument.
        assert PRICE["per_message"] < cost < PRICE["per_message"] + 40, cost
        assert len([r for r in fetch_ledger(http, user.access) if r["kind"].startswith("chat_")]) == 2
    assert_ledger_consistent(server.base_url, user.access)


def test_tools_on_a_model_without_them_name_the_capability(chatgate_with_model):
    server = chatgate_with_model(unique("echo"), capabilities=["chat"])
    user = new_user(server.base_url, "v1nocap")
    r = complete(server, user, messages=[{"role": "user", "content": "hi"}], tools=[WEATHER])
    assert r.status_code == 400, describe(r)
    error = r.json()["error"]
    assert error["param"] == "tools" and "does not support tools" in error["message"], error
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(server.base_url, user.access)


def test_concurrent_tool_streams_responses_and_messages_settle_exactly(chatgate_with_model):
    """Many clients at once on every surface, some leaving mid tool-call stream: every
    reservation is settled exactly once and the ledger sums to the balance."""
    import threading

    # 21 exchanges at once, each reserving 10 + 128: within the signup grant.
    server = chatgate_with_model(unique("slow", "20"), price=PRICE, max_completion_tokens=128)
    user = new_user(server.base_url, "v1hammer")
    question = [{"role": "user", "content": "Lisbon"}]
    bodies = {
        COMPLETIONS: {"model": MODEL, "messages": question, "tools": [WEATHER], "stream": True},
        "/v1/responses": {"model": MODEL, "input": "Lisbon", "stream": True,
                          "tools": [{"type": "function", **WEATHER["function"]}]},
        "/v1/messages": {"model": MODEL, "max_tokens": 64, "messages": question, "stream": True,
                         "tools": [{"name": "get_weather", "input_schema": WEATHER["function"]["parameters"]}]},
    }
    failures: list = []

    def whole(path, body):
        try:
            with Http(server.base_url) as http:
                r = http.post(path, json=body, headers=user.headers)
                assert r.status_code == 200, describe(r)
        except Exception as e:  # collected: a thread's assertion would be lost
            failures.append(e)

    def leaver(path, body, marker):
        try:
            stream_then_leave(server.base_url, user.access, body, deltas=2, path=path, marker=marker)
        except Exception as e:
            failures.append(e)

    threads = []
    for path, body in bodies.items():
        for _ in range(4):
            threads.append(threading.Thread(target=whole, args=(path, body)))
    markers = {COMPLETIONS: b'"tool_calls"', "/v1/responses": b"function_call_arguments.delta",
               "/v1/messages": b"input_json_delta"}
    for path, body in bodies.items():
        for _ in range(3):
            threads.append(threading.Thread(target=leaver, args=(path, body, markers[path])))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    started = time.monotonic()
    with Http(server.base_url) as http:
        while True:
            try:
                rows = [r for r in fetch_ledger(http, user.access) if r["kind"].startswith("chat_")]
            except AssertionError:  # a refund landed between the ledger's count and its rows
                continue
            charges = [r for r in rows if r["kind"] == "chat_charge"]
            refunds = [r for r in rows if r["kind"] == "chat_refund"]
            if len(refunds) == len(charges) or time.monotonic() - started > DEADLINE:
                break
    assert len(charges) == len(threads), rows
    # Each charge settled once: one refund naming it (the per-token price leaves a part unused).
    settled = sorted(r["reference"] for r in refunds)
    assert settled == sorted(f"settles chat charge {c['id']}" for c in charges), rows
    assert_ledger_consistent(server.base_url, user.access)


def test_image_parts_pass_through_and_count_in_the_reservation(chatgate_with_model, fake_upstream):
    # 1 token per prompt token: an image reserved at 3000 tokens cannot fit the 4000 grant twice.
    price = {"per_message": 1, "per_1k_prompt_tokens": 1000, "per_1k_completion_tokens": 0}
    upstream_model = unique("echo")
    server = chatgate_with_model(upstream_model, price=price, capabilities=["chat", "tools", "vision"],
                                 image_token_bound=3000)
    user = new_user(server.base_url, "v1vision")
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}
    content = [{"type": "text", "text": "what is this?"}, image]
    r = complete(server, user, messages=[{"role": "user", "content": content}])
    assert r.status_code == 200, describe(r)
    assert fake_upstream.last_body(upstream_model)["messages"][0]["content"] == content  # as sent
    spent = SIGNUP_GRANT - get_balance(server.base_url, user.access)
    assert spent == 1 + r.json()["usage"]["prompt_tokens"], spent  # settled on the usage
    # Two images are bounded at 6000 tokens: more than the balance, refused before the upstream.
    r = complete(server, user, messages=[{"role": "user", "content": content + [image]}])
    assert r.status_code == 429 and r.json()["error"]["code"] == "insufficient_quota", describe(r)
    assert SIGNUP_GRANT - get_balance(server.base_url, user.access) == spent
    assert_ledger_consistent(server.base_url, user.access)
