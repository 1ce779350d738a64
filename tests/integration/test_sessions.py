"""Sessions: refresh-token rotation, reuse detection, logout, password change, deactivation.

A login starts a session family; every token of the family carries its id (``sid``). Each
refresh hands out the only refresh token that may be used next; using an older one revokes the
family, and with it every access token issued from it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import sqlite3

import pytest

from client import (
    PASSWORD,
    Http,
    assert_ledger_consistent,
    bearer,
    expect,
    get_balance,
    jwt_payload,
    login,
    new_user,
    token_not_valid,
)

BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
INVALID = {"detail": "Token is invalid or expired", "code": "token_not_valid"}
LOGGED_OUT = {"detail": "Successfully logged out."}
PASSWORD_SAVED = {"detail": "New password has been saved."}
OLD_WRONG = "Your old password was entered incorrectly. Please enter it again."
NEW_PASSWORD = "Quartz-Meadow-41-Lantern"


def refresh(api, token):
    return api.post("/api/token/refresh/", json={"refresh": token})


def logout(api, token):
    return api.post("/api/logout/", json={"refresh": token})


def change_password(api, access, old, new):
    return api.post("/api/password/", json={"old_password": old, "new_password": new},
                    headers=bearer(access))


def assert_access_revoked(api, access):
    r = api.get("/api/tokens/", headers=bearer(access))
    expect(r, 401, token_not_valid("Token is blacklisted"))


@contextlib.contextmanager
def database(server):
    """The server's SQLite database, opened directly (as an operator would)."""
    conn = sqlite3.connect(server.data_dir / "chatgate.sqlite3", timeout=10)
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


# ---- rotation and reuse --------------------------------------------------------------


def test_refresh_rotates_and_old_token_is_used_up(api):
    user = new_user(api, "rot")
    first = expect(refresh(api, user.refresh), 200)
    second = expect(refresh(api, first["refresh"]), 200)
    assert len({user.refresh, first["refresh"], second["refresh"]}) == 3
    assert [jwt_payload(t)["gen"] for t in (user.refresh, first["refresh"], second["refresh"])] == [0, 1, 2]
    for body in (first, second):
        assert get_balance(api, body["access"]) >= 0  # every access token of a live family works
    assert_ledger_consistent(api, second["access"])


def test_reusing_a_refresh_token_revokes_the_whole_family(api):
    user = new_user(api, "reuse")
    other = login(api, user.username)  # a second family (another device) of the same user
    rotated = expect(refresh(api, user.refresh), 200)
    # The used-up token again: refused, and the family is revoked.
    expect(refresh(api, user.refresh), 401, BLACKLISTED)
    expect(refresh(api, rotated["refresh"]), 401, BLACKLISTED)
    assert_access_revoked(api, rotated["access"])  # the sibling issued by the rotation
    assert_access_revoked(api, user.access)  # and the one issued at login
    # The other family is untouched.
    assert get_balance(api, other["access"]) > 0
    expect(refresh(api, other["refresh"]), 200)
    assert_ledger_consistent(api, other["access"])


def test_concurrent_use_of_one_refresh_token_rotates_once(api, base_url):
    user = new_user(api, "race")

    def use(_):
        with Http(base_url) as http:
            return refresh(http, user.refresh)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(use, range(8)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] + [401] * 7, statuses
    for r in answers:
        if r.status_code == 401:
            assert r.json() == BLACKLISTED
    # The second use is reuse: the family is gone, including the winner's new tokens.
    winner = next(r.json() for r in answers if r.status_code == 200)
    assert_access_revoked(api, winner["access"])
    fresh = login(api, user.username)
    assert_ledger_consistent(api, fresh["access"])


def test_refresh_token_of_another_user_cannot_steer_a_family(keyed_server):
    """sid and user_id must agree: a family is only ever used by its own user."""
    http, secret = keyed_server
    from client import access_claims, mint_jwt

    victim = new_user(http, "victim")
    attacker = new_user(http, "attacker")
    claims = {k: jwt_payload(victim.refresh)[k] for k in ("sid", "gen", "sep")}
    forged = mint_jwt(secret, access_claims(attacker.user_id, lifetime=3600, token_type="refresh", **claims))
    expect(refresh(http, forged), 401, INVALID)
    expect(refresh(http, victim.refresh), 200)
    assert_ledger_consistent(http, victim.access)
    assert_ledger_consistent(http, attacker.access)


@pytest.fixture(scope="module")
def keyed_server(module_server_factory):
    import secrets as _secrets

    secret = "s-" + _secrets.token_hex(24)
    srv = module_server_factory.start(env={"CHATGATE_JWT_SECRET": secret}, name="sessions-keyed")
    with Http(srv.base_url) as http:
        yield http, secret


# ---- logout ---------------------------------------------------------------------------


def test_logout_revokes_the_family_and_is_idempotent(api):
    user = new_user(api, "logout")
    other = login(api, user.username)
    rotated = expect(refresh(api, user.refresh), 200)
    expect(logout(api, rotated["refresh"]), 200, LOGGED_OUT)
    expect(logout(api, rotated["refresh"]), 200, LOGGED_OUT)  # again: same answer
    expect(logout(api, user.refresh), 200, LOGGED_OUT)  # an older token of the family too
    expect(refresh(api, rotated["refresh"]), 401, BLACKLISTED)
    assert_access_revoked(api, rotated["access"])
    assert_access_revoked(api, user.access)
    assert get_balance(api, other["access"]) > 0
    assert_ledger_consistent(api, other["access"])


def test_logout_input_errors(api):
    user = new_user(api, "logout-bad")
    expect(api.post("/api/logout/", json={}), 400, {"refresh": ["This field is required."]})
    expect(logout(api, "garbage"), 401, INVALID)
    expect(logout(api, user.access), 401, {"detail": "Token has wrong type", "code": "token_not_valid"})
    assert_ledger_consistent(api, user.access)  # nothing was revoked


# ---- password change ------------------------------------------------------------------


def test_password_change_revokes_every_session(api):
    user = new_user(api, "pw")
    other = login(api, user.username)
    expect(change_password(api, user.access, PASSWORD, NEW_PASSWORD), 200, PASSWORD_SAVED)
    for access in (user.access, other["access"]):
        assert_access_revoked(api, access)
    for token in (user.refresh, other["refresh"]):
        expect(refresh(api, token), 401, BLACKLISTED)
    expect(api.post("/api/login/", json={"username": user.username, "password": PASSWORD}), 401)
    fresh = login(api, user.username, NEW_PASSWORD)
    assert get_balance(api, fresh["access"]) > 0
    assert_ledger_consistent(api, fresh["access"])


def test_password_change_checks_old_and_new(api):
    user = new_user(api, "pwbad")
    r = change_password(api, user.access, "Wrong-Old-Pass-12", NEW_PASSWORD)
    expect(r, 400, {"old_password": [OLD_WRONG]})
    r = change_password(api, user.access, PASSWORD, "12345678")
    body = expect(r, 400)
    assert list(body) == ["new_password"], body
    assert "This password is too common." in body["new_password"]
    r = change_password(api, user.access, "Wrong-Old-Pass-12", "short")
    body = expect(r, 400)
    assert list(body) == ["old_password", "new_password"], body
    r = api.post("/api/password/", json={}, headers=bearer(user.access))
    expect(r, 400, {"old_password": ["This field is required."], "new_password": ["This field is required."]})
    expect(api.post("/api/password/", json={"old_password": PASSWORD, "new_password": NEW_PASSWORD}), 401)
    # Nothing changed: the old password and the session still work.
    assert get_balance(api, user.access) > 0
    login(api, user.username, PASSWORD)
    assert_ledger_consistent(api, user.access)


# ---- deactivation ---------------------------------------------------------------------


@pytest.mark.sqlite_only("deactivates the user in the SQLite file directly")
def test_deactivation_takes_effect_on_the_next_request(api, main_server):
    if main_server is None:
        pytest.skip("needs the database of a server this suite started")
    user = new_user(api, "deact")
    assert get_balance(api, user.access) > 0
    with database(main_server) as db:
        db.execute("UPDATE users SET is_active = 0 WHERE id = ?", (user.user_id,))
    r = api.get("/api/tokens/", headers=bearer(user.access))
    expect(r, 401, {"detail": "User is inactive", "code": "user_inactive"})
    expect(refresh(api, user.refresh), 401,
           {"detail": "No active account found for the given token.", "code": "no_active_account"})
    with database(main_server) as db:
        db.execute("UPDATE users SET is_active = 1 WHERE id = ?", (user.user_id,))
    assert_ledger_consistent(api, user.access)


# ---- the benchmark knob ---------------------------------------------------------------


def test_session_check_can_be_switched_off_and_says_so(start_server):
    srv = start_server(config={"session_check_enabled": False}, name="no-session-check")
    with Http(srv.base_url) as http:
        user = new_user(http, "nocheck")
        expect(logout(http, user.refresh), 200, LOGGED_OUT)
        # Unsafe on purpose: the revoked access token is still accepted...
        assert get_balance(http, user.access) > 0
        # ...while refresh tokens are still checked.
        expect(refresh(http, user.refresh), 401, BLACKLISTED)
        assert_ledger_consistent(http, user.access)
    assert srv.stop() == 0  # flushes the log
    assert any("UNSAFE" in line and "session_check_enabled" in line for line in srv.stderr_lines())
