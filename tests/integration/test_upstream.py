"""POST /api/chat/ through an OpenAI-compatible upstream (the fake in tests/fake_upstream).

Each case starts a chatgate whose default model is an ``openai`` model on the fake, picks
the fake's behaviour by the upstream model name, and ends with the ledger check.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from client import (
    CHAT_COST,
    SIGNUP_GRANT,
    assert_ledger_consistent,
    chat,
    describe,
    expect,
    get_balance,
    new_user,
)
from fake_upstream import FakeUpstream, unique
from server_process import ServerStartError

API_KEY = "sk-fake-secret-key-1234"
UNAVAILABLE = {"error": "The AI provider could not answer; no tokens were charged."}
TIMEOUT = {"error": "The AI provider did not answer in time; no tokens were charged."}
RATE_LIMITED = {"detail": "The AI provider is busy; no tokens were charged. Try again later."}
KEY_ENV = {"FAKE_OPENAI_KEY": API_KEY}


def kinds(rows):
    return [(row["kind"], row["delta"]) for row in rows]


def assert_refunded(server, user):
    """Nothing kept: the charge and its refund, and the full grant left."""
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT
    rows = assert_ledger_consistent(server.base_url, user.access)
    assert kinds(rows) == [("signup_grant", SIGNUP_GRANT), ("chat_charge", -CHAT_COST),
                           ("chat_refund", CHAT_COST)]


def assert_no_upstream_text(r):
    assert "crashed" not in r.text and API_KEY not in r.text, describe(r)


def test_answer_comes_from_the_upstream(chatgate_with_model, fake_upstream):
    model = unique("echo")
    server = chatgate_with_model(model, env=KEY_ENV, api_key_env="FAKE_OPENAI_KEY")
    user = new_user(server.base_url, "up")
    r = chat(server.base_url, user.access, "Hello upstream")
    expect(r, 200, {"message": "Hello upstream", "response": "echo: Hello upstream (turns: 1)",
                    "remaining_tokens": SIGNUP_GRANT - CHAT_COST, "conversation_id": 1})
    # What chatgate sent: the model's upstream name, the turn, the cap and the key.
    stats = fake_upstream.stats()
    assert stats["requests"][model] == 1
    assert stats["last_body"][model] == {
        "model": model,
        "messages": [{"role": "user", "content": "Hello upstream"}],
        "max_tokens": 256,
    }
    assert stats["last_authorization"][model] == f"Bearer {API_KEY}"
    rows = assert_ledger_consistent(server.base_url, user.access)
    assert kinds(rows) == [("signup_grant", SIGNUP_GRANT), ("chat_charge", -CHAT_COST)]
    # The key never reaches the log (the effective configuration is logged at start).
    assert API_KEY not in server.output()


def test_connections_are_reused_and_answers_stay_correct(chatgate_with_model, fake_upstream):
    model = unique("echo")
    server = chatgate_with_model(model)
    user = new_user(server.base_url, "reuse")
    for i in range(5):
        r = chat(server.base_url, user.access, f"message {i}")
        assert expect(r, 200)["response"] == f"echo: message {i} (turns: 1)"
    assert fake_upstream.requests_for(model) == 5
    assert get_balance(server.base_url, user.access) == SIGNUP_GRANT - 5 * CHAT_COST
    assert_ledger_consistent(server.base_url, user.access)


def test_upstream_500_is_a_502_with_a_full_refund(chatgate_with_model, fake_upstream):
    model = unique("error500")
    server = chatgate_with_model(model, env=KEY_ENV, api_key_env="FAKE_OPENAI_KEY", max_retries=2)
    user = new_user(server.base_url, "e500")
    r = chat(server.base_url, user.access)
    expect(r, 502, UNAVAILABLE)
    assert_no_upstream_text(r)
    assert fake_upstream.requests_for(model) == 3  # the first try and two retries
    # chatgate's retries are spent: OpenAI's libraries must not multiply them.
    assert r.headers.get("x-should-retry") == "false", describe(r)
    assert_refunded(server, user)
    # The upstream's text reaches the log, with the key masked.
    log = server.output()
    assert "the model crashed" in log and API_KEY not in log


def test_upstream_429_is_passed_on_with_retry_after(chatgate_with_model, fake_upstream):
    # 30 s is beyond what chatgate waits for itself: the client gets it at once.
    model = unique("ratelimit", "30")
    server = chatgate_with_model(model)
    user = new_user(server.base_url, "r429")
    r = chat(server.base_url, user.access)
    expect(r, 429, RATE_LIMITED)
    assert r.headers.get("Retry-After") == "30", describe(r)
    assert fake_upstream.requests_for(model) == 1
    assert_refunded(server, user)


def test_retries_then_success_charges_once(chatgate_with_model, fake_upstream):
    model = unique("flaky", "2")
    server = chatgate_with_model(model, max_retries=2)
    user = new_user(server.base_url, "flaky")
    r = chat(server.base_url, user.access, "again")
    expect(r, 200, {"message": "again", "response": "echo: again (turns: 1)",
                    "remaining_tokens": SIGNUP_GRANT - CHAT_COST, "conversation_id": 1})
    assert fake_upstream.requests_for(model) == 3
    rows = assert_ledger_consistent(server.base_url, user.access)
    assert kinds(rows) == [("signup_grant", SIGNUP_GRANT), ("chat_charge", -CHAT_COST)]


def test_retries_give_up_after_max_retries(chatgate_with_model, fake_upstream):
    model = unique("flaky", "5")
    server = chatgate_with_model(model, max_retries=1)
    user = new_user(server.base_url, "giveup")
    r = chat(server.base_url, user.access)
    expect(r, 502)
    assert r.headers.get("x-should-retry") == "false", describe(r)
    assert fake_upstream.requests_for(model) == 2
    assert_refunded(server, user)


@pytest.mark.parametrize("behaviour", ["stall", "silent"])
def test_a_silent_upstream_is_a_504_within_the_deadline(chatgate_with_model, fake_upstream, behaviour):
    # stall sends the header and then nothing (idle deadline); silent sends nothing at all
    # (first-byte deadline).
    model = unique(behaviour)
    server = chatgate_with_model(
        model, timeouts_ms={"connect": 2000, "first_byte": 500, "idle": 500, "total": 20000})
    user = new_user(server.base_url, behaviour)
    started = time.monotonic()
    r = chat(server.base_url, user.access)
    elapsed = time.monotonic() - started
    expect(r, 504, TIMEOUT)
    assert 0.4 <= elapsed < 3.0, elapsed
    assert fake_upstream.requests_for(model) == 1  # a request that was sent is not retried
    assert_refunded(server, user)


def test_total_deadline_bounds_a_slow_answer(chatgate_with_model, fake_upstream):
    model = unique("slow", "300")  # about 1.5 s for the whole answer
    server = chatgate_with_model(
        model, timeouts_ms={"connect": 2000, "first_byte": 5000, "idle": 5000, "total": 600})
    user = new_user(server.base_url, "total")
    started = time.monotonic()
    expect(chat(server.base_url, user.access), 504)
    assert time.monotonic() - started < 1.5
    assert_refunded(server, user)


@pytest.mark.parametrize("behaviour", ["malformed", "cut"])
def test_a_broken_answer_is_a_502(chatgate_with_model, fake_upstream, behaviour):
    model = unique(behaviour)
    server = chatgate_with_model(model)
    user = new_user(server.base_url, behaviour)
    r = chat(server.base_url, user.access)
    expect(r, 502, UNAVAILABLE)
    assert fake_upstream.requests_for(model) == 1  # an answer that started is not retried
    assert_refunded(server, user)


def test_connection_refused_is_a_502_after_retries(chatgate_with_model):
    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        server = chatgate_with_model("echo", base_url=f"http://127.0.0.1:{port}", max_retries=2)
        user = new_user(server.base_url, "refused")
        started = time.monotonic()
        expect(chat(server.base_url, user.access), 502)
        assert time.monotonic() - started < 5.0
    assert_refunded(server, user)


# ---- HTTPS ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory):
    """The fake behind a self-signed certificate for localhost and 127.0.0.1."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is not installed")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, timeout=60)
    if made.returncode != 0:
        pytest.skip(f"openssl could not make a certificate: {made.stderr[-300:]!r}")
    try:
        fake = FakeUpstream(["--tls-cert", str(cert), "--tls-key", str(key)]).start()
    except RuntimeError as exc:
        pytest.skip(f"python's ssl cannot serve the certificate: {exc}")
    yield fake, cert
    fake.stop()


def test_https_to_an_untrusted_certificate_is_refused(chatgate_with_model, tls_upstream):
    fake, _ = tls_upstream
    model = unique("echo")
    server = chatgate_with_model(model, base_url=fake.url, max_retries=0)
    user = new_user(server.base_url, "tls")
    expect(chat(server.base_url, user.access), 502)
    assert model not in fake.stats()["requests"]  # nothing was sent over the unverified link
    assert server.wait_for_output("certificate verify failed")
    assert_refunded(server, user)


def test_https_with_the_certificate_trusted_works(chatgate_with_model, tls_upstream):
    # OpenSSL's default verify paths honour SSL_CERT_FILE: trusting the test CA that way
    # shows the refusal above is the certificate check and not a broken TLS client.
    fake, cert = tls_upstream
    model = unique("echo")
    for host in ("localhost", "127.0.0.1"):
        base = fake.url.replace("127.0.0.1", host)
        server = chatgate_with_model(model, base_url=base, env={"SSL_CERT_FILE": str(cert)})
        user = new_user(server.base_url, "tlsok")
        expect(chat(server.base_url, user.access, "secure"), 200,
               {"message": "secure", "response": "echo: secure (turns: 1)",
                "remaining_tokens": SIGNUP_GRANT - CHAT_COST, "conversation_id": 1})
        assert_ledger_consistent(server.base_url, user.access)


# ---- configuration --------------------------------------------------------------------


@pytest.mark.parametrize("models, key", [
    ([{"id": "a", "provider": "openai", "base_url": "ftp://x"}], "models[0].base_url"),
    ([{"id": "a"}, {"id": "a"}], "models[1].id"),
    ([{"id": "a", "provider": "openai", "base_url": "http://x", "api_key_env": "CHATGATE_TEST_UNSET_KEY"}],
     "models[0].api_key_env"),
    ([{"id": "a", "price": {"per_1k_completion_tokens": 5}}], "models[0].max_completion_tokens"),
])
def test_bad_models_refuse_to_start_naming_the_key(start_server, models, key):
    srv = start_server.create(config={"models": models}, name="bad-models")
    srv.spawn()
    with pytest.raises(ServerStartError):
        srv.wait_listening(timeout=20)
    assert srv.returncode not in (None, 0)
    assert f"'{key}'" in srv.output(), srv.output()[-2000:]


def test_models_from_the_environment(start_server, fake_upstream):
    import json

    model = unique("echo")
    entry = {"id": "env-model", "provider": "openai", "base_url": fake_upstream.url + "/v1",
             "upstream_model": model, "price": {"per_message": 7}}
    server = start_server(env={"CHATGATE_MODELS": json.dumps([entry])})
    user = new_user(server.base_url, "envm")
    body = expect(chat(server.base_url, user.access, "hi"), 200)
    assert body["response"] == "echo: hi (turns: 1)"
    assert body["remaining_tokens"] == SIGNUP_GRANT - 7
    assert_ledger_consistent(server.base_url, user.access)
