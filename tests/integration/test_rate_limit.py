"""Rate limits, failed-login lockout, trusted proxies and CORS, against the real binary.

The servers here run with tiny limits (a few requests per minute or quarter hour), so the
request after the quota is refused deterministically, without sleeping. The servers trust
127.0.0.1 as a reverse proxy, so each test plays its own clients by sending its own
X-Forwarded-For addresses, and tests never share a bucket.
"""

from __future__ import annotations

import itertools
import uuid

import pytest

from client import (
    MSG_NO_ACCOUNT,
    MSG_REGISTERED,
    PASSWORD,
    SIGNUP_GRANT,
    CHAT_COST,
    Http,
    assert_ledger_consistent,
    bearer,
    expect,
    login,
    new_user,
    post_as,
    unique_username,
)

LIMITS = (
    "read=3/1m,chat=2/1m,top_up=2/1m,register=3/1m,login=5/1m,"
    "failed_login_user=2/15m,failed_login_address=4/15m"
)
RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address no other test uses (TEST-NET-2 and -3 blocks, then more)."""
    n = next(_addresses)
    return f"198.{51 + n // 65536}.{(n // 256) % 256}.{n % 256}"


def client(base_url: str, address: str | None = None) -> Http:
    """An HTTP client that the server sees as coming from `address` (through the proxy)."""
    http = Http(base_url)
    http.headers["X-Forwarded-For"] = address or fresh_address()
    return http


def rate_headers(r) -> tuple[int, int, int]:
    return tuple(int(r.headers[name]) for name in RATE_HEADERS)


def assert_throttled(r, limit: int):
    body = expect(r, 429)
    assert set(body) == {"detail"}
    assert "Expected available in" in body["detail"]
    retry_after = int(r.headers["Retry-After"])
    assert retry_after >= 1
    got_limit, remaining, reset = rate_headers(r)
    assert (got_limit, remaining) == (limit, 0)
    assert reset >= retry_after
    assert str(retry_after) in body["detail"]
    return retry_after


@pytest.fixture(scope="module")
def limited(module_server_factory):
    return module_server_factory.start(
        env={
            "CHATGATE_RATE_LIMIT_ENABLED": "true",
            "CHATGATE_RATE_LIMITS": LIMITS,
            "CHATGATE_TRUSTED_PROXIES": "127.0.0.1, ::1",
        },
        name="limited",
    )


# ---- per-route limits ---------------------------------------------------------------


def test_reads_are_limited_per_user_with_headers(limited):
    with client(limited.base_url) as http:
        user = new_user(http, "rl")
        seen = []
        for expected_remaining in (2, 1, 0):
            r = http.get("/api/tokens/", headers=user.headers)
            expect(r, 200, {"tokens": SIGNUP_GRANT})
            limit, remaining, reset = rate_headers(r)
            assert (limit, remaining) == (3, expected_remaining)
            assert 0 < reset <= 60
            seen.append(reset)
        assert seen == sorted(seen), "the reset moves away as the quota is used"
        retry_after = assert_throttled(http.get("/api/tokens/", headers=user.headers), 3)
        assert retry_after <= 20  # one request back every 60/3 seconds
    # Another address does not help a user: the key is the user.
    with client(limited.base_url) as other:
        expect(other.get("/api/tokens/", headers=user.headers), 429)
        # ...and another user at the same address is unaffected.
        second = new_user(other, "rl2")
        expect(other.get("/api/tokens/", headers=second.headers), 200)


def test_chat_limit_refuses_without_charging(limited):
    with client(limited.base_url) as http:
        user = new_user(http, "rlchat")
        for _ in range(2):
            r = post_as(http, user.access, "/api/chat/", {"message": "hi"})
            expect(r, 200)
            assert all(name in r.headers for name in RATE_HEADERS)
        assert_throttled(post_as(http, user.access, "/api/chat/", {"message": "hi"}), 2)
        rows = assert_ledger_consistent(http, user.access)
        assert rows[-1]["balance_after"] == SIGNUP_GRANT - 2 * CHAT_COST, "a refused chat is free"


def test_top_up_limit_refuses_without_crediting(limited):
    with client(limited.base_url) as http:
        user = new_user(http, "rltop")
        for _ in range(2):
            expect(post_as(http, user.access, "/api/top-up/", {"tokens": 10}), 200)
        assert_throttled(post_as(http, user.access, "/api/top-up/", {"tokens": 10}), 2)
        rows = assert_ledger_consistent(http, user.access)
        assert rows[-1]["balance_after"] == SIGNUP_GRANT + 20


def test_register_limit_per_address_through_a_trusted_proxy(limited):
    address = fresh_address()
    with client(limited.base_url, address) as http:
        for _ in range(3):
            r = http.post("/api/register/", json={"username": unique_username("rlreg"), "password": PASSWORD})
            expect(r, 201, MSG_REGISTERED)
        r = http.post("/api/register/", json={"username": unique_username("rlreg"), "password": PASSWORD})
        assert_throttled(r, 3)
    # The proxy says another client is asking: it has its own quota.
    with client(limited.base_url) as other:
        r = other.post("/api/register/", json={"username": unique_username("rlreg"), "password": PASSWORD})
        expect(r, 201, MSG_REGISTERED)
    # A client cannot escape by prepending addresses: the proxy's own entry (right-most) counts.
    with client(limited.base_url, f"{fresh_address()}, {address}") as sneaky:
        r = sneaky.post("/api/register/", json={"username": unique_username("rlreg"), "password": PASSWORD})
        expect(r, 429)


def test_untrusted_peer_cannot_choose_its_address(module_server_factory):
    srv = module_server_factory.start(
        env={
            "CHATGATE_RATE_LIMIT_ENABLED": "true",
            "CHATGATE_RATE_LIMITS": "register=2/1m",
            "CHATGATE_TRUSTED_PROXIES": "10.0.0.0/8",
        },
        name="untrusting",
    )
    statuses = []
    for _ in range(3):
        with client(srv.base_url) as http:  # a new X-Forwarded-For each time: ignored
            r = http.post("/api/register/", json={"username": unique_username("rlut"), "password": PASSWORD})
            statuses.append(r.status_code)
    assert statuses == [201, 201, 429]


def test_unlimited_routes_carry_no_headers(limited):
    with client(limited.base_url) as http:
        for _ in range(10):
            r = http.get("/healthz")
            expect(r, 200)
            assert "RateLimit-Limit" not in r.headers


# ---- failed logins ------------------------------------------------------------------


def test_failed_logins_lock_the_username_even_for_the_right_password(limited):
    with client(limited.base_url) as http:
        user = new_user(http, "rlfail")
        for _ in range(3):  # successes never count
            login(http, user.username, user.password)
    for _ in range(2):
        with client(limited.base_url) as attacker:
            r = attacker.post("/api/login/", json={"username": user.username, "password": "wrong-Password-1"})
            expect(r, 401, MSG_NO_ACCOUNT)
    with client(limited.base_url) as owner:
        r = owner.post("/api/login/", json={"username": user.username, "password": user.password})
        retry_after = assert_throttled(r, 2)
        assert retry_after > 60  # 2 failures per 15 minutes: one back after 7.5 minutes
        # Other usernames are not locked.
        other = new_user(owner, "rlfail2")
        login(owner, other.username, other.password)
        assert_ledger_consistent(owner, other.access)


def test_look_alike_usernames_share_the_lockout(limited):
    with client(limited.base_url) as http:
        user = new_user(http, "rllook")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in user.username)
    for _ in range(2):
        with client(limited.base_url) as attacker:
            r = attacker.post("/api/login/", json={"username": fullwidth, "password": "wrong-Password-1"})
            expect(r, 401, MSG_NO_ACCOUNT)
    with client(limited.base_url) as owner:
        r = owner.post("/api/login/", json={"username": user.username, "password": user.password})
        assert_throttled(r, 2)


def test_failed_logins_limit_per_address_across_usernames(limited):
    victim_address = fresh_address()
    with client(limited.base_url) as http:
        user = new_user(http, "rladdr")
    with client(limited.base_url, victim_address) as guesser:
        for _ in range(4):
            r = guesser.post("/api/login/", json={"username": unique_username("nobody"), "password": "x-Wrong-9"})
            expect(r, 401, MSG_NO_ACCOUNT)
        # Even a correct login from this address waits now.
        r = guesser.post("/api/login/", json={"username": user.username, "password": user.password})
        assert_throttled(r, 4)
    with client(limited.base_url) as elsewhere:
        login(elsewhere, user.username, user.password)


def test_a_flood_of_new_addresses_does_not_erase_a_lockout(module_server_factory):
    # The smallest key table (64 keys): a few hundred addresses would push any key out of it.
    srv = module_server_factory.start(
        env={
            "CHATGATE_RATE_LIMIT_ENABLED": "true",
            "CHATGATE_RATE_LIMITS": "failed_login_user=2/15m,pages=100/1m",
            "CHATGATE_RATE_LIMIT_MAX_KEYS": "64",
            "CHATGATE_TRUSTED_PROXIES": "127.0.0.1",
        },
        name="small-table",
    )
    with client(srv.base_url) as http:
        user = new_user(http, "rlflood")
    for _ in range(2):
        with client(srv.base_url) as attacker:
            r = attacker.post("/api/login/", json={"username": user.username, "password": "wrong-Password-1"})
            expect(r, 401, MSG_NO_ACCOUNT)
    with client(srv.base_url) as owner:
        assert_throttled(owner.post("/api/login/", json={"username": user.username, "password": user.password}), 2)
    with Http(srv.base_url) as flood:
        for n in range(1000):
            flood.get("/", headers={"X-Forwarded-For": f"2001:db8:{n:x}::1"})
    with client(srv.base_url) as owner:
        r = owner.post("/api/login/", json={"username": user.username, "password": user.password})
        assert_throttled(r, 2)


def test_login_route_limit_counts_every_attempt(limited):
    with client(limited.base_url) as http:
        user = new_user(http, "rllogin")
        statuses = [
            http.post("/api/login/", json={"username": user.username, "password": user.password}).status_code
            for _ in range(5)
        ]
        # new_user logged in once already: four more pass, the sixth attempt is refused.
        assert statuses == [200, 200, 200, 200, 429]


# ---- switched off -------------------------------------------------------------------


def test_limits_can_be_switched_off(module_server_factory):
    srv = module_server_factory.start(
        env={"CHATGATE_RATE_LIMIT_ENABLED": "false", "CHATGATE_RATE_LIMITS": "read=1/1h"},
        name="unlimited",
    )
    with Http(srv.base_url) as http:
        user = new_user(http, "rloff")
        for _ in range(5):
            r = http.get("/api/tokens/", headers=user.headers)
            expect(r, 200)
            assert "RateLimit-Limit" not in r.headers
        assert_ledger_consistent(http, user.access)


@pytest.mark.parametrize(
    "env, key",
    [
        ({"CHATGATE_RATE_LIMITS": "read=lots"}, "rate_limits"),
        ({"CHATGATE_RATE_LIMITS": "reed=1/1m"}, "rate_limits"),
        ({"CHATGATE_TRUSTED_PROXIES": "10.0.0.0/40"}, "trusted_proxies"),
        ({"CHATGATE_CORS_ALLOWED_ORIGINS": "*", "CHATGATE_CORS_ALLOW_CREDENTIALS": "true"}, "cors_allowed_origins"),
        ({"CHATGATE_CORS_ALLOWED_ORIGINS": "app.example"}, "cors_allowed_origins"),
    ],
    ids=["limit-syntax", "limit-name", "proxy-prefix", "cors-star-credentials", "cors-not-origin"],
)
def test_bad_settings_stop_start_up_naming_the_key(start_server, env, key):
    srv = start_server.create(env=env, name="bad-limits")
    srv.spawn()
    rc = srv.proc.wait(timeout=20)
    srv._wait_exit(5)
    assert rc != 0
    assert key in srv.output()


# ---- CORS -----------------------------------------------------------------------------

ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def cors_server(module_server_factory):
    return module_server_factory.start(
        env={
            "CHATGATE_CORS_ALLOWED_ORIGINS": f"{ORIGIN}, http://localhost:3000",
            "CHATGATE_CORS_MAX_AGE_SECONDS": "120",
            "CHATGATE_RATE_LIMIT_ENABLED": "true",
        },
        name="cors",
    )


def preflight(http, origin, path="/api/chat/", method="POST"):
    headers = {"Access-Control-Request-Method": method, "Access-Control-Request-Headers": "authorization,content-type"}
    if origin:
        headers["Origin"] = origin
    return http.options(path, headers=headers)


def test_cors_preflight_for_an_allowed_origin(cors_server):
    with Http(cors_server.base_url) as http:
        r = preflight(http, ORIGIN)
        assert r.status_code == 204, r.text
        assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        allowed = r.headers["Access-Control-Allow-Headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
        assert r.headers["Access-Control-Max-Age"] == "120"
        assert "Origin" in r.headers["Vary"]
        assert "Access-Control-Allow-Credentials" not in r.headers


def test_cors_nothing_for_other_origins(cors_server):
    with Http(cors_server.base_url) as http:
        for origin in ("https://evil.example", "https://app.example.evil", "http://app.example", None):
            r = preflight(http, origin)
            assert r.status_code == 204
            cors = [h for h in r.headers if h.lower().startswith("access-control-")]
            assert cors == [], (origin, cors)
            r = http.get("/healthz", headers={"Origin": origin} if origin else {})
            assert "Access-Control-Allow-Origin" not in r.headers


def test_cors_answers_expose_the_rate_limit_headers(cors_server):
    with Http(cors_server.base_url) as http:
        user = new_user(http, "cors")
        r = http.get("/api/tokens/", headers={"Origin": ORIGIN, **bearer(user.access)})
        expect(r, 200)
        assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
        exposed = {h.strip().lower() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"} <= exposed
        assert all(name in r.headers for name in RATE_HEADERS)
        assert_ledger_consistent(http, user.access)


def test_cors_is_off_by_default(api):
    r = preflight(api, ORIGIN)
    assert r.status_code == 204
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]


def test_cors_refusals_from_the_transport_are_readable(cors_server):
    # Chunked, so the transport has read the headers when the body passes the limit (with a
    # Content-Length over the limit it refuses before reading them, and answers without CORS).
    def body():
        yield b'{"message":"'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    with Http(cors_server.base_url) as http:
        r = http.post("/api/register/", data=body(), headers={"Origin": ORIGIN, "Content-Type": "application/json"})
        assert r.status_code == 413
        assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
