"""The admin API (/api/admin/): staff versus non-staff on every route, users, actions with their
ledger and audit rows, conversations, usage, top spenders, the audit log and ledger export."""

from __future__ import annotations

import csv
import io

import pytest

from client import (
    CHAT_COST,
    SIGNUP_GRANT,
    assert_ledger_consistent,
    bearer,
    chat,
    describe,
    expect,
    get_balance,
    login,
    new_user,
)
from test_operators_cli import make_superuser, run_ok

FORBIDDEN = {"error": "You do not have permission to perform this action."}

# Every admin route, with a body for the actions. {id} is filled with a real or unknown user.
ROUTES = [
    ("GET", "/api/admin/users/", None),
    ("GET", "/api/admin/users/{id}/", None),
    ("POST", "/api/admin/users/{id}/grant/", {"tokens": 5, "reason": "r"}),
    ("POST", "/api/admin/users/{id}/deduct/", {"tokens": 5, "reason": "r"}),
    ("POST", "/api/admin/users/{id}/activate/", {}),
    ("POST", "/api/admin/users/{id}/deactivate/", {}),
    ("POST", "/api/admin/users/{id}/revoke/", {}),
    ("POST", "/api/admin/users/{id}/password/", {}),
    ("POST", "/api/admin/users/{id}/staff/", {"is_staff": True}),
    ("DELETE", "/api/admin/users/{id}/keys/1/", None),
    ("GET", "/api/admin/users/{id}/conversations/", None),
    ("GET", "/api/admin/users/{id}/conversations/1/", None),
    ("GET", "/api/admin/usage/", None),
    ("GET", "/api/admin/usage/top-spenders/", None),
    ("GET", "/api/admin/audit/", None),
    ("GET", "/api/admin/transactions/", None),
]


@pytest.fixture(scope="module")
def staff_headers(server_binary, main_server, base_url):
    from client import Http

    with Http(base_url) as http:
        return make_superuser(server_binary, main_server, http).headers


def send(api, method, path, body, headers):
    return api.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_non_staff_get_403_and_learn_nothing(api, method, path, body):
    caller = new_user(api, "nonstaff")
    victim = new_user(api, "victim")
    answers = []
    for target in (victim.user_id, 999_999_999):
        r = send(api, method, path.format(id=target), body, caller.headers)
        expect(r, 403, FORBIDDEN)
        answers.append(r.text)
    assert answers[0] == answers[1], "the answer must not tell whether the user exists"
    # Unauthenticated: 401; an API key, even a staff user's, is refused too.
    r = send(api, method, path.format(id=victim.user_id), body, {})
    assert r.status_code == 401, describe(r)
    assert get_balance(api, victim.access) == SIGNUP_GRANT


def test_staff_api_key_is_refused(api, server_binary, main_server, staff_headers):
    staff = make_superuser(server_binary, main_server, api)
    key = expect(api.post("/api/keys/", json={"name": "ops"}, headers=staff.headers), 201)["key"]
    r = api.get("/api/admin/users/", headers=bearer(key))
    expect(r, 403)


def test_list_users_search_filters_sorting_pagination(api, staff_headers):
    users = [new_user(api, "zlist") for _ in range(3)]
    expect(api.post(f"/api/admin/users/{users[0].user_id}/grant/", json={"tokens": 10, "reason": "sort"},
                    headers=staff_headers), 200)
    page = expect(api.get("/api/admin/users/?search=zlist&ordering=-tokens&page_size=2", headers=staff_headers), 200)
    assert page["count"] >= 3 and len(page["results"]) == 2 and page["next"]
    assert page["results"][0]["id"] == users[0].user_id
    # The next link keeps the search and the ordering.
    assert "search=zlist" in page["next"] and "ordering=-tokens" in page["next"]
    following = expect(api.get(page["next"], headers=staff_headers), 200)
    assert following["results"][0]["tokens"] <= page["results"][-1]["tokens"]
    assert set(page["results"][0]) == {"id", "username", "tokens", "is_active", "is_staff", "is_superuser", "date_joined"}
    one = expect(api.get(f"/api/admin/users/?search={users[1].username}", headers=staff_headers), 200)
    assert [u["id"] for u in one["results"]] == [users[1].user_id]
    staff = expect(api.get("/api/admin/users/?is_staff=true", headers=staff_headers), 200)
    assert staff["count"] >= 1 and all(u["is_staff"] for u in staff["results"])
    # Wildcards in the search are literal.
    expect(api.get("/api/admin/users/?search=%25%25%25nobody_", headers=staff_headers), 200)
    for bad in ["ordering=password", "is_active=maybe", "search=" + "x" * 151]:
        got = expect(api.get(f"/api/admin/users/?{bad}", headers=staff_headers), 400)
        assert isinstance(got, dict)


def test_one_user_in_full(api, staff_headers):
    user = new_user(api, "detail")
    expect(chat(api, user.access), 200)
    expect(api.post("/api/keys/", json={"name": "k"}, headers=user.headers), 201)
    got = expect(api.get(f"/api/admin/users/{user.user_id}/", headers=staff_headers), 200)
    assert got["tokens"] == SIGNUP_GRANT - CHAT_COST
    assert [e["kind"] for e in got["recent_ledger"]] == ["chat_charge", "signup_grant"]
    assert len(got["sessions"]) == 1 and got["sessions"][0]["revoked_at"] is None
    assert [k["name"] for k in got["keys"]] == ["k"] and "key" not in got["keys"][0]
    assert got["conversations_count"] == 1
    spend = got["spend_per_model"]
    assert len(spend) == 1 and spend[0]["requests"] == 1 and spend[0]["tokens_charged"] == CHAT_COST
    expect(api.get("/api/admin/users/999999999/", headers=staff_headers), 404, {"detail": "Not found."})


def test_grant_and_deduct_are_exact_and_audited(api, staff_headers):
    user = new_user(api, "money")
    r = api.post(f"/api/admin/users/{user.user_id}/grant/", json={"tokens": 500, "reason": "welcome back"},
                 headers=staff_headers)
    expect(r, 200, {"user_id": user.user_id, "tokens": SIGNUP_GRANT + 500})
    r = api.post(f"/api/admin/users/{user.user_id}/deduct/", json={"tokens": 200, "reason": "refund reversal"},
                 headers=staff_headers)
    expect(r, 200, {"user_id": user.user_id, "tokens": SIGNUP_GRANT + 300})
    # Larger than the balance: 400, nothing moves.
    r = api.post(f"/api/admin/users/{user.user_id}/deduct/", json={"tokens": SIGNUP_GRANT + 301, "reason": "x"},
                 headers=staff_headers)
    assert r.status_code == 400 and "tokens" in r.json(), describe(r)
    for body in [{"tokens": 0, "reason": "x"}, {"tokens": -5, "reason": "x"}, {"tokens": "5", "reason": "x"},
                 {"tokens": 5}, {"tokens": 5, "reason": ""}, {"tokens": 5, "reason": "x" * 501}, [1]]:
        r = api.post(f"/api/admin/users/{user.user_id}/grant/", json=body, headers=staff_headers)
        assert r.status_code == 400, describe(r)
    expect(api.post("/api/admin/users/999999999/grant/", json={"tokens": 5, "reason": "x"}, headers=staff_headers), 404)
    assert get_balance(api, user.access) == SIGNUP_GRANT + 300
    rows = assert_ledger_consistent(api, user.access)
    assert [(x["kind"], x["delta"]) for x in rows[1:]] == [("admin_grant", 500), ("admin_deduct", -200)]
    assert rows[1]["reference"].endswith(": welcome back")

    audit = expect(api.get(f"/api/admin/audit/?target={user.user_id}", headers=staff_headers), 200)
    entries = audit["results"]
    assert [e["action"] for e in entries] == ["tokens.deduct", "tokens.grant"]  # newest first
    grant = entries[1]
    assert grant["before"] == {"tokens": SIGNUP_GRANT}
    assert grant["after"]["tokens"] == SIGNUP_GRANT + 500
    assert grant["reason"] == "welcome back" and grant["actor_user_id"] and grant["request_id"]
    assert set(grant) == {"id", "created_at", "actor_user_id", "actor", "action", "target_user_id",
                          "before", "after", "reason", "request_id"}
    only = expect(api.get(f"/api/admin/audit/?target={user.user_id}&action=tokens.grant", headers=staff_headers), 200)
    assert only["count"] == 1


def test_deactivate_revoke_and_reset_password(api, staff_headers):
    user = new_user(api, "acts")
    key = expect(api.post("/api/keys/", json={"name": "k"}, headers=user.headers), 201)["key"]
    expect(api.post(f"/api/admin/users/{user.user_id}/deactivate/", headers=staff_headers), 200,
           {"user_id": user.user_id, "is_active": False})
    assert api.get("/api/tokens/", headers=user.headers).status_code == 401
    assert api.get("/api/tokens/", headers=bearer(key)).status_code == 401
    expect(api.post(f"/api/admin/users/{user.user_id}/activate/", headers=staff_headers), 200)
    expect(api.get("/api/tokens/", headers=bearer(key)), 200)

    got = expect(api.post(f"/api/admin/users/{user.user_id}/revoke/", headers=staff_headers), 200)
    assert got == {"sessions_revoked": 1, "keys_revoked": 1}
    assert api.get("/api/tokens/", headers=user.headers).status_code == 401
    assert api.get("/api/tokens/", headers=bearer(key)).status_code == 401

    generated = expect(api.post(f"/api/admin/users/{user.user_id}/password/", headers=staff_headers), 200)["password"]
    fresh = login(api, user.username, generated)
    expect(api.get("/api/tokens/", headers=bearer(fresh["access"])), 200)
    r = api.post(f"/api/admin/users/{user.user_id}/password/", json={"password": "12345678"}, headers=staff_headers)
    assert r.status_code == 400 and "password" in r.json(), describe(r)
    expect(api.post(f"/api/admin/users/{user.user_id}/password/", json={"password": "Chosen-By-Ops-551"},
                    headers=staff_headers), 200, {"detail": "Password set."})
    assert api.get("/api/tokens/", headers=bearer(fresh["access"])).status_code == 401
    login(api, user.username, "Chosen-By-Ops-551")
    actions = [e["action"] for e in expect(api.get(f"/api/admin/audit/?target={user.user_id}", headers=staff_headers), 200)["results"]]
    assert actions == ["user.reset_password", "user.reset_password", "user.revoke_all", "user.activate", "user.deactivate"]
    assert generated not in api.get(f"/api/admin/audit/?target={user.user_id}", headers=staff_headers).text


def test_staff_flag_needs_a_superuser(api, server_binary, main_server, staff_headers):
    user = new_user(api, "mkstaff")
    expect(api.post(f"/api/admin/users/{user.user_id}/staff/", json={"is_staff": True}, headers=staff_headers), 200)
    # The new staff user (not a superuser) can read the admin API but not make staff.
    expect(api.get("/api/admin/users/", headers=user.headers), 200)
    other = new_user(api, "mkstaff2")
    r = api.post(f"/api/admin/users/{other.user_id}/staff/", json={"is_staff": True}, headers=user.headers)
    expect(r, 403, {"error": "Only a superuser can make or unmake staff."})
    expect(api.post(f"/api/admin/users/{user.user_id}/staff/", json={"is_staff": False}, headers=staff_headers), 200)
    # Unmade: refused at the very next request.
    expect(api.get("/api/admin/users/", headers=user.headers), 403, FORBIDDEN)
    expect(api.post(f"/api/admin/users/{user.user_id}/staff/", json={"is_staff": "yes"}, headers=staff_headers), 400)
    entries = expect(api.get(f"/api/admin/audit/?target={user.user_id}", headers=staff_headers), 200)["results"]
    assert [(e["action"], e["before"], e["after"]) for e in entries] == [
        ("user.unmake_staff", {"is_staff": True}, {"is_staff": False}),
        ("user.make_staff", {"is_staff": False}, {"is_staff": True}),
    ]
    assert expect(api.get(f"/api/admin/audit/?target={other.user_id}", headers=staff_headers), 200)["count"] == 0


def test_conversations_are_browsable(api, staff_headers):
    user = new_user(api, "convo")
    cid = expect(chat(api, user.access, "first words"), 200)["conversation_id"]
    page = expect(api.get(f"/api/admin/users/{user.user_id}/conversations/", headers=staff_headers), 200)
    assert page["count"] == 1 and page["results"][0]["id"] == cid
    one = expect(api.get(f"/api/admin/users/{user.user_id}/conversations/{cid}/", headers=staff_headers), 200)
    assert one["messages"][0]["message"] == "first words"
    other = new_user(api, "convo2")
    expect(api.get(f"/api/admin/users/{other.user_id}/conversations/{cid}/", headers=staff_headers), 404)
    expect(api.get("/api/admin/users/999999999/conversations/", headers=staff_headers), 404)


def test_usage_and_top_spenders(api, staff_headers):
    user = new_user(api, "spender")
    for _ in range(3):
        expect(chat(api, user.access), 200)
    usage = expect(api.get("/api/admin/usage/", headers=staff_headers), 200)
    assert set(usage) == {"from", "to", "results"}
    row = usage["results"][-1]
    assert set(row) == {"day", "model", "requests", "prompt_tokens", "completion_tokens", "tokens_charged"}
    assert row["requests"] >= 3 and row["tokens_charged"] >= 3 * CHAT_COST and row["completion_tokens"] > 0
    top = expect(api.get("/api/admin/usage/top-spenders/?limit=100", headers=staff_headers), 200)["results"]
    mine = [t for t in top if t["user_id"] == user.user_id]
    assert mine and mine[0]["requests"] == 3 and mine[0]["tokens_charged"] == 3 * CHAT_COST
    charged = [t["tokens_charged"] for t in top]
    assert charged == sorted(charged, reverse=True)
    for bad in ["from=2026-13-01", "to=yesterday", "from=2020-01-01&to=2026-01-01", "from=2026-02-01&to=2026-01-01"]:
        expect(api.get(f"/api/admin/usage/?{bad}", headers=staff_headers), 400)
    expect(api.get("/api/admin/usage/top-spenders/?limit=0", headers=staff_headers), 400)
    empty = expect(api.get("/api/admin/usage/?from=2001-01-01&to=2001-01-31", headers=staff_headers), 200)
    assert empty["results"] == []


def test_ledger_exports(api, staff_headers):
    user = new_user(api, "export")
    expect(chat(api, user.access), 200)
    expect(api.post(f"/api/admin/users/{user.user_id}/grant/", json={"tokens": 7, "reason": '=cmd,"quoted"'},
                    headers=staff_headers), 200)
    r = api.get("/api/transactions/?format=csv", headers=user.headers)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv"), describe(r)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["kind"] for row in rows][0] == "signup_grant" and rows[-1]["kind"] == "admin_grant"
    assert sum(int(row["delta"]) for row in rows) == get_balance(api, user.access)
    assert rows[-1]["reference"].endswith(": =cmd,\"quoted\"")
    assert {row["user_id"] for row in rows} == {str(user.user_id)}
    none = api.get("/api/transactions/?format=csv&from=2001-01-01&to=2001-01-02", headers=user.headers)
    assert none.text.strip().splitlines() == ["id,user_id,username,created_at,kind,delta,balance_after,reference"]
    expect(api.get("/api/transactions/?format=csv&from=20010101", headers=user.headers), 400)
    expect(api.get("/api/transactions/?format=xml", headers=user.headers), 400)

    mine = api.get(f"/api/admin/transactions/?user={user.user_id}", headers=staff_headers)
    assert mine.text == r.text
    everyone = api.get("/api/admin/transactions/", headers=staff_headers)
    assert everyone.status_code == 200 and user.username in everyone.text
    ids = [int(row["id"]) for row in csv.DictReader(io.StringIO(everyone.text))]
    assert ids == sorted(ids)


def test_concurrent_deductions_never_overdraw(api, base_url, staff_headers):
    """20 deductions of 300 at once from 4000: exactly 13 apply, the balance ends at 100."""
    import concurrent.futures

    from client import Http

    user = new_user(api, "hammer")

    def deduct(_):
        with Http(base_url) as http:
            return http.post(f"/api/admin/users/{user.user_id}/deduct/", json={"tokens": 300, "reason": "race"},
                             headers=staff_headers).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(deduct, range(20)))
    assert statuses.count(200) == 13 and statuses.count(400) == 7, statuses
    assert get_balance(api, user.access) == SIGNUP_GRANT - 13 * 300
    assert_ledger_consistent(api, user.access)
    audit = expect(api.get(f"/api/admin/audit/?target={user.user_id}&page_size=100", headers=staff_headers), 200)
    assert audit["count"] == 13  # one audit row per applied deduction, none for refusals


def vm_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


@pytest.mark.sqlite_only("fills the SQLite file directly")
def test_csv_of_100000_rows_streams_in_flat_memory(start_server, server_binary, tmp_path):
    import sqlite3

    from client import Http

    rows = 100_000
    srv = start_server(name="csv")
    with Http(srv.base_url) as http:
        user = new_user(http, "bigcsv")
    assert srv.stop() == 0
    # 100,000 one-token grants, written as the store writes them: each row's balance_after the
    # running sum, the balance their total.
    db_path = next(srv.data_dir.glob("*.sqlite3"))
    with sqlite3.connect(str(db_path)) as db:
        db.executemany(
            "INSERT INTO ledger (user_id, delta, balance_after, kind, reference, created_at)"
            " VALUES (?, 1, ?, 'admin_grant', 'by os:test: bulk', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            ((user.user_id, SIGNUP_GRANT + i + 1) for i in range(rows)))
        db.execute("UPDATE users SET tokens = tokens + ? WHERE id = ?", (rows, user.user_id))
    srv2 = start_server(data_dir=srv.data_dir, name="csv2")
    with Http(srv2.base_url) as http:
        access = login(http, user.username, user.password)["access"]
        # Warm up the code paths once, then measure a whole export against the high-water mark.
        http.get("/api/transactions/?format=csv&from=2001-01-01&to=2001-01-01", headers=bearer(access))
        # The high-water mark counts from start-up; reset it (Linux: 5 > clear_refs) so it
        # measures the export alone.
        with open(f"/proc/{srv2.proc.pid}/clear_refs", "w") as refs:
            refs.write("5")
        before = vm_kb(srv2.proc.pid, "VmRSS")
        r = http.get("/api/transactions/?format=csv", headers=bearer(access), stream=True)
        assert r.status_code == 200
        size = 0
        lines = 0
        total = 0
        for line in r.iter_lines():
            if not line:  # a CRLF split across two chunks
                continue
            size += len(line) + 2
            lines += 1
            if lines > 1:
                total += int(line.split(b",")[5])
        peak = vm_kb(srv2.proc.pid, "VmHWM")
        assert lines == rows + 2  # the header, the sign-up grant and the bulk rows
        assert total == SIGNUP_GRANT + rows == get_balance(http, access)
        growth_kb = peak - before
        # Far less than the ~10 MB of CSV: only one page of rows is held at a time.
        assert size > 8_000_000, size
        if address_sanitized(server_binary):
            return  # ASan's quarantine keeps freed memory resident: the release build measures it
        assert growth_kb < 4_000, f"server memory grew {growth_kb} KB while streaming {size} bytes"


def address_sanitized(binary) -> bool:
    """Whether the binary was built with AddressSanitizer (its runtime is linked in)."""
    with open(binary, "rb") as f:
        return b"AddressSanitizer" in f.read()


def test_staff_revoke_one_key(api, staff_headers):
    user = new_user(api, "onekey")
    keep = expect(api.post("/api/keys/", json={"name": "keep"}, headers=user.headers), 201)
    drop = expect(api.post("/api/keys/", json={"name": "drop"}, headers=user.headers), 201)
    r = api.delete(f"/api/admin/users/{user.user_id}/keys/{drop['id']}/", headers=staff_headers)
    assert r.status_code == 204, describe(r)
    assert api.get("/api/tokens/", headers=bearer(drop["key"])).status_code == 401
    expect(api.get("/api/tokens/", headers=bearer(keep["key"])), 200)
    # Another user's key id, or one revoked already: 404.
    other = new_user(api, "onekey2")
    expect(api.delete(f"/api/admin/users/{other.user_id}/keys/{keep['id']}/", headers=staff_headers), 404)
    expect(api.delete(f"/api/admin/users/{user.user_id}/keys/{drop['id']}/", headers=staff_headers), 404)
    entries = expect(api.get(f"/api/admin/audit/?target={user.user_id}&action=key.revoke", headers=staff_headers), 200)
    assert entries["count"] == 1 and entries["results"][0]["after"] == {"key_id": drop["id"], "revoked": True}
