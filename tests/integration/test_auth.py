"""Register, login, token refresh and JWT authentication (contract: seed-contract.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid

import pytest

from client import (
    MSG_BAD_HEADER,
    MSG_NO_ACCOUNT,
    MSG_NOT_PROVIDED,
    MSG_REGISTERED,
    PASSWORD,
    SIGNUP_GRANT,
    WWW_AUTHENTICATE,
    Http,
    access_claims,
    assert_ledger_consistent,
    b64url_decode,
    b64url_encode,
    bearer,
    describe,
    expect,
    get_balance,
    jwt_header,
    jwt_payload,
    login,
    mint_jwt,
    new_user,
    register,
    token_not_valid,
    unique_username,
)

REQUIRED = "This field is required."
BLANK = "This field may not be blank."
NULL = "This field may not be null."
NOT_STRING = "Not a valid string."
DUPLICATE = "user with this username already exists."
USERNAME_TOO_LONG = "Ensure this field has no more than 50 characters."
PASSWORD_TOO_LONG = "Ensure this field has no more than 128 characters."
BAD_USERNAME = (
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
)
PW_SIMILAR = "The password is too similar to the username."
PW_SHORT = "This password is too short. It must contain at least 8 characters."
PW_COMMON = "This password is too common."
PW_NUMERIC = "This password is entirely numeric."

PROTECTED = [
    ("GET", "/api/tokens/", None),
    ("GET", "/api/transactions/", None),
    ("POST", "/api/chat/", {"message": "hi"}),
    ("POST", "/api/top-up/", {"tokens": 5}),
    ("POST", "/api/password/", {"old_password": "not-it-at-all", "new_password": "Another-Pass-77"}),
]


def post_register(api, body):
    return api.post("/api/register/", json=body)


# ---- register -------------------------------------------------------------------


def test_register_success_shape_and_grant(api):
    username = unique_username("reg")
    r = post_register(api, {"username": username, "password": PASSWORD})
    expect(r, 201, MSG_REGISTERED)
    tokens = login(api, username)
    assert get_balance(api, tokens["access"]) == SIGNUP_GRANT
    rows = assert_ledger_consistent(api, tokens["access"])
    assert [(x["kind"], x["delta"], x["balance_after"]) for x in rows] == [
        ("signup_grant", SIGNUP_GRANT, SIGNUP_GRANT)
    ]


def test_register_duplicate_username(api):
    username, _ = register(api)
    r = post_register(api, {"username": username, "password": "Another-Pass-4821"})
    expect(r, 400, {"username": [DUPLICATE]})
    # The original password still works and the user was not re-granted.
    user_tokens = login(api, username)
    assert get_balance(api, user_tokens["access"]) == SIGNUP_GRANT
    assert_ledger_consistent(api, user_tokens["access"])


@pytest.mark.parametrize(
    "body, errors",
    [
        ({}, {"username": [REQUIRED], "password": [REQUIRED]}),
        ({"password": PASSWORD}, {"username": [REQUIRED]}),
        ({"username": "@U"}, {"password": [REQUIRED]}),
        ({"username": "", "password": PASSWORD}, {"username": [BLANK]}),
        ({"username": "   ", "password": PASSWORD}, {"username": [BLANK]}),
        ({"username": "@U", "password": ""}, {"password": [BLANK]}),
        ({"username": "@U", "password": "   "}, {"password": [BLANK]}),
        ({"username": "", "password": ""}, {"username": [BLANK], "password": [BLANK]}),
        ({"username": None, "password": PASSWORD}, {"username": [NULL]}),
        ({"username": "@U", "password": None}, {"password": [NULL]}),
        ({"username": None, "password": None}, {"username": [NULL], "password": [NULL]}),
        ({"username": ["a"], "password": PASSWORD}, {"username": [NOT_STRING]}),
        ({"username": {"a": 1}, "password": PASSWORD}, {"username": [NOT_STRING]}),
        ({"username": True, "password": PASSWORD}, {"username": [NOT_STRING]}),
        ({"username": "@U", "password": ["x"]}, {"password": [NOT_STRING]}),
        ({"username": "@U", "password": False}, {"password": [NOT_STRING]}),
        ({"username": "x" * 51, "password": PASSWORD}, {"username": [USERNAME_TOO_LONG]}),
        ({"username": "@U", "password": "Zq9-" * 32 + "x"}, {"password": [PASSWORD_TOO_LONG]}),
        ({"password": ""}, {"username": [REQUIRED], "password": [BLANK]}),
        ({"username": None, "password": ""}, {"username": [NULL], "password": [BLANK]}),
        ({"username": "bad name!", "password": "xQ7#"}, {"username": [BAD_USERNAME], "password": [PW_SHORT]}),
    ],
    ids=lambda v: repr(v)[:60] if isinstance(v, dict) else None,
)
def test_register_field_errors(api, body, errors):
    body = dict(body)
    if body.get("username") == "@U":
        body["username"] = unique_username("fe")
    r = post_register(api, body)
    got = expect(r, 400, errors)
    # When both fields fail, both keys appear, username first.
    assert list(got) == [k for k in ("username", "password") if k in errors], describe(r)


def test_register_username_max_length_is_accepted(api):
    username = ("ml_" + uuid.uuid4().hex + "x" * 50)[:50]
    assert len(username) == 50
    register(api, username)
    login(api, username)


@pytest.mark.parametrize("bad", ["has space", "semi;colon", "slash/name", "bang!", "quote'", "comma,x", "tab\tx", "hash#", "nul\x00x", "new\nline"])
def test_register_username_character_rule(api, bad):
    username = f"{uuid.uuid4().hex[:8]}{bad}"
    r = post_register(api, {"username": username, "password": PASSWORD})
    expect(r, 400, {"username": [BAD_USERNAME]})


def test_register_unicode_letters_are_allowed(api):
    """Django's default UnicodeUsernameValidator accepts letters beyond ASCII."""
    username = f"jürgen_ñ_{uuid.uuid4().hex[:12]}"
    register(api, username)
    tokens = login(api, username)
    assert get_balance(api, tokens["access"]) == SIGNUP_GRANT


def fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def circled(text):
    return "".join(chr(0x24D0 + ord(c) - ord("a")) if "a" <= c <= "z" else c for c in text)


@pytest.mark.parametrize("look_alike", [
    lambda u: u[:2] + "\u200b" + u[2:],   # zero-width space
    lambda u: "\u202e" + u,               # right-to-left override
    lambda u: u[:2] + "\u00ad" + u[2:],   # soft hyphen
    lambda u: "\ufeff" + u,               # byte order mark
    lambda u: u[:2] + "\u00a0" + u[2:],   # no-break space
    lambda u: u + "\u2028",               # line separator
    lambda u: u + "\U0001f600",           # emoji
], ids=["zwsp", "rlo", "shy", "bom", "nbsp", "u2028", "emoji"])
def test_look_alike_usernames_are_refused(api, look_alike):
    username = unique_username("admin")
    register(api, username)
    r = post_register(api, {"username": look_alike(username), "password": PASSWORD})
    expect(r, 400, {"username": [BAD_USERNAME]})


@pytest.mark.parametrize("variant", [fullwidth, circled], ids=["fullwidth", "circled"])
def test_compatibility_forms_are_the_name_they_look_like(api, variant):
    username = "admin" + uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "ghijklmnop"))
    register(api, username)
    look_alike = variant(username)
    assert look_alike != username
    expect(post_register(api, {"username": look_alike, "password": PASSWORD}), 400, {"username": [DUPLICATE]})
    # Login normalises the same way: the look-alike is the same account.
    tokens = login(api, look_alike, PASSWORD)
    assert jwt_payload(tokens["access"])["user_id"] == jwt_payload(login(api, username)["access"])["user_id"]
    assert_ledger_consistent(api, tokens["access"])


def test_a_compatibility_form_registers_as_its_normal_form(api):
    username = "nf" + uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "ghijklmnop"))
    expect(post_register(api, {"username": fullwidth(username), "password": PASSWORD}), 201, MSG_REGISTERED)
    tokens = login(api, username, PASSWORD)
    assert get_balance(api, tokens["access"]) == SIGNUP_GRANT


@pytest.mark.sqlite_only("writes a row into the SQLite file directly")
def test_an_account_registered_before_normalising_still_logs_in(start_server):
    import sqlite3

    srv = start_server(name="legacy-names")
    with Http(srv.base_url) as http:
        model = new_user(http, "legacy")
    legacy = "\uff4c\uff45\uff47\uff41\uff43\uff59" + uuid.uuid4().hex[:6]  # fullwidth "legacy"
    db = sqlite3.connect(srv.data_dir / "chatgate.sqlite3", timeout=10)
    try:
        with db:  # as an older chatgate stored it, before names were normalised
            db.execute("INSERT INTO users (username, password_hash, tokens, date_joined)"
                       " SELECT ?, password_hash, 0, date_joined FROM users WHERE username = ?",
                       (legacy, model.username))
    finally:
        db.close()
    with Http(srv.base_url) as http:
        tokens = login(http, legacy, model.password)
        assert jwt_payload(tokens["access"])["user_id"] != jwt_payload(model.access)["user_id"]
        assert get_balance(http, tokens["access"]) == 0
        assert_ledger_consistent(http, tokens["access"])


def test_register_username_allowed_special_characters(api):
    username = f"a.b@c+d-e_{uuid.uuid4().hex[:12]}"
    register(api, username)
    tokens = login(api, username)
    assert get_balance(api, tokens["access"]) == SIGNUP_GRANT


@pytest.mark.parametrize(
    "password_for, expected",
    [
        (lambda u: "Zx9#qw", [PW_SHORT]),
        (lambda u: "password", [PW_COMMON]),
        (lambda u: "iloveyou", [PW_COMMON]),
        (lambda u: "839201746512", [PW_NUMERIC]),
        (lambda u: "12345678", [PW_COMMON, PW_NUMERIC]),
        (lambda u: "1234567", [PW_SHORT, PW_COMMON, PW_NUMERIC]),
        (lambda u: u, [PW_SIMILAR]),
        (lambda u: u[:7], [PW_SIMILAR, PW_SHORT]),
    ],
    ids=["short", "common", "common2", "numeric", "common+numeric", "short+common+numeric", "similar", "similar+short"],
)
def test_register_password_rules(api, password_for, expected):
    # Letters only: a name with a run of digits can resemble "12345678" and add the similarity error.
    username = "kx" + uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))
    password = password_for(username)
    r = post_register(api, {"username": username, "password": password})
    expect(r, 400, {"password": expected})
    # Nothing was created: a valid registration of the same name still works.
    register(api, username)


def test_register_trims_whitespace_and_login_trims_too(api):
    username = unique_username("trim")
    r = post_register(api, {"username": f"  {username}\t ", "password": f"  {PASSWORD}  "})
    expect(r, 201, MSG_REGISTERED)
    # Stored trimmed: plain credentials log in...
    tokens = login(api, username, PASSWORD)
    assert get_balance(api, tokens["access"]) == SIGNUP_GRANT
    # ...and login trims too.
    r = api.post("/api/login/", json={"username": f" {username}  ", "password": f"\t{PASSWORD} "})
    assert r.status_code == 200, describe(r)
    # The trimmed name is taken.
    expect(post_register(api, {"username": username, "password": PASSWORD}), 400, {"username": [DUPLICATE]})


def test_usernames_are_case_sensitive(api):
    base = "CaSe_" + uuid.uuid4().hex[:12]
    register(api, base, PASSWORD)
    register(api, base.lower(), "Second-Pass-7731")
    register(api, base.upper(), "Third-Pass-9124")
    # Each name has its own password.
    login(api, base, PASSWORD)
    login(api, base.lower(), "Second-Pass-7731")
    r = api.post("/api/login/", json={"username": base.lower(), "password": PASSWORD})
    expect(r, 401, MSG_NO_ACCOUNT)
    r = api.post("/api/login/", json={"username": base.swapcase(), "password": PASSWORD})
    expect(r, 401, MSG_NO_ACCOUNT)


def test_register_ignores_extra_fields(api):
    username = unique_username("extra")
    body = {"username": username, "password": PASSWORD, "is_staff": True, "is_superuser": True,
            "tokens": 999999, "id": 1, "is_active": False}
    expect(post_register(api, body), 201, MSG_REGISTERED)
    tokens = login(api, username)  # is_active was ignored too
    assert get_balance(api, tokens["access"]) == SIGNUP_GRANT
    rows = assert_ledger_consistent(api, tokens["access"])
    assert [(x["kind"], x["delta"]) for x in rows] == [("signup_grant", SIGNUP_GRANT)]


@pytest.mark.parametrize("path", ["/api/register/", "/api/login/"])
@pytest.mark.parametrize(
    "raw, type_name",
    [("[]", "list"), ('["a", "b"]', "list"), ("5", "int"), ("1.5", "float"), ('"text"', "str"), ("true", "bool")],
)
def test_non_object_json_body(api, path, raw, type_name):
    r = api.post(path, data=raw, headers={"Content-Type": "application/json"})
    expect(r, 400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type_name}."]})


@pytest.mark.parametrize("path", ["/api/register/", "/api/login/"])
def test_null_json_body(api, path):
    r = api.post(path, data="null", headers={"Content-Type": "application/json"})
    expect(r, 400, {"non_field_errors": ["No data provided"]})


# ---- login ----------------------------------------------------------------------


def test_login_success_shape_and_access_works(api):
    username, password = register(api)
    r = api.post("/api/login/", json={"username": username, "password": password})
    body = expect(r, 200)
    assert set(body) == {"refresh", "access"}, describe(r)
    for tok in body.values():
        assert isinstance(tok, str) and tok.count(".") == 2
    assert jwt_payload(body["access"])["token_type"] == "access"
    assert jwt_payload(body["refresh"])["token_type"] == "refresh"
    assert get_balance(api, body["access"]) == SIGNUP_GRANT
    assert_ledger_consistent(api, body["access"])


def test_login_wrong_password(api):
    username, _ = register(api)
    r = api.post("/api/login/", json={"username": username, "password": "Wrong-Pass-0000"})
    expect(r, 401, MSG_NO_ACCOUNT)
    assert r.headers.get("WWW-Authenticate") == WWW_AUTHENTICATE, describe(r)


def test_login_unknown_user(api):
    r = api.post("/api/login/", json={"username": unique_username("ghost"), "password": PASSWORD})
    expect(r, 401, MSG_NO_ACCOUNT)
    assert r.headers.get("WWW-Authenticate") == WWW_AUTHENTICATE, describe(r)


@pytest.mark.parametrize(
    "body, errors",
    [
        ({}, {"username": [REQUIRED], "password": [REQUIRED]}),
        ({"username": "someone"}, {"password": [REQUIRED]}),
        ({"password": PASSWORD}, {"username": [REQUIRED]}),
        ({"username": "", "password": ""}, {"username": [BLANK], "password": [BLANK]}),
        ({"username": None, "password": PASSWORD}, {"username": [NULL]}),
    ],
)
def test_login_field_errors(api, body, errors):
    r = api.post("/api/login/", json=body)
    got = expect(r, 400, errors)
    assert list(got) == [k for k in ("username", "password") if k in errors]


def test_login_issues_distinct_tokens(api):
    username, password = register(api)
    a = login(api, username, password)
    b = login(api, username, password)
    assert jwt_payload(a["access"])["jti"] != jwt_payload(b["access"])["jti"]
    assert jwt_payload(a["refresh"])["jti"] != jwt_payload(b["refresh"])["jti"]
    assert jwt_payload(a["access"])["user_id"] == jwt_payload(b["access"])["user_id"]


# ---- JWT claims -----------------------------------------------------------------


def test_jwt_claims(api):
    user = new_user(api, "claims")
    assert jwt_header(user.access).get("alg") == "HS256"
    access = jwt_payload(user.access)
    refresh = jwt_payload(user.refresh)
    for claims in (access, refresh):
        assert {"token_type", "exp", "iat", "jti", "user_id"} <= set(claims), claims
        assert type(claims["user_id"]) is int, claims
        assert type(claims["exp"]) is int and type(claims["iat"]) is int, claims
        assert isinstance(claims["jti"], str) and claims["jti"], claims
        assert abs(claims["iat"] - time.time()) < 300, claims
    assert access["token_type"] == "access"
    assert refresh["token_type"] == "refresh"
    assert access["exp"] - access["iat"] == 1800
    assert refresh["exp"] - refresh["iat"] == 604800
    assert access["user_id"] == refresh["user_id"]
    assert access["jti"] != refresh["jti"]
    other = new_user(api, "claims2")
    assert other.user_id != user.user_id


# ---- refresh --------------------------------------------------------------------


def test_refresh_success_rotates(api):
    user = new_user(api, "refresh")
    r = api.post("/api/token/refresh/", json={"refresh": user.refresh})
    body = expect(r, 200)
    assert list(body) == ["access", "refresh"], describe(r)
    claims = jwt_payload(body["access"])
    assert claims["token_type"] == "access"
    assert claims["user_id"] == user.user_id
    assert claims["exp"] - claims["iat"] == 1800
    refresh = jwt_payload(body["refresh"])
    assert refresh["token_type"] == "refresh"
    assert refresh["exp"] - refresh["iat"] == 604800
    assert refresh["sid"] == jwt_payload(user.refresh)["sid"] == claims["sid"]
    assert refresh["gen"] == jwt_payload(user.refresh)["gen"] + 1
    assert get_balance(api, body["access"]) == SIGNUP_GRANT
    # The new refresh token works once more; the old one is used up.
    expect(api.post("/api/token/refresh/", json={"refresh": body["refresh"]}), 200)
    assert_ledger_consistent(api, user.access)


def test_refresh_missing_and_blank(api):
    expect(api.post("/api/token/refresh/", json={}), 400, {"refresh": [REQUIRED]})
    expect(api.post("/api/token/refresh/", json={"refresh": ""}), 400, {"refresh": [BLANK]})


def test_refresh_with_access_token_has_wrong_type(api):
    user = new_user(api, "rwt")
    r = api.post("/api/token/refresh/", json={"refresh": user.access})
    expect(r, 401, {"detail": "Token has wrong type", "code": "token_not_valid"})
    assert r.headers.get("WWW-Authenticate") == WWW_AUTHENTICATE, describe(r)


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", "x" * 500])
def test_refresh_garbage(api, garbage):
    r = api.post("/api/token/refresh/", json={"refresh": garbage})
    expect(r, 401, {"detail": "Token is invalid or expired", "code": "token_not_valid"})
    assert r.headers.get("WWW-Authenticate") == WWW_AUTHENTICATE, describe(r)


def test_refresh_tampered(api):
    user = new_user(api, "rtamp")
    head, payload, sig = user.refresh.split(".")
    claims = jwt_payload(user.refresh)
    claims["user_id"] = claims["user_id"] + 1
    forged = f"{head}.{b64url_encode(json.dumps(claims).encode())}.{sig}"
    r = api.post("/api/token/refresh/", json={"refresh": forged})
    expect(r, 401, {"detail": "Token is invalid or expired", "code": "token_not_valid"})


# ---- 401 variants on protected routes ---------------------------------------------


def assert_401(r, body):
    expect(r, 401, body)
    assert r.headers.get("WWW-Authenticate") == WWW_AUTHENTICATE, describe(r)


@pytest.mark.parametrize("method, path, body", PROTECTED, ids=[p for _, p, _ in PROTECTED])
def test_no_credentials_on_every_protected_route(api, method, path, body):
    assert_401(api.request(method, path, json=body), MSG_NOT_PROVIDED)


@pytest.mark.parametrize("header", ["Token abc", "Basic dXNlcjpwYXNz", "", "JWT abc"])
def test_other_scheme_is_not_provided(api, header):
    r = api.get("/api/tokens/", headers={"Authorization": header})
    assert_401(r, MSG_NOT_PROVIDED)


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b"])
def test_bearer_without_single_token(api, header):
    r = api.get("/api/tokens/", headers={"Authorization": header})
    assert_401(r, MSG_BAD_HEADER)


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"])
def test_garbage_token(api, token):
    assert_401(api.get("/api/tokens/", headers=bearer(token)), token_not_valid())


@pytest.mark.parametrize("method, path, body", PROTECTED, ids=[p for _, p, _ in PROTECTED])
def test_tampered_signature_on_every_protected_route(api, method, path, body):
    user = new_user(api, "tamper")
    head, payload, sig = user.access.split(".")
    raw = bytearray(b64url_decode(sig))
    raw[0] ^= 0x01
    tampered = f"{head}.{payload}.{b64url_encode(bytes(raw))}"
    assert_401(api.request(method, path, json=body, headers=bearer(tampered)), token_not_valid())
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


def test_tampered_payload(api):
    victim = new_user(api, "victim")
    attacker = new_user(api, "attacker")
    head, _, sig = attacker.access.split(".")
    claims = jwt_payload(attacker.access)
    claims["user_id"] = victim.user_id
    forged = f"{head}.{b64url_encode(json.dumps(claims).encode())}.{sig}"
    assert_401(api.post("/api/chat/", json={"message": "x"}, headers=bearer(forged)), token_not_valid())
    assert get_balance(api, victim.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, victim.access)
    assert_ledger_consistent(api, attacker.access)


def test_alg_none_token_rejected(api):
    user = new_user(api, "algnone")
    claims = jwt_payload(user.access)
    for hdr in ({"alg": "none", "typ": "JWT"}, {"alg": "None", "typ": "JWT"}, {"alg": "NONE"}):
        token = mint_jwt(None, claims, alg="none", header=hdr)
        assert_401(api.get("/api/tokens/", headers=bearer(token)), token_not_valid())
        # Same, but keeping the original signature.
        token2 = token + user.access.split(".")[2]
        assert_401(api.get("/api/tokens/", headers=bearer(token2)), token_not_valid())


def test_refresh_token_used_as_access(api):
    user = new_user(api, "rta")
    for method, path, body in PROTECTED:
        r = api.request(method, path, json=body, headers=bearer(user.refresh))
        assert_401(r, token_not_valid("Token has wrong type"))
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


# ---- tokens we mint ourselves, on a server with a known signing key ----------------


@pytest.fixture(scope="module")
def keyed(module_server_factory):
    """A server with CHATGATE_JWT_SECRET set to a value the tests know, and a user on it."""
    secret = "k-" + secrets.token_hex(24)  # 50 bytes
    srv = module_server_factory.start(env={"CHATGATE_JWT_SECRET": secret}, name="jwt-keyed")
    http = Http(srv.base_url)
    user = new_user(http, "keyed")
    yield {"server": srv, "secret": secret, "user": user, "http": http}
    http.close()


def test_minted_valid_token_is_accepted(keyed):
    http, user, secret = keyed["http"], keyed["user"], keyed["secret"]
    token = mint_jwt(secret, access_claims(user.user_id))
    r = http.get("/api/tokens/", headers=bearer(token))
    expect(r, 200, {"tokens": get_balance(http, user.access)})


def test_server_issued_tokens_verify_with_configured_secret(keyed):
    """The tokens the server issues are HS256 over the configured secret."""
    user, secret = keyed["user"], keyed["secret"]
    for token in (user.access, user.refresh):
        head, payload, sig = token.split(".")
        expected = hmac.new(secret.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
        assert b64url_decode(sig) == expected


def test_minted_expired_token(keyed):
    http, user, secret = keyed["http"], keyed["user"], keyed["secret"]
    now = int(time.time())
    token = mint_jwt(secret, access_claims(user.user_id, now=now - 3600, lifetime=1800))
    assert_401(http.get("/api/tokens/", headers=bearer(token)), token_not_valid())
    token = mint_jwt(secret, access_claims(user.user_id, now=now - 1900, lifetime=1800))
    assert_401(http.post("/api/chat/", json={"message": "x"}, headers=bearer(token)), token_not_valid())
    assert_ledger_consistent(http, user.access)


@pytest.mark.parametrize("alg", ["HS512", "HS384"])
def test_minted_wrong_algorithm(keyed, alg):
    http, user, secret = keyed["http"], keyed["user"], keyed["secret"]
    token = mint_jwt(secret, access_claims(user.user_id), alg=alg)
    assert_401(http.get("/api/tokens/", headers=bearer(token)), token_not_valid())


def test_minted_alg_none(keyed):
    http, user = keyed["http"], keyed["user"]
    token = mint_jwt(None, access_claims(user.user_id), alg="none")
    assert_401(http.get("/api/tokens/", headers=bearer(token)), token_not_valid())


def test_minted_wrong_secret(keyed):
    http, user, secret = keyed["http"], keyed["user"], keyed["secret"]
    token = mint_jwt(secret + "x", access_claims(user.user_id))
    assert_401(http.get("/api/tokens/", headers=bearer(token)), token_not_valid())


def test_minted_wrong_type(keyed):
    http, user, secret = keyed["http"], keyed["user"], keyed["secret"]
    token = mint_jwt(secret, access_claims(user.user_id, token_type="refresh"))
    assert_401(http.get("/api/tokens/", headers=bearer(token)), token_not_valid("Token has wrong type"))
    # And an access token presented to the refresh route.
    token = mint_jwt(secret, access_claims(user.user_id))
    r = http.post("/api/token/refresh/", json={"refresh": token})
    expect(r, 401, {"detail": "Token has wrong type", "code": "token_not_valid"})


def test_minted_refresh_token_needs_a_live_session(keyed):
    http, user, secret = keyed["http"], keyed["user"], keyed["secret"]
    session = jwt_payload(login(http, user.username)["refresh"])
    session_claims = {k: session[k] for k in ("sid", "gen", "sep")}
    good = mint_jwt(secret, access_claims(user.user_id, lifetime=604800, token_type="refresh", **session_claims))
    body = expect(http.post("/api/token/refresh/", json={"refresh": good}), 200)
    assert jwt_payload(body["access"])["user_id"] == user.user_id
    # A validly signed refresh token without a session (as issued before sessions existed)
    # could be replayed forever, so it is refused: its holder logs in again.
    legacy = mint_jwt(secret, access_claims(user.user_id, lifetime=604800, token_type="refresh"))
    r = http.post("/api/token/refresh/", json={"refresh": legacy})
    expect(r, 401, {"detail": "Token is invalid or expired", "code": "token_not_valid"})
    now = int(time.time())
    old = mint_jwt(secret, access_claims(user.user_id, now=now - 700000, lifetime=604800, token_type="refresh"))
    r = http.post("/api/token/refresh/", json={"refresh": old})
    expect(r, 401, {"detail": "Token is invalid or expired", "code": "token_not_valid"})
    assert_ledger_consistent(http, body["access"])


@pytest.mark.parametrize("missing", ["exp", "token_type", "user_id"])
def test_minted_token_missing_claim(keyed, missing):
    http, user, secret = keyed["http"], keyed["user"], keyed["secret"]
    claims = access_claims(user.user_id)
    del claims[missing]
    r = http.get("/api/tokens/", headers=bearer(mint_jwt(secret, claims)))
    assert r.status_code == 401, describe(r)
    assert r.json().get("code") == "token_not_valid", describe(r)
    assert r.headers.get("WWW-Authenticate") == WWW_AUTHENTICATE, describe(r)


def test_minted_token_of_unknown_user(keyed):
    http, secret = keyed["http"], keyed["secret"]
    token = mint_jwt(secret, access_claims(2_000_000_000))
    assert_401(http.get("/api/tokens/", headers=bearer(token)), {"detail": "User not found", "code": "user_not_found"})


def test_token_from_other_server_is_rejected(keyed, api):
    """The shared server signs with its own key; the keyed server must not accept it."""
    foreign = new_user(api, "foreign")
    assert_401(keyed["http"].get("/api/tokens/", headers=bearer(foreign.access)), token_not_valid())
