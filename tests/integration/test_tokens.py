"""GET /api/tokens/, POST /api/top-up/ and GET /api/transactions/."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from client import (
    CHAT_COST,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    describe,
    expect,
    get_balance,
    new_user,
    parse_created_at,
    top_up,
)

INVALID_AMOUNT = {"error": "Invalid token amount."}
MAX_PER_REQUEST = 1_000_000


def added(n, total):
    return {"message": f"Successfully added {n} tokens.", "total_tokens": total}


# ---- balance ----------------------------------------------------------------------


def test_balance_of_new_user(api):
    user = new_user(api, "bal")
    r = api.get("/api/tokens/", headers=user.headers)
    expect(r, 200, {"tokens": SIGNUP_GRANT})
    assert_ledger_consistent(api, user.access)


# ---- top-up -----------------------------------------------------------------------


def test_top_up_success_shape(api):
    user = new_user(api, "top")
    expect(top_up(api, user.access, 500), 200, added(500, SIGNUP_GRANT + 500))
    expect(top_up(api, user.access, 1), 200, added(1, SIGNUP_GRANT + 501))
    assert get_balance(api, user.access) == SIGNUP_GRANT + 501
    rows = assert_ledger_consistent(api, user.access)
    assert [(x["kind"], x["delta"], x["balance_after"]) for x in rows] == [
        ("signup_grant", SIGNUP_GRANT, SIGNUP_GRANT),
        ("top_up", 500, SIGNUP_GRANT + 500),
        ("top_up", 1, SIGNUP_GRANT + 501),
    ]


def test_top_up_maximum_per_request(api):
    user = new_user(api, "max")
    expect(top_up(api, user.access, MAX_PER_REQUEST + 1), 400, INVALID_AMOUNT)
    expect(top_up(api, user.access, MAX_PER_REQUEST), 200, added(MAX_PER_REQUEST, SIGNUP_GRANT + MAX_PER_REQUEST))
    assert_ledger_consistent(api, user.access)


@pytest.mark.parametrize(
    "raw",
    [
        '{"tokens": true}',
        '{"tokens": false}',
        '{"tokens": 1.5}',
        '{"tokens": "5"}',
        '{"tokens": "abc"}',
        '{"tokens": ""}',
        '{"tokens": null}',
        '{"tokens": []}',
        '{"tokens": [5]}',
        '{"tokens": {"n": 5}}',
        '{"tokens": 0}',
        '{"tokens": -1}',
        '{"tokens": -1000}',
        '{"tokens": 1000001}',
        '{"tokens": 9223372036854775807}',
        '{"tokens": 9223372036854775808}',
        '{"tokens": 100000000000000000000000000000}',
        '{"tokens": -9223372036854775808}',
        "{}",
        '{"amount": 5}',
        "[]",
        "[5]",
        "5",
        "null",
        '"5"',
    ],
)
def test_top_up_invalid_amount(api, raw):
    user = new_user(api, "inv")
    r = api.post("/api/top-up/", data=raw, headers={**user.headers, "Content-Type": "application/json"})
    expect(r, 400, INVALID_AMOUNT)
    assert get_balance(api, user.access) == SIGNUP_GRANT
    rows = assert_ledger_consistent(api, user.access)
    assert len(rows) == 1


@pytest.mark.parametrize("form", [{"tokens": "5"}, {"tokens": "abc"}, {"tokens": ""}, {}])
def test_top_up_form_body_is_invalid(api, form):
    user = new_user(api, "form")
    r = api.post("/api/top-up/", data=form,
                 headers={**user.headers, "Content-Type": "application/x-www-form-urlencoded"})
    expect(r, 400, INVALID_AMOUNT)
    assert get_balance(api, user.access) == SIGNUP_GRANT
    assert_ledger_consistent(api, user.access)


def test_top_up_balance_cap(start_server):
    srv = start_server(
        env={"CHATGATE_BALANCE_CAP": "5000", "CHATGATE_TOP_UP_MAX_PER_REQUEST": "600"},
        name="cap",
    )
    cap_error = {"error": "Balance would exceed the maximum of 5000 tokens."}
    with Http(srv.base_url) as http:
        user = new_user(http, "cap")
        expect(top_up(http, user.access, 601), 400, INVALID_AMOUNT)  # per-request maximum
        expect(top_up(http, user.access, 600), 200, added(600, 4600))
        expect(top_up(http, user.access, 401), 400, cap_error)
        expect(top_up(http, user.access, 400), 200, added(400, 5000))  # reaching the cap is fine
        expect(top_up(http, user.access, 1), 400, cap_error)
        assert get_balance(http, user.access) == 5000
        # Spending makes room again.
        expect(http.post("/api/chat/", json={"message": "x"}, headers=user.headers), 200)
        expect(top_up(http, user.access, CHAT_COST), 200, added(CHAT_COST, 5000))
        rows = assert_ledger_consistent(http, user.access)
        assert [x["kind"] for x in rows] == ["signup_grant", "top_up", "top_up", "chat_charge", "top_up"]

        other = new_user(http, "cap2")
        expect(top_up(http, other.access, 600), 200)
        expect(top_up(http, other.access, 600), 400, cap_error)
        assert get_balance(http, other.access) == 4600
        assert_ledger_consistent(http, other.access)


def test_top_up_disabled(start_server):
    # Set through the JSON config file, to cover that source too.
    srv = start_server(config={"top_up_enabled": False}, name="topup-off")
    with Http(srv.base_url) as http:
        user = new_user(http, "off")
        expect(top_up(http, user.access, 10), 403, {"error": "Top-up is disabled."})
        assert get_balance(http, user.access) == SIGNUP_GRANT
        # Chat still works.
        expect(http.post("/api/chat/", json={"message": "x"}, headers=user.headers), 200)
        rows = assert_ledger_consistent(http, user.access)
        assert [x["kind"] for x in rows] == ["signup_grant", "chat_charge"]


def test_top_up_disabled_by_env(start_server):
    srv = start_server(env={"CHATGATE_TOP_UP_ENABLED": "false"}, name="topup-off-env")
    with Http(srv.base_url) as http:
        user = new_user(http, "offenv")
        expect(top_up(http, user.access, 10), 403, {"error": "Top-up is disabled."})
        assert_ledger_consistent(http, user.access)


# ---- transactions -----------------------------------------------------------------


def test_transactions_of_new_user(api):
    user = new_user(api, "tx")
    r = api.get("/api/transactions/", headers=user.headers)
    page = expect(r, 200)
    assert page["count"] == 1 and page["next"] is None and page["previous"] is None, describe(r)
    (row,) = page["results"]
    assert row["kind"] == "signup_grant"
    assert row["delta"] == SIGNUP_GRANT and row["balance_after"] == SIGNUP_GRANT
    assert row["reference"] is None or isinstance(row["reference"], str)
    created = parse_created_at(row["created_at"])
    assert abs((created - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 3600, row
    assert_ledger_consistent(api, user.access)


def test_transactions_newest_first_with_all_kinds(api):
    user = new_user(api, "order")
    expect(api.post("/api/chat/", json={"message": "one"}, headers=user.headers), 200)
    expect(top_up(api, user.access, 50), 200)
    expect(api.post("/api/chat/", json={"message": "two"}, headers=user.headers), 200)
    page = expect(api.get("/api/transactions/", headers=user.headers), 200)
    got = [(x["kind"], x["delta"], x["balance_after"]) for x in page["results"]]
    assert got == [
        ("chat_charge", -100, 3850),
        ("top_up", 50, 3950),
        ("chat_charge", -100, 3900),
        ("signup_grant", 4000, 4000),
    ]
    times = [parse_created_at(x["created_at"]) for x in page["results"]]
    assert times == sorted(times, reverse=True)
    assert_ledger_consistent(api, user.access)


def test_transactions_are_private(api):
    a = new_user(api, "pa")
    b = new_user(api, "pb")
    for _ in range(3):
        expect(top_up(api, a.access, 7), 200)
    page_b = expect(api.get("/api/transactions/", headers=b.headers), 200)
    assert page_b["count"] == 1 and [x["kind"] for x in page_b["results"]] == ["signup_grant"]
    page_a = expect(api.get("/api/transactions/", headers=a.headers), 200)
    assert page_a["count"] == 4
    assert not {x["id"] for x in page_a["results"]} & {x["id"] for x in page_b["results"]}
    assert_ledger_consistent(api, a.access)
    assert_ledger_consistent(api, b.access)


def page_number(url):
    """The page a next/previous link points at (DRF omits page=1 on previous)."""
    values = parse_qs(urlsplit(url).query).get("page")
    return int(values[0]) if values else 1


def test_transactions_pagination(api):
    user = new_user(api, "pages")
    for i in range(1, 25):  # 24 top-ups + the grant = 25 rows
        expect(top_up(api, user.access, i), 200)
    first = expect(api.get("/api/transactions/", headers=user.headers), 200)
    assert first["count"] == 25
    assert len(first["results"]) == 20  # default page_size
    assert first["previous"] is None
    assert first["next"] and page_number(first["next"]) == 2, first["next"]
    assert [x["delta"] for x in first["results"]] == list(range(24, 4, -1))

    nxt = urljoin(api.base_url + "/", first["next"])
    second = expect(api.get(nxt, headers=user.headers), 200)
    assert second["count"] == 25 and second["next"] is None
    assert second["previous"] and page_number(second["previous"]) == 1
    assert [x["delta"] for x in second["results"]] == [4, 3, 2, 1, SIGNUP_GRANT]

    back = expect(api.get(urljoin(api.base_url + "/", second["previous"]), headers=user.headers), 200)
    assert back["results"] == first["results"]

    # Explicit page_size.
    p3 = expect(api.get("/api/transactions/?page=3&page_size=5", headers=user.headers), 200)
    assert [x["delta"] for x in p3["results"]] == [14, 13, 12, 11, 10]
    assert page_number(p3["next"]) == 4 and page_number(p3["previous"]) == 2
    assert "page_size=5" in p3["next"]
    last = expect(api.get("/api/transactions/?page=5&page_size=5", headers=user.headers), 200)
    assert last["next"] is None and len(last["results"]) == 5
    # A page size larger than the count is one page.
    whole = expect(api.get("/api/transactions/?page_size=100", headers=user.headers), 200)
    assert len(whole["results"]) == 25 and whole["next"] is None
    assert_ledger_consistent(api, user.access)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "2", "999", "1.5"])
def test_transactions_invalid_page(api, page):
    user = new_user(api, "badpage")
    r = api.get(f"/api/transactions/?page={page}", headers=user.headers)
    expect(r, 404, {"detail": "Invalid page."})
    assert_ledger_consistent(api, user.access)


def test_transactions_page_size_is_clamped(start_server):
    srv = start_server(env={"CHATGATE_PAGE_SIZE": "2", "CHATGATE_MAX_PAGE_SIZE": "3"}, name="paging")
    with Http(srv.base_url) as http:
        user = new_user(http, "clamp")
        for i in range(1, 7):
            expect(top_up(http, user.access, i), 200)
        default = expect(http.get("/api/transactions/", headers=user.headers), 200)
        assert default["count"] == 7 and len(default["results"]) == 2
        clamped = expect(http.get("/api/transactions/?page_size=1000", headers=user.headers), 200)
        assert [x["delta"] for x in clamped["results"]] == [6, 5, 4]
        assert page_number(clamped["next"]) == 2
        exact = expect(http.get("/api/transactions/?page_size=3&page=3", headers=user.headers), 200)
        assert [x["delta"] for x in exact["results"]] == [SIGNUP_GRANT]
        for bad in ("abc", "0", "-1"):
            r = http.get(f"/api/transactions/?page_size={bad}", headers=user.headers)
            page = expect(r, 200)
            assert len(page["results"]) == 2, describe(r)  # falls back to the default
        expect(http.get("/api/transactions/?page_size=1000&page=4", headers=user.headers), 404,
               {"detail": "Invalid page."})
        assert_ledger_consistent(http, user.access)


def test_transaction_kinds(api):
    user = new_user(api, "kinds")
    expect(api.post("/api/chat/", json={"message": "k"}, headers=user.headers), 200)
    expect(top_up(api, user.access, 3), 200)
    rows = assert_ledger_consistent(api, user.access)
    kinds = {x["kind"] for x in rows}
    assert {"signup_grant", "chat_charge", "top_up"} <= kinds
    # A successful chat is not refunded.
    assert "chat_refund" not in kinds


# ---- the account summary -----------------------------------------------------------


def test_account_says_who_the_caller_is_and_whether_top_up_is_offered(api):
    user = new_user(api, "acct")
    r = api.get("/api/account/", headers=user.headers)
    body = expect(r, 200)
    assert body == {
        "id": body["id"],
        "username": user.username,
        "is_staff": False,
        "tokens": SIGNUP_GRANT,
        "top_up": {"enabled": True, "max_per_request": MAX_PER_REQUEST, "balance_cap": body["top_up"]["balance_cap"]},
        "payments": {"enabled": False, "prices": []},
    }, describe(r)
    assert type(body["id"]) is int and body["top_up"]["balance_cap"] >= SIGNUP_GRANT
    expect(api.get("/api/account/"), 401)
    assert_ledger_consistent(api, user.access)


def test_account_reports_top_up_disabled(start_server):
    srv = start_server(config={"top_up_enabled": False}, name="topup-off-account")
    with Http(srv.base_url) as http:
        user = new_user(http, "acctoff")
        body = expect(http.get("/api/account/", headers=user.headers), 200)
        assert body["top_up"]["enabled"] is False
        assert_ledger_consistent(http, user.access)
