"""Money under concurrency: no lost updates, no overdraft, ledger always matches the balance.

Every worker thread has its own requests.Session, opens its connection first, and
then waits on a Barrier so the requests really start together."""

from __future__ import annotations

import collections
import threading

import pytest

from client import (
    CHAT_COST,
    MSG_REGISTERED,
    PASSWORD,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    bearer,
    describe,
    expect,
    get_balance,
    jwt_payload,
    login,
    new_user,
    unique_username,
)

JOIN_TIMEOUT = 120


def run_together(base_url, tasks):
    """Run each task(http) in its own thread, all released at once; returns their results."""
    n = len(tasks)
    barrier = threading.Barrier(n, timeout=60)
    results = [None] * n
    errors = []

    def worker(i):
        try:
            with Http(base_url) as http:
                http.get("/healthz")  # connect before the start line
                barrier.wait()
                results[i] = tasks[i](http)
        except threading.BrokenBarrierError as exc:
            errors.append((i, exc))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append((i, exc))
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "worker threads did not finish"
    real = [e for e in errors if not isinstance(e[1], threading.BrokenBarrierError)]
    if real:
        raise real[0][1]
    assert not errors, errors
    return results


def chat_task(access, message="concurrent"):
    return lambda http: http.post("/api/chat/", json={"message": message}, headers=bearer(access))


def top_up_task(access, amount):
    return lambda http: http.post("/api/top-up/", json={"tokens": amount}, headers=bearer(access))


def statuses(responses):
    return collections.Counter(r.status_code for r in responses)


def test_sixty_concurrent_chats_from_one_user(api, base_url):
    user = new_user(api, "race")
    responses = run_together(base_url, [chat_task(user.access, f"m{i}") for i in range(60)])
    counts = statuses(responses)
    assert counts == {200: 40, 403: 20}, {code: [describe(r) for r in responses if r.status_code == code][:2]
                                          for code in counts}
    for r in responses:
        if r.status_code == 403:
            assert r.json() == {"error": "Insufficient tokens"}, describe(r)
    remaining = sorted(r.json()["remaining_tokens"] for r in responses if r.status_code == 200)
    assert remaining == list(range(0, SIGNUP_GRANT, CHAT_COST)), remaining
    assert get_balance(api, user.access) == 0
    rows = assert_ledger_consistent(api, user.access)
    assert len(rows) == 41
    assert sorted(x["balance_after"] for x in rows if x["kind"] == "chat_charge") == remaining


def test_concurrent_top_ups_and_chats(api, base_url):
    user = new_user(api, "mixed")
    amounts = [5 * k for k in range(1, 21)]  # 20 top-ups, 1050 tokens in all
    tasks = [chat_task(user.access, f"c{i}") for i in range(50)] + [top_up_task(user.access, a) for a in amounts]
    responses = run_together(base_url, tasks)
    chats, tops = responses[:50], responses[50:]
    assert set(statuses(chats)) <= {200, 403}, [describe(r) for r in chats if r.status_code not in (200, 403)]
    assert statuses(tops) == {200: 20}, [describe(r) for r in tops if r.status_code != 200]
    ok_chats = [r for r in chats if r.status_code == 200]
    assert len(ok_chats) >= 40  # the grant alone pays for 40
    for r, amount in zip(tops, amounts):
        body = r.json()
        assert body["message"] == f"Successfully added {amount} tokens.", describe(r)
    expected = SIGNUP_GRANT + sum(amounts) - CHAT_COST * len(ok_chats)
    assert get_balance(api, user.access) == expected
    rows = assert_ledger_consistent(api, user.access)
    # Each answer reports the balance right after its own ledger row.
    assert sorted(r.json()["remaining_tokens"] for r in ok_chats) == sorted(
        x["balance_after"] for x in rows if x["kind"] == "chat_charge")
    assert sorted(r.json()["total_tokens"] for r in tops) == sorted(
        x["balance_after"] for x in rows if x["kind"] == "top_up")
    assert sorted(x["delta"] for x in rows if x["kind"] == "top_up") == sorted(amounts)


def test_concurrent_chats_of_different_users_are_independent(api, base_url):
    users = [new_user(api, f"multi{i}") for i in range(3)]
    tasks = [chat_task(u.access) for u in users for _ in range(15)]
    responses = run_together(base_url, tasks)
    assert statuses(responses) == {200: 45}
    for u in users:
        assert get_balance(api, u.access) == SIGNUP_GRANT - 15 * CHAT_COST
        assert_ledger_consistent(api, u.access)


def test_concurrent_registration_of_one_username(api, base_url):
    username = unique_username("dup")
    tasks = [lambda http: http.post("/api/register/", json={"username": username, "password": PASSWORD})
             for _ in range(12)]
    responses = run_together(base_url, tasks)
    counts = statuses(responses)
    assert counts == {201: 1, 400: 11}, [describe(r) for r in responses]
    for r in responses:
        if r.status_code == 201:
            assert r.json() == MSG_REGISTERED
        else:
            assert r.json() == {"username": ["user with this username already exists."]}, describe(r)
    tokens = login(api, username)
    assert get_balance(api, tokens["access"]) == SIGNUP_GRANT
    rows = assert_ledger_consistent(api, tokens["access"])
    assert [x["kind"] for x in rows] == ["signup_grant"]


def test_concurrent_registrations_of_distinct_usernames(api, base_url):
    names = [unique_username("par") for _ in range(16)]
    tasks = [(lambda name: lambda http: http.post("/api/register/", json={"username": name, "password": PASSWORD}))(n)
             for n in names]
    responses = run_together(base_url, tasks)
    assert statuses(responses) == {201: 16}, [describe(r) for r in responses if r.status_code != 201]
    ids = set()
    for name in names:
        tokens = login(api, name)
        assert get_balance(api, tokens["access"]) == SIGNUP_GRANT
        assert_ledger_consistent(api, tokens["access"])
        ids.add(jwt_payload(tokens["access"])["user_id"])
    assert len(ids) == 16


def test_concurrent_top_ups_respect_the_cap(start_server):
    srv = start_server(env={"CHATGATE_BALANCE_CAP": "5000"}, name="cap-race")
    with Http(srv.base_url) as http:
        user = new_user(http, "caprace")
    responses = run_together(srv.base_url, [top_up_task(user.access, 100) for _ in range(20)])
    assert statuses(responses) == {200: 10, 400: 10}, [describe(r) for r in responses]
    for r in responses:
        if r.status_code == 400:
            assert r.json() == {"error": "Balance would exceed the maximum of 5000 tokens."}, describe(r)
    totals = sorted(r.json()["total_tokens"] for r in responses if r.status_code == 200)
    assert totals == list(range(4100, 5001, 100))
    with Http(srv.base_url) as http:
        assert get_balance(http, user.access) == 5000
        assert_ledger_consistent(http, user.access)


def test_password_hashing_saturation_answers_503(start_server):
    srv = start_server(env={"CHATGATE_HASH_THREADS": "1", "CHATGATE_HASH_QUEUE_LIMIT": "1"}, name="hash-busy")
    names = [unique_username("busy") for _ in range(24)]
    tasks = [(lambda name: lambda http: http.post("/api/register/", json={"username": name, "password": PASSWORD}))(n)
             for n in names]
    responses = run_together(srv.base_url, tasks)
    counts = statuses(responses)
    assert set(counts) <= {201, 503}, [describe(r) for r in responses]
    assert counts[201] >= 1 and counts[503] >= 1, counts
    for r in responses:
        if r.status_code == 503:
            assert r.json() == {"detail": "Server busy, retry later."}, describe(r)
            assert r.headers.get("Retry-After", "").strip().isdigit(), describe(r)
    # The pool recovers, and the users that got 201 exist.
    with Http(srv.base_url) as http:
        for name, r in zip(names, responses):
            if r.status_code == 201:
                tokens = login(http, name)
                assert_ledger_consistent(http, tokens["access"])
            else:
                expect(http.post("/api/login/", json={"username": name, "password": PASSWORD}), 401)
        user = new_user(http, "after")
        assert_ledger_consistent(http, user.access)


@pytest.mark.slow
def test_many_users_many_concurrent_chats(api, base_url):
    users = [new_user(api, f"load{i}") for i in range(4)]
    tasks = [chat_task(u.access, f"load{j}") for u in users for j in range(60)]
    responses = run_together(base_url, tasks)
    assert statuses(responses) == {200: 160, 403: 80}
    for u in users:
        assert get_balance(api, u.access) == 0
        rows = assert_ledger_consistent(api, u.access)
        assert len(rows) == 41


# ---- API keys and operators --------------------------------------------------------------------


def test_a_keys_token_limit_holds_under_fifty_concurrent_chats(api, base_url):
    """50 chats released together on a key whose limit covers 12, by a user whose balance
    covers all 50: exactly 12 are served, the key's spent is exactly its limit."""
    user = new_user(api, "keyrace")
    expect(api.post("/api/top-up/", json={"tokens": 10_000}, headers=user.headers), 200)
    limit = 12 * CHAT_COST
    created = expect(api.post("/api/keys/", json={"name": "race", "token_limit": limit}, headers=user.headers), 201)
    responses = run_together(base_url, [chat_task(created["key"], f"k{i}") for i in range(50)])
    counts = statuses(responses)
    assert counts == {200: 12, 403: 38}, counts
    for r in responses:
        if r.status_code == 403:
            assert r.json() == {"error": "API key token limit reached"}, describe(r)
    keys = expect(api.get("/api/keys/", headers=user.headers), 200)["results"]
    assert keys[0]["spent"] == limit
    assert get_balance(api, user.access) == SIGNUP_GRANT + 10_000 - limit
    assert_ledger_consistent(api, user.access)


def test_operator_deductions_race_chats_without_overdraft(api, base_url, server_binary, main_server):
    """Deductions of 300 and chats of 100 released together on a 4000 balance: whatever wins,
    the balance never goes below zero and equals its ledger."""
    from test_operators_cli import make_superuser

    staff = make_superuser(server_binary, main_server, api)
    user = new_user(api, "oprace")
    deduct = lambda http: http.post(f"/api/admin/users/{user.user_id}/deduct/",  # noqa: E731
                                    json={"tokens": 300, "reason": "race"}, headers=staff.headers)
    tasks = [deduct] * 10 + [chat_task(user.access, f"c{i}") for i in range(20)]
    responses = run_together(base_url, tasks)
    taken = sum(300 for r in responses[:10] if r.status_code == 200)
    taken += sum(CHAT_COST for r in responses[10:] if r.status_code == 200)
    assert all(r.status_code in (200, 400) for r in responses[:10]), statuses(responses[:10])
    assert all(r.status_code in (200, 403) for r in responses[10:]), statuses(responses[10:])
    assert get_balance(api, user.access) == SIGNUP_GRANT - taken >= 0
    assert_ledger_consistent(api, user.access)
