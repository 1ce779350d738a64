"""Selling tokens through Stripe: checkouts created against a local fake of Stripe's API, and the
webhook signed with the official stripe library's test helper. A valid event credits once,
however often and concurrently it is delivered; a tampered, stale or wrongly signed one is the
same 400 and moves nothing; a refund after spending leaves the documented debt, which the next
credit pays first. Every money test ends with the ledger check."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import time

import pytest

from client import Http, assert_ledger_consistent, chat, expect, get_balance, new_user
from fake_stripe import FakeStripe
from test_concurrency import run_together

SIGNER = pathlib.Path(__file__).resolve().parent / "stripe_sign.mjs"
SECRET_KEY = "sk_test_chatgate_suite"
WEBHOOK_SECRET = "whsec_chatgate_suite_signing_secret"
WEBHOOK = "/api/payments/stripe/webhook"
BAD = {"error": "Invalid webhook request."}
PRICES = [{"price": "price_small", "tokens": 1000}, {"price": "price_big", "tokens": 50000}]
AMOUNT = 500  # cents of price_small


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    request = {"payload": payload, "secret": secret, "timestamp": timestamp or int(time.time())}
    done = subprocess.run(["node", str(SIGNER)], input=json.dumps(request), capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.strip()


def deliver(http, payload: str, header: str | None):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return http.post(WEBHOOK, data=payload.encode(), headers=headers)


def completed(event_id: str, session: str, user_id: int, intent: str, amount: int = AMOUNT) -> str:
    """A checkout.session.completed event as Stripe writes it (the fields chatgate reads)."""
    return json.dumps({
        "id": event_id, "object": "event", "type": "checkout.session.completed",
        "api_version": "2024-06-20", "created": int(time.time()), "livemode": False,
        "data": {"object": {
            "id": session, "object": "checkout.session", "mode": "payment", "status": "complete",
            "payment_status": "paid", "client_reference_id": str(user_id),
            "metadata": {"chatgate_user": str(user_id)}, "payment_intent": intent,
            "amount_total": amount, "currency": "usd"}}})


def refunded(event_id: str, intent: str, amount_refunded: int, amount: int = AMOUNT) -> str:
    return json.dumps({
        "id": event_id, "object": "event", "type": "charge.refunded", "livemode": False,
        "data": {"object": {"id": "ch_" + intent, "object": "charge", "payment_intent": intent,
                            "amount": amount, "amount_refunded": amount_refunded,
                            "refunded": amount_refunded >= amount, "currency": "usd"}}})


@pytest.fixture(scope="module")
def stripe_fake():
    with FakeStripe(SECRET_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
def shop(module_server_factory, stripe_fake):
    """A server selling tokens: no free sign-up grant, no free top-ups."""
    config = {"signup_grant_tokens": 0, "top_up_enabled": False,
              "stripe": {"api_base": stripe_fake.base_url, "secret_key_env": "TEST_STRIPE_KEY",
                         "webhook_secret_env": "TEST_STRIPE_WHSEC", "prices": PRICES,
                         "success_url": "https://chat.example.com/paid?session={CHECKOUT_SESSION_ID}",
                         "cancel_url": "https://chat.example.com/shop"}}
    return module_server_factory.start(
        env={"TEST_STRIPE_KEY": SECRET_KEY, "TEST_STRIPE_WHSEC": WEBHOOK_SECRET},
        config=config, name="shop")


@pytest.fixture
def http(shop):
    with Http(shop.base_url) as h:
        yield h


def checkout(http, user, price="price_small"):
    r = http.post("/api/payments/checkout/", json={"price": price}, headers=user.headers)
    expect(r, 200)
    return r.json()



def test_checkout_sends_stripe_the_fields_and_returns_its_url(http, stripe_fake):
    user = new_user(http, "buyer")
    session = checkout(http, user)
    assert session["url"] == f"https://checkout.stripe.com/c/pay/{session['id']}"
    sent = stripe_fake.requests[-1]
    assert sent["form"]["line_items[0][price]"] == "price_small"
    assert sent["form"]["client_reference_id"] == str(user.user_id)
    assert sent["form"]["metadata[chatgate_user]"] == str(user.user_id)
    assert sent["form"]["success_url"].startswith("https://chat.example.com/paid")
    assert sent["headers"]["Idempotency-Key"]
    r = http.post("/api/payments/checkout/", json={"price": "price_unknown"}, headers=user.headers)
    expect(r, 400, {"price": ["Unknown price."]})
    assert get_balance(http, user.access) == 0  # nothing is credited before the payment
    assert_ledger_consistent(http, user.access)


def test_a_checkout_retried_with_its_idempotency_key_is_the_same_checkout(http, stripe_fake):
    user = new_user(http, "retry")
    headers = {**user.headers, "Idempotency-Key": "checkout-retry-1"}
    before = len(stripe_fake.requests)
    first = http.post("/api/payments/checkout/", json={"price": "price_small"}, headers=headers)
    again = http.post("/api/payments/checkout/", json={"price": "price_small"}, headers=headers)
    expect(first, 200)
    expect(again, 200, first.json())
    assert len(stripe_fake.requests) == before + 1


def test_a_failing_stripe_is_a_502_and_stores_nothing(http, stripe_fake):
    user = new_user(http, "buyer")
    stripe_fake.fail_with = 500
    try:
        r = http.post("/api/payments/checkout/", json={"price": "price_small"}, headers=user.headers)
    finally:
        stripe_fake.fail_with = None
    expect(r, 502)
    assert "error" in r.json()


def test_a_signed_event_credits_once_and_bad_signatures_move_nothing(http):
    user = new_user(http, "payer")
    session = checkout(http, user)
    payload = completed("evt_once_1", session["id"], user.user_id, "pi_once_1")
    # Tampered, stale, wrongly signed, unsigned: the same 400, nothing moves.
    good = sign(payload)
    tampered = payload.replace(f'"{user.user_id}"', f'"{user.user_id + 1}"', 1)
    for body, header in [(tampered, good),
                         (payload, sign(payload, timestamp=int(time.time()) - 3600)),
                         (payload, sign(payload, secret="whsec_someone_else")),
                         (payload, None),
                         (payload, "t=1,v1=00"),
                         ("not json", sign("not json"))]:
        expect(deliver(http, body, header), 400, BAD)
    assert get_balance(http, user.access) == 0
    expect(deliver(http, payload, good), 200, {"received": True})
    assert get_balance(http, user.access) == 1000
    # Replayed: nothing more.
    expect(deliver(http, payload, sign(payload)), 200)
    assert get_balance(http, user.access) == 1000
    rows = assert_ledger_consistent(http, user.access)
    assert [(r["kind"], r["delta"]) for r in rows] == [("payment_credit", 1000)]
    assert rows[0]["reference"] == "payment pi_once_1"


def test_a_rotated_secret_signature_among_several_is_accepted(http):
    user = new_user(http, "rotate")
    session = checkout(http, user)
    payload = completed("evt_rotate_1", session["id"], user.user_id, "pi_rotate_1")
    now = int(time.time())
    old = sign(payload, secret="whsec_retired_secret", timestamp=now)
    new = sign(payload, timestamp=now)
    header = old + "," + new.split(",", 1)[1]  # t=..,v1=<old>,v1=<new>
    expect(deliver(http, payload, header), 200)
    assert get_balance(http, user.access) == 1000
    assert_ledger_consistent(http, user.access)


def test_the_same_event_delivered_twenty_times_at_once_credits_once(http, shop):
    user = new_user(http, "race")
    session = checkout(http, user, "price_big")
    payload = completed("evt_race_1", session["id"], user.user_id, "pi_race_1", amount=20000)
    header = sign(payload)
    answers = run_together(shop.base_url, [lambda h: deliver(h, payload, header)] * 20)
    assert [r.status_code for r in answers] == [200] * 20
    assert get_balance(http, user.access) == 50000
    rows = assert_ledger_consistent(http, user.access)
    assert [r["kind"] for r in rows] == ["payment_credit"]


def test_an_event_for_another_users_session_credits_nobody(http):
    owner = new_user(http, "owner")
    thief = new_user(http, "thief")
    session = checkout(http, owner)
    payload = completed("evt_thief_1", session["id"], thief.user_id, "pi_thief_1")
    expect(deliver(http, payload, sign(payload)), 200)
    assert get_balance(http, owner.access) == 0 and get_balance(http, thief.access) == 0
    for u in (owner, thief):
        assert_ledger_consistent(http, u.access)


def test_a_refund_after_spending_leaves_a_debt_the_next_payment_pays_first(http, shop, server_binary):
    from test_operators_cli import make_superuser

    staff = make_superuser(server_binary, shop, http)

    def debt():
        r = http.get(f"/api/admin/users/{user.user_id}/", headers=staff.headers)
        expect(r, 200)
        return r.json()["debt"]

    user = new_user(http, "refund")
    first = checkout(http, user)
    paid = completed("evt_debt_pay_1", first["id"], user.user_id, "pi_debt_1")
    expect(deliver(http, paid, sign(paid)), 200)
    for _ in range(8):  # 800 of the 1000 spent
        expect(chat(http, user.access), 200)
    assert get_balance(http, user.access) == 200
    # Half refunded (cumulative 250 of 500 cents): 500 tokens owed, 200 there, 300 debt.
    half = refunded("evt_debt_refund_1", "pi_debt_1", 250)
    expect(deliver(http, half, sign(half)), 200)
    assert get_balance(http, user.access) == 0
    expect(deliver(http, half, sign(half)), 200)  # replayed: nothing more
    # Then all of it: only the other half is owed now.
    assert debt() == 300
    full = refunded("evt_debt_refund_2", "pi_debt_1", 500)
    expect(deliver(http, full, sign(full)), 200)
    assert get_balance(http, user.access) == 0
    assert debt() == 800
    # The next payment pays the 800 of debt first.
    second = checkout(http, user)
    paid2 = completed("evt_debt_pay_2", second["id"], user.user_id, "pi_debt_2")
    expect(deliver(http, paid2, sign(paid2)), 200)
    assert get_balance(http, user.access) == 200
    assert debt() == 0
    rows = assert_ledger_consistent(http, user.access)
    kinds = [(r["kind"], r["delta"]) for r in rows if r["kind"] != "chat_charge"]
    assert kinds == [("payment_credit", 1000), ("payment_refund", -200),
                     ("payment_credit", 1000), ("debt_repayment", -800)]


def test_a_delayed_payment_credits_when_it_succeeds(http):
    user = new_user(http, "delayed")
    session = checkout(http, user)
    unpaid = completed("evt_delayed_1", session["id"], user.user_id, "pi_delayed_1")
    unpaid = unpaid.replace('"payment_status": "paid"', '"payment_status": "unpaid"')
    expect(deliver(http, unpaid, sign(unpaid)), 200)
    assert get_balance(http, user.access) == 0
    succeeded = completed("evt_delayed_2", session["id"], user.user_id, "pi_delayed_1")
    succeeded = succeeded.replace("checkout.session.completed", "checkout.session.async_payment_succeeded")
    expect(deliver(http, succeeded, sign(succeeded)), 200)
    assert get_balance(http, user.access) == 1000
    assert_ledger_consistent(http, user.access)


def test_other_event_types_are_acknowledged_and_ignored(http):
    payload = json.dumps({"id": "evt_other_1", "type": "customer.created",
                          "data": {"object": {"id": "cus_1", "object": "customer"}}})
    expect(deliver(http, payload, sign(payload)), 200)


def test_the_account_lists_the_price_table_for_the_pages(http):
    user = new_user(http, "shopper")
    body = expect(http.get("/api/account/", headers=user.headers), 200)
    assert body["payments"] == {"enabled": True, "prices": PRICES}
    assert body["top_up"]["enabled"] is False
    assert_ledger_consistent(http, user.access)


def test_without_a_stripe_configuration_the_payment_routes_are_404(api):
    user = new_user(api, "nostripe")
    r = api.post("/api/payments/checkout/", json={"price": "price_small"}, headers=user.headers)
    expect(r, 404, {"detail": "Payments are not configured."})
    payload = json.dumps({"id": "evt_x", "type": "charge.refunded", "data": {"object": {}}})
    expect(deliver(api, payload, sign(payload)), 404, {"detail": "Payments are not configured."})


def shop_config(api_base: str, **stripe) -> dict:
    return {"signup_grant_tokens": 0, "top_up_enabled": False,
            "stripe": {"api_base": api_base, "secret_key_env": "TEST_STRIPE_KEY",
                       "webhook_secret_env": "TEST_STRIPE_WHSEC", "prices": PRICES,
                       "success_url": "https://chat.example.com/paid",
                       "cancel_url": "https://chat.example.com/shop", **stripe}}


SECRETS_ENV = {"TEST_STRIPE_KEY": SECRET_KEY, "TEST_STRIPE_WHSEC": WEBHOOK_SECRET}


def test_a_silent_stripe_is_a_504_within_the_total_deadline(start_server):
    with FakeStripe(SECRET_KEY) as fake:
        fake.hang.set()
        srv = start_server(env=SECRETS_ENV, config=shop_config(fake.base_url, total_timeout_ms=1000))
        with Http(srv.base_url) as h:
            user = new_user(h, "slow")
            started = time.monotonic()
            r = h.post("/api/payments/checkout/", json={"price": "price_small"}, headers=user.headers)
            took = time.monotonic() - started
            expect(r, 504)
            assert 0.9 <= took < 5, took
            assert get_balance(h, user.access) == 0


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is not installed")
    directory = tmp_path_factory.mktemp("stripe-tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)], capture_output=True, timeout=60)
    if made.returncode != 0:
        pytest.skip(f"openssl could not make a certificate: {made.stderr[-300:]!r}")
    return cert, key


def test_https_to_stripe_verifies_the_certificate(start_server, certificate):
    cert, key = certificate
    with FakeStripe(SECRET_KEY, tls_cert=cert, tls_key=key) as fake:
        base = f"https://localhost:{fake.port}"
        untrusting = start_server(env=SECRETS_ENV, config=shop_config(base), name="untrusting")
        with Http(untrusting.base_url) as h:
            user = new_user(h, "tls")
            r = h.post("/api/payments/checkout/", json={"price": "price_small"}, headers=user.headers)
            expect(r, 502)
        assert fake.requests == []  # nothing went over the unverified link
        trusting = start_server(env={**SECRETS_ENV, "SSL_CERT_FILE": str(cert)},
                                config=shop_config(base), name="trusting")
        with Http(trusting.base_url) as h:
            user = new_user(h, "tls")
            session = checkout(h, user)
            assert session["id"].startswith("cs_test_")
        assert fake.requests[-1]["headers"]["Authorization"] == f"Bearer {SECRET_KEY}"


def test_the_secrets_never_reach_the_log(shop):
    text = shop.stderr_tail(400)
    assert SECRET_KEY not in text and WEBHOOK_SECRET not in text
