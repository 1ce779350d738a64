"""Three nodes on one PostgreSQL database, as behind a load balancer: every guarantee holds
across them. Money stays exact under chats and top-ups spread over the nodes; a logout, refresh
reuse, password change, deactivation or key revocation on one node is refused on the others at
the next request; an Idempotency-Key raced on two nodes has one effect; the rate limits and the
failed-login lockout are one quota for all three. (A killed node's reservation refunded by
another is in test_postgresql.py.)"""

from __future__ import annotations

import json
import threading
import uuid

import pytest

import server_process
from client import (CHAT_COST, PASSWORD, SIGNUP_GRANT, Http, assert_ledger_consistent, bearer,
                    expect, get_balance, login, new_user)
from fake_upstream import model_entry, unique
from server_process import database_url_for
from test_operators_cli import make_superuser

pytestmark = pytest.mark.skipif(not server_process.postgresql_run(),
                                reason="needs the PostgreSQL run (CHATGATE_TEST_DATABASE_URL)")

JOIN_TIMEOUT = 120  # seconds for the clients of a test to finish
GRANT = 750  # with three top-ups of 50, nine chats of the 27 each user attempts: a third


def start_nodes(factory, count=3, name="node", **env):
    """`count` nodes on the first one's database, sharing the JWT key as nodes behind one load
    balancer do."""
    first_dir = factory.new_data_dir()
    shared = {"CHATGATE_DATABASE_URL": database_url_for(first_dir),
              "CHATGATE_JWT_SECRET": "shared-by-every-node-" + "k" * 24, **env}
    nodes = [factory.start(env=shared, data_dir=first_dir, name=f"{name}-0")]
    nodes += [factory.start(env=shared, name=f"{name}-{i}") for i in range(1, count)]
    return nodes


def run_threads(target, count):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "clients did not finish"


@pytest.fixture(scope="module")
def nodes(module_server_factory, fake_upstream):
    # The builtin model first (the default), and a slow upstream for the idempotency race.
    slow = model_entry(fake_upstream.url, unique("slow", "150"), id="slow")
    builtin = {"id": "chatgate-builtin", "provider": "builtin"}  # chat_cost_tokens a message
    return start_nodes(module_server_factory, CHATGATE_MODELS=json.dumps([builtin, slow]),
                       CHATGATE_SIGNUP_GRANT_TOKENS=str(GRANT))


def refused_everywhere(nodes, headers, path="/api/tokens/"):
    return [n.base_url for n in nodes if Http(n.base_url).get(path, headers=headers).status_code != 401]


def passes_everywhere(nodes, headers, path="/api/tokens/"):
    """Each node checks the credentials once (so a node that cached a pass would keep it)."""
    for n in nodes:
        expect(Http(n.base_url).get(path, headers=headers), 200)


# ---- money ------------------------------------------------------------------------------


def test_300_chats_and_top_ups_over_three_nodes_stay_exact(nodes):
    users = [new_user(nodes[0].base_url, "spread3") for _ in range(10)]
    per_thread = 10  # one top-up, then nine chats; three threads per user, one per node
    top_up = 50
    ok = [0] * len(users)
    topped = [0] * len(users)
    bad: list[str] = []
    lock = threading.Lock()

    def client(i: int):
        user, node = users[i // 3], nodes[i % 3]
        with Http(node.base_url) as http:
            r = http.post("/api/top-up/", json={"tokens": top_up}, headers=user.headers)
            with lock:
                if r.status_code == 200:
                    topped[i // 3] += top_up
                else:
                    bad.append(f"top-up {r.status_code} {r.text[:200]}")
            for n in range(per_thread - 1):
                r = http.post("/api/chat/", json={"message": f"m{n}"}, headers=user.headers)
                with lock:
                    if r.status_code == 200:
                        ok[i // 3] += 1
                    elif r.status_code != 403:  # Insufficient tokens, once spent
                        bad.append(f"chat {r.status_code} {r.text[:200]}")

    run_threads(client, 3 * len(users))  # 300 requests, 30 at a time
    assert not bad, bad[:5]
    for i, user in enumerate(users):
        # The grant and top-ups cover a third of the 27 chats: the rest were refused.
        assert topped[i] == 3 * top_up
        assert ok[i] == (GRANT + topped[i]) // CHAT_COST == 9
        expected = GRANT + topped[i] - CHAT_COST * ok[i]
        assert expected >= 0
        for node in nodes:  # every node sees the one balance
            assert get_balance(node.base_url, user.access) == expected
        assert_ledger_consistent(nodes[i % 3].base_url, user.access)
        assert expected < CHAT_COST  # spent down: not one chat more was possible


# ---- revocation at the next request ----------------------------------------------------


def test_a_logout_on_one_node_is_refused_on_the_others_at_once(nodes):
    user = new_user(nodes[0].base_url, "out3")
    passes_everywhere(nodes, user.headers)
    expect(Http(nodes[0].base_url).post("/api/logout/", json={"refresh": user.refresh}), 200)
    assert refused_everywhere(nodes, user.headers) == []


def test_a_reused_refresh_token_on_one_node_revokes_the_family_on_all(nodes):
    user = new_user(nodes[0].base_url, "reuse3")
    fresh = expect(Http(nodes[0].base_url).post("/api/token/refresh/", json={"refresh": user.refresh}), 200)
    passes_everywhere(nodes, bearer(fresh["access"]))
    # The old refresh token again, on node 1: reuse, the family is revoked.
    assert Http(nodes[1].base_url).post("/api/token/refresh/", json={"refresh": user.refresh}).status_code == 401
    assert refused_everywhere(nodes, bearer(fresh["access"])) == []
    assert Http(nodes[2].base_url).post("/api/token/refresh/", json={"refresh": fresh["refresh"]}).status_code == 401


def test_a_password_change_on_one_node_ends_the_old_sessions_on_all(nodes):
    user = new_user(nodes[0].base_url, "pw3")
    passes_everywhere(nodes, user.headers)
    new_password = "a-new-" + uuid.uuid4().hex
    expect(Http(nodes[2].base_url).post("/api/password/", headers=user.headers,
                                        json={"old_password": PASSWORD, "new_password": new_password}), 200)
    assert refused_everywhere(nodes, user.headers) == []
    fresh = login(Http(nodes[1].base_url), user.username, new_password)
    passes_everywhere(nodes, bearer(fresh["access"]))


def test_deactivation_and_key_revocation_on_one_node_are_refused_on_all(server_binary, nodes):
    staff = make_superuser(server_binary, nodes[0], Http(nodes[0].base_url))
    user = new_user(nodes[0].base_url, "deact3")
    key = expect(Http(nodes[1].base_url).post("/api/keys/", json={"name": "k"}, headers=user.headers), 201)
    passes_everywhere(nodes, user.headers)
    passes_everywhere(nodes, bearer(key["key"]))
    expect(Http(nodes[0].base_url).post(f"/api/admin/users/{user.user_id}/deactivate/", headers=staff.headers), 200)
    assert refused_everywhere(nodes, user.headers) == []
    assert refused_everywhere(nodes, bearer(key["key"])) == []
    expect(Http(nodes[0].base_url).post(f"/api/admin/users/{user.user_id}/activate/", headers=staff.headers), 200)
    passes_everywhere(nodes, bearer(key["key"]))
    # The key revoked by its owner on node 2: refused on every node at the next request.
    expect(Http(nodes[2].base_url).delete(f"/api/keys/{key['id']}/", headers=user.headers), 204)
    assert refused_everywhere(nodes, bearer(key["key"])) == []


# ---- Idempotency-Key ---------------------------------------------------------------------


def test_an_idempotency_key_raced_on_two_nodes_has_one_effect(nodes):
    user = new_user(nodes[0].base_url, "idem3")
    key = "race-" + uuid.uuid4().hex
    body = {"message": "a b c d", "model": "slow"}  # four words, 150 ms apart: the race is real
    start = threading.Barrier(2)
    answers: list = [None, None]

    def send(i: int):
        with Http(nodes[i].base_url) as http:
            start.wait(timeout=30)
            answers[i] = http.post("/api/chat/", json=body,
                                   headers={**user.headers, "Idempotency-Key": key})

    run_threads(send, 2)
    statuses = sorted(a.status_code for a in answers)
    assert statuses in ([200, 200], [200, 409]), [a.text for a in answers]
    done = [a for a in answers if a.status_code == 200]
    if len(done) == 2:  # the second waited for the first's answer on the other node
        assert done[0].json() == done[1].json()
        assert sorted(a.headers.get("Idempotent-Replayed", "") for a in done) == ["", "true"]
    rows = assert_ledger_consistent(nodes[1].base_url, user.access)
    assert [r["kind"] for r in rows].count("chat_charge") == 1, rows
    # A later repeat, on the third node, is the same answer again.
    again = Http(nodes[2].base_url).post("/api/chat/", json=body, headers={**user.headers, "Idempotency-Key": key})
    assert again.status_code == 200 and again.json() == done[0].json()
    assert again.headers["Idempotent-Replayed"] == "true"


# ---- shared rate limits ------------------------------------------------------------------


def test_rate_limits_and_the_login_lockout_are_one_quota_for_three_nodes(start_server):
    nodes = start_nodes(start_server.factory, name="limited",
                        CHATGATE_RATE_LIMIT_ENABLED="true",
                        CHATGATE_RATE_LIMITS="top_up=6/1h,failed_login_user=3/1h")
    user = new_user(nodes[0].base_url, "rl3")
    https = [Http(n.base_url) for n in nodes]
    # Six top-ups in all, two on each node; then every node refuses.
    for i in range(6):
        r = https[i % 3].post("/api/top-up/", json={"tokens": 1}, headers=user.headers)
        expect(r, 200)
        assert int(r.headers["RateLimit-Remaining"]) == 5 - i, "the shared count, not the node's"
    for http in https:
        r = http.post("/api/top-up/", json={"tokens": 1}, headers=user.headers)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0, r.text
    assert get_balance(nodes[1].base_url, user.access) == SIGNUP_GRANT + 6
    assert_ledger_consistent(nodes[2].base_url, user.access)
    # Three failed logins, one per node, lock the username on every node, even for the right
    # password.
    victim = new_user(nodes[0].base_url, "lock3")
    for http in https:
        r = http.post("/api/login/", json={"username": victim.username, "password": "wrong-guess"})
        assert r.status_code == 401, r.text
    for http in https:
        r = http.post("/api/login/", json={"username": victim.username, "password": PASSWORD})
        assert r.status_code == 429 and "failed login" in r.json()["detail"], r.text
    for http in https:
        http.close()
