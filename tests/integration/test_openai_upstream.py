"""/v1/chat/completions through an OpenAI-compatible upstream (the fake in tests/fake_upstream):
the history reaches the upstream, its usage comes back, and every upstream failure is OpenAI's
error object (or, once a stream has started, an error event), each case ending with the
ledger check.
"""

from __future__ import annotations

import json
import time

import pytest

from client import (
    CHAT_COST,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    describe,
    get_balance,
    new_user,
)

fake_upstream_module = pytest.importorskip("fake_upstream")
unique = fake_upstream_module.unique

COMPLETIONS = "/v1/chat/completions"
MODEL = "fake"  # the id chatgate_with_model gives its only model
FAST_DEADLINES = {"connect": 1000, "first_byte": 1000, "idle": 1000, "total": 5000}


def approx_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


def complete(server, user, messages, **fields):
    with Http(server.base_url) as http:
        return http.post(COMPLETIONS, json={"model": MODEL, "messages": messages, **fields},
                         headers=user.headers)


def events_of(r) -> list:
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type", "").startswith("text/event-stream"), describe(r)
    out = []
    for block in r.text.split("\n\n"):
        data = [line[len("data: "):] for line in block.split("\n") if line.startswith("data: ")]
        if data:
            text = "\n".join(data)
            out.append(text if text == "[DONE]" else json.loads(text))
    return out


def assert_openai_error(r, status, type_, code):
    assert r.status_code == status, describe(r)
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}, describe(r)
    assert (error["type"], error["code"]) == (type_, code), describe(r)
    assert "crashed" not in r.text and "sk-" not in r.text, "no upstream text reaches the client"


def test_history_goes_upstream_and_usage_comes_back(chatgate_with_model, fake_upstream):
    upstream_model = unique("echo")
    server = chatgate_with_model(upstream_model)
    user = new_user(server.base_url, "v1up")
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "echo: first (turns: 2)"},
        {"role": "user", "content": [{"type": "text", "text": "second"}]},
    ]
    r = complete(server, user, messages, max_tokens=10)
    assert r.status_code == 200, describe(r)
    completion = r.json()
    text = "echo: second (turns: 4)"
    assert completion["choices"][0]["message"]["content"] == text
    assert completion["model"] == MODEL

    sent = fake_upstream.last_body(upstream_model)
    assert sent["model"] == upstream_model
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "echo: first (turns: 2)"},
        {"role": "user", "content": [{"type": "text", "text": "second"}]},  # as the client sent it
    ]
    assert 10 in (sent.get("max_tokens"), sent.get("max_completion_tokens")), sent

    prompt = sum(approx_tokens("second" if isinstance(m["content"], list) else m["content"]) + 3
                 for m in sent["messages"])
    completion_tokens = len(text.split(" "))
    assert completion["usage"] == {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                                   "total_tokens": prompt + completion_tokens}
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT - CHAT_COST
    assert_ledger_consistent(server.base_url, user.access)


def test_streamed_answer_relays_every_delta_and_the_usage(chatgate_with_model, fake_upstream):
    upstream_model = unique("long", "20")
    server = chatgate_with_model(upstream_model)
    user = new_user(server.base_url, "v1long")
    r = complete(server, user, [{"role": "user", "content": "count"}], stream=True,
                 stream_options={"include_usage": True})
    events = events_of(r)
    assert events[-1] == "[DONE]", events
    chunks = events[:-1]
    usage = chunks.pop()["usage"]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == " ".join(f"word{i}" for i in range(20))
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert usage["completion_tokens"] == 20, usage
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT - CHAT_COST
    assert_ledger_consistent(server.base_url, user.access)


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_500_is_a_502_and_free(chatgate_with_model, stream):
    server = chatgate_with_model(unique("error500"), max_retries=0)
    user = new_user(server.base_url, "v1e500")
    r = complete(server, user, [{"role": "user", "content": "hi"}], stream=stream)
    assert_openai_error(r, 502, "server_error", "upstream_error")
    assert "x-should-retry" not in r.headers  # chatgate did not retry: the client may
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(server.base_url, user.access)


@pytest.mark.parametrize("stream", [False, True])
def test_after_chatgates_own_retries_a_502_says_do_not_retry(chatgate_with_model, fake_upstream, stream):
    model = unique("error500")
    server = chatgate_with_model(model, max_retries=2)
    user = new_user(server.base_url, "v1retried")
    r = complete(server, user, [{"role": "user", "content": "hi"}], stream=stream)
    assert_openai_error(r, 502, "server_error", "upstream_error")
    assert r.headers.get("x-should-retry") == "false"
    assert fake_upstream.requests_for(model) == 3
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(server.base_url, user.access)


def test_upstream_429_is_a_rate_limit_with_retry_after(chatgate_with_model):
    server = chatgate_with_model(unique("ratelimit", "30"), max_retries=0)
    user = new_user(server.base_url, "v1rl")
    r = complete(server, user, [{"role": "user", "content": "hi"}])
    assert_openai_error(r, 429, "requests", "rate_limit_exceeded")
    assert r.headers.get("Retry-After") == "30", describe(r)
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(server.base_url, user.access)


def test_silent_upstream_is_a_504_before_the_stream_starts(chatgate_with_model):
    server = chatgate_with_model(unique("silent"), max_retries=0, timeouts_ms=FAST_DEADLINES)
    user = new_user(server.base_url, "v1silent")
    r = complete(server, user, [{"role": "user", "content": "hi"}], stream=True)
    assert_openai_error(r, 504, "server_error", "upstream_timeout")
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(server.base_url, user.access)


def test_a_stream_cut_midway_ends_with_an_error_event(chatgate_with_model):
    server = chatgate_with_model(unique("cut"), max_retries=0, timeouts_ms=FAST_DEADLINES)
    user = new_user(server.base_url, "v1cut")
    r = complete(server, user, [{"role": "user", "content": "a b c d e f"}], stream=True)
    events = events_of(r)
    assert "[DONE]" not in events, events
    *chunks, last = events
    assert chunks and chunks[0]["choices"][0]["delta"]["role"] == "assistant", events
    assert set(last) == {"error"}, last
    assert set(last["error"]) == {"message", "type", "param", "code"}, last
    assert last["error"]["type"] == "server_error", last
    # Billed at most once, for what was delivered; the ledger still sums to the balance.
    assert SIGNUP_GRANT - CHAT_COST <= get_balance(server.base_url, user.access) <= SIGNUP_GRANT
    assert_ledger_consistent(server.base_url, user.access)


def access_log_lines(server, route):
    for line in server.output().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == "request" and entry.get("route") == route:
            yield entry


def test_a_client_leaving_midway_stops_the_upstream_read_and_bills_once(chatgate_with_model):
    # 40 words 300 ms apart: reading the upstream to its end would take 12 s.
    server = chatgate_with_model(unique("slow", "300"), max_retries=0,
                                 timeouts_ms={"connect": 1000, "first_byte": 5000, "idle": 5000,
                                              "total": 30000})
    user = new_user(server.base_url, "v1gone")
    words = " ".join(f"w{i}" for i in range(40))
    with Http(server.base_url) as http:
        r = http.post(COMPLETIONS, json={"model": MODEL, "stream": True,
                                         "messages": [{"role": "user", "content": words}]},
                      headers=user.headers, stream=True)
        assert r.status_code == 200, describe(r)
        for line in r.iter_lines():
            if line.startswith(b"data: ") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                break  # the first words have arrived: leave
        r.close()
    left = time.monotonic()

    # The stream ends (its access-log line is written last) well before the upstream would
    # have finished: chatgate stopped reading it.
    deadline = left + 5
    while not list(access_log_lines(server, COMPLETIONS)):
        assert time.monotonic() < deadline, "the stream did not end within 5 s of the client leaving"
        time.sleep(0.05)
    assert time.monotonic() - left < 5

    balance = get_balance(server.base_url, user.access)
    assert SIGNUP_GRANT - CHAT_COST <= balance < SIGNUP_GRANT, "billed once, for what was produced"
    assert_ledger_consistent(server.base_url, user.access)
