"""Redemption codes: batches by staff (admin API and command line, audited), redeemed by users
exactly as often as allowed however many race for them, one answer for every failure, and
guessing limited to 429. Every money test ends with the ledger check for each user."""

from __future__ import annotations

import re

import pytest

from client import (
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    bearer,
    expect,
    get_balance,
    new_user,
)
from test_concurrency import run_together
from test_operators_cli import make_superuser, os_user, run_ok

CODE_RE = re.compile(r"^CG(-[A-Z2-7]{4}){8}$")
REFUSED = {"code": ["This code is not valid."]}


@pytest.fixture(scope="module")
def staff(server_binary, main_server, base_url):
    with Http(base_url) as http:
        return make_superuser(server_binary, main_server, http)


def create_codes(api, staff, **body):
    r = api.post("/api/admin/codes/", json=body, headers=staff.headers)
    expect(r, 201)
    return r.json()


def redeem(http, user, code):
    return http.post("/api/redeem/", json={"code": code}, headers=user.headers)


def test_a_code_credits_once_and_every_failure_answers_alike(api, staff):
    batch = create_codes(api, staff, tokens=700, count=2)
    assert len(batch["codes"]) == 2 and all(CODE_RE.match(c) for c in batch["codes"])
    user = new_user(api, "redeem")
    r = redeem(api, user, batch["codes"][0].lower().replace("-", " "))  # any spelling of it
    expect(r, 200, {"tokens": SIGNUP_GRANT + 700})
    rows = assert_ledger_consistent(api, user.access)
    assert (rows[-1]["kind"], rows[-1]["delta"]) == ("code_redeem", 700)
    assert rows[-1]["reference"].startswith("code ")

    wrong = "CG-" + "-".join(["AAAA"] * 8)
    expired = create_codes(api, staff, tokens=5, count=1, expires_at="2999-01-01T00:00:00Z")
    for attempt in (batch["codes"][0], wrong, "nonsense", ""):  # used up, unknown, malformed
        expect(redeem(api, user, attempt), 400, REFUSED)
    other = new_user(api, "redeem")
    expect(redeem(api, other, batch["codes"][0]), 400, REFUSED)  # single use: taken
    # Revoked: the batch's unused code is gone; the used one is counted, not revoked.
    r = api.post(f"/api/admin/codes/{batch['batch_id']}/revoke/", json={}, headers=staff.headers)
    expect(r, 200, {"batch_id": batch["batch_id"], "revoked": 1})
    expect(redeem(api, other, batch["codes"][1]), 400, REFUSED)
    expect(redeem(api, other, expired["codes"][0]), 200)
    for u in (user, other):
        assert_ledger_consistent(api, u.access)

    listed = api.get("/api/admin/codes/", headers=staff.headers).json()["results"]
    row = next(b for b in listed if b["id"] == batch["batch_id"])
    assert (row["codes"], row["uses"], row["revoked"], row["tokens"]) == (2, 1, 1, 700)
    audit = api.get("/api/admin/audit/?action=codes.revoke", headers=staff.headers).json()
    assert audit["results"][0]["after"]["batch_id"] == batch["batch_id"]
    assert audit["results"][0]["after"]["revoked"] == 1


def test_one_code_of_a_batch_is_revoked_by_its_text(api, staff):
    batch = create_codes(api, staff, tokens=10, count=2)
    path = f"/api/admin/codes/{batch['batch_id']}/revoke/"
    expect(api.post(path, json={"code": batch["codes"][0]}, headers=staff.headers), 200,
           {"batch_id": batch["batch_id"], "revoked": 1})
    user = new_user(api, "redeem")
    expect(redeem(api, user, batch["codes"][0]), 400, REFUSED)
    expect(redeem(api, user, batch["codes"][1]), 200, {"tokens": SIGNUP_GRANT + 10})
    assert_ledger_consistent(api, user.access)
    expect(api.post("/api/admin/codes/999999/revoke/", json={}, headers=staff.headers), 404)


def test_bad_batches_are_refused_with_their_fields(api, staff):
    r = api.post("/api/admin/codes/", json={"tokens": 0, "count": 0, "max_uses": "x"},
                 headers=staff.headers)
    expect(r, 400)
    assert set(r.json()) == {"tokens", "count", "max_uses"}
    expect(api.post("/api/admin/codes/", json={"tokens": 5, "count": 1001}, headers=staff.headers),
           400)
    r = api.post("/api/admin/codes/", json={"tokens": 5, "count": 1,
                                            "expires_at": "2000-01-01T00:00:00Z"},
                 headers=staff.headers)
    expect(r, 400)
    assert "expires_at" in r.json()
    user = new_user(api, "plain")
    expect(api.post("/api/admin/codes/", json={"tokens": 5, "count": 1}, headers=user.headers), 403)
    expect(api.get("/api/admin/codes/", headers=user.headers), 403)


def test_a_single_use_code_raced_by_a_hundred_users_credits_once(api, base_url, staff):
    code = create_codes(api, staff, tokens=300, count=1)["codes"][0]
    users = [new_user(api, "race") for _ in range(100)]
    answers = run_together(base_url, [lambda http, u=u: redeem(http, u, code) for u in users])
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] + [400] * 99, statuses
    for r in answers:
        if r.status_code == 400:
            assert r.json() == REFUSED
    balances = [get_balance(api, u.access) for u in users]
    assert sorted(balances) == [SIGNUP_GRANT] * 99 + [SIGNUP_GRANT + 300]
    for u in users:
        assert_ledger_consistent(api, u.access)


def test_a_ten_use_code_raced_by_fifty_users_credits_ten(api, base_url, staff):
    code = create_codes(api, staff, tokens=40, count=1, max_uses=10)["codes"][0]
    users = [new_user(api, "race10") for _ in range(50)]
    answers = run_together(base_url, [lambda http, u=u: redeem(http, u, code) for u in users])
    assert sum(r.status_code == 200 for r in answers) == 10
    assert sum(r.status_code == 400 for r in answers) == 40
    credited = [u for u in users if get_balance(api, u.access) == SIGNUP_GRANT + 40]
    assert len(credited) == 10
    # Each credited user only once, even trying again.
    expect(redeem(api, credited[0], code), 400, REFUSED)
    for u in users:
        assert_ledger_consistent(api, u.access)


def test_the_command_line_creates_lists_and_revokes_batches(api, server_binary, main_server, staff):
    out = run_ok(server_binary, main_server, "codes", "create", "--tokens", "25", "--count", "3",
                 "--max-uses", "2")
    codes = out.split()
    assert len(codes) == 3 and all(CODE_RE.match(c) for c in codes)
    user = new_user(api, "clicode")
    expect(redeem(api, user, codes[0]), 200, {"tokens": SIGNUP_GRANT + 25})
    assert_ledger_consistent(api, user.access)
    audit = api.get("/api/admin/audit/?action=codes.create", headers=staff.headers).json()
    entry = audit["results"][0]
    assert entry["actor"] == os_user() and entry["after"]["codes"] == 3
    batch = entry["after"]["batch_id"]
    listing = run_ok(server_binary, main_server, "codes", "list")
    assert any(line.startswith(f"{batch}\t25 tokens\t3 codes\t1 uses") for line in listing.splitlines())
    out = run_ok(server_binary, main_server, "codes", "revoke", str(batch))
    assert out.strip() == f"3 codes of batch {batch} revoked"  # the used one has a use left
    expect(redeem(api, new_user(api, "clicode"), codes[0]), 400, REFUSED)


def test_guessing_codes_gets_429_per_user_and_per_address(start_server):
    srv = start_server(env={"CHATGATE_RATE_LIMIT_ENABLED": "true",
                            "CHATGATE_RATE_LIMITS": "failed_redeem_user=3/1h,failed_redeem_address=5/1h"})
    with Http(srv.base_url) as http:
        guesser = new_user(http, "guess")
        for _ in range(3):
            expect(redeem(http, guesser, "CG-" + "-".join(["ABCD"] * 8)), 400, REFUSED)
        r = redeem(http, guesser, "CG-" + "-".join(["ABCD"] * 8))
        expect(r, 429)
        assert int(r.headers["Retry-After"]) > 0
        # Another user from the same address has the address's last two failures left.
        second = new_user(http, "guess")
        for _ in range(2):
            expect(redeem(http, second, "CG-" + "-".join(["EFGH"] * 8)), 400, REFUSED)
        expect(redeem(http, second, "CG-" + "-".join(["EFGH"] * 8)), 429)
        for u in (guesser, second):
            assert_ledger_consistent(http, u.access)
